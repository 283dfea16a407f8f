"""The committed schemas are valid JSON Schema 2020-12 and are exactly what tools/list serves."""
import json
import subprocess
from pathlib import Path

import jsonschema
import yaml

from conftest import BIN, RawServer

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def listed_tools(tmp_path):
    server = RawServer("--state-dir", str(tmp_path / "s"), cwd=tmp_path)
    tools = server.request("tools/list")["result"]["tools"]
    server.close()
    return tools


def test_every_schema_file_passes_the_2020_12_metaschema():
    files = sorted(SCHEMAS.glob("*.json"))
    assert len(files) >= 30
    for path in files:
        schema = json.loads(path.read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", path


def test_committed_schemas_equal_what_tools_list_returns(tmp_path):
    tools = listed_tools(tmp_path)
    committed = {p.name for p in SCHEMAS.glob("*.*put.json")}
    assert committed == {f"{t['name']}.{kind}.json" for t in tools for kind in ("input", "output")}
    for tool in tools:
        assert json.loads((SCHEMAS / f"{tool['name']}.input.json").read_text()) == tool["inputSchema"]
        assert json.loads((SCHEMAS / f"{tool['name']}.output.json").read_text()) == tool["outputSchema"]


def test_write_schemas_reproduces_the_committed_files(tmp_path):
    subprocess.run([BIN, "tools", "--write-schemas", str(tmp_path / "out")], check=True, capture_output=True)
    for path in (tmp_path / "out").glob("*.json"):
        assert path.read_text() == (SCHEMAS / path.name).read_text(), f"schemas/{path.name} is stale: run vectorjobs tools --write-schemas schemas"


def test_every_tool_is_described_and_annotated(tmp_path):
    for tool in listed_tools(tmp_path):
        assert tool["description"] and tool["title"]
        assert tool["inputSchema"]["type"] == "object" and tool["outputSchema"]["type"] == "object"
        assert set(tool["annotations"]) >= {"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}
        assert len(tool["name"]) <= 128


def test_the_example_profiles_file_matches_the_profiles_schema():
    schema = json.loads((SCHEMAS / "profiles.schema.json").read_text())
    example = yaml.safe_load((SCHEMAS.parent / "examples" / "profiles.yaml").read_text())
    jsonschema.validate(example, schema)


def test_job_resources_match_their_schema(tmp_path):
    from conftest import write_vectors
    schema = json.loads((SCHEMAS / "job-resource.schema.json").read_text())
    write_vectors(tmp_path / "v.jsonl", 20)
    server = RawServer("--state-dir", str(tmp_path / "s"), cwd=tmp_path)
    job = server.call("adbpg_upsert_collection_data_async", {"collection": "c", "file_path": "v.jsonl"})["structuredContent"]["job"]
    read = server.request("resources/read", {"uri": f"vectorjobs://jobs/{job['job_id']}"})["result"]["contents"][0]
    server.close()
    jsonschema.validate(json.loads(read["text"]), schema)
    tool_schema = json.loads((SCHEMAS / "job_get.output.json").read_text())
    assert schema["properties"]["job"] == tool_schema["properties"]["job"]
