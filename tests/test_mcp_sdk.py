"""The official MCP Python SDK client drives the whole upload flow over stdio (acceptance of the core issue)."""
import anyio
import jsonschema
import pytest
from mcp import Client, StdioServerParameters

from conftest import BIN, write_vectors

EXPECTED_TOOLS = {
    "adbpg_upsert_collection_data_async", "adbpg_get_upsert_collection_data_job", "adbpg_cancel_upsert_collection_data_job",
    "job_get", "job_wait", "job_cancel", "jobs_list", "profiles_list", "validate_vectors_file",
}


def check_output(tools, name, result):
    """Every successful result carries structuredContent that matches the tool's outputSchema."""
    assert not result.is_error, result.content
    jsonschema.validate(result.structured_content, tools[name].output_schema)
    return result.structured_content


async def upload_flow(tmp_path, mode):
    data = write_vectors(tmp_path / "vectors.jsonl", 10_000)
    second = write_vectors(tmp_path / "second.jsonl", 10_000, seed=2)
    params = StdioServerParameters(command=BIN, args=["serve", "--state-dir", str(tmp_path / "state"), "--emulator-pace", "3000"],
                                   cwd=str(tmp_path))
    async with Client(params, mode=mode, read_timeout_seconds=120) as client:
        listed = await client.list_tools()
        tools = {t.name: t for t in listed.tools}
        assert EXPECTED_TOOLS <= set(tools)
        for tool in listed.tools:
            assert tool.output_schema is not None and tool.description

        started = check_output(tools, "adbpg_upsert_collection_data_async", await client.call_tool(
            "adbpg_upsert_collection_data_async", {"collection": "docs", "file_path": data}))
        job = started["job"]
        assert job["state"] in ("running", "queued") and job["progress"]["total"] == 10_000
        assert started["validation"] == {"rows": 10_000, "dimension": 8, "bytes": started["validation"]["bytes"]}

        updates = []

        async def on_progress(progress, total, message):
            updates.append(progress)

        waited = check_output(tools, "job_wait", await client.call_tool(
            "job_wait", {"job_id": job["job_id"], "timeout_seconds": 60}, progress_callback=on_progress))
        assert waited["timed_out"] is False
        assert waited["job"]["state"] == "succeeded"
        assert waited["job"]["progress"]["done"] == 10_000
        assert len(updates) >= 2, updates
        assert all(b > a for a, b in zip(updates, updates[1:])), updates

        got = check_output(tools, "adbpg_get_upsert_collection_data_job", await client.call_tool(
            "adbpg_get_upsert_collection_data_job", {"collection": "docs", "job_id": job["job_id"]}))
        assert got["remote_job"]["Status"] == "Success"
        assert got["remote_job"]["Progress"] == 10_000
        assert got["job"]["job_id"] == job["job_id"]

        # A second, paced job (3,000 rows/s, so about 3 s long) is cancelled through the API tool.
        paced = check_output(tools, "adbpg_upsert_collection_data_async", await client.call_tool(
            "adbpg_upsert_collection_data_async", {"collection": "other", "file_path": second}))["job"]
        await anyio.sleep(0.6)
        cancelled = check_output(tools, "adbpg_cancel_upsert_collection_data_job", await client.call_tool(
            "adbpg_cancel_upsert_collection_data_job", {"collection": "other", "job_id": paced["remote_job_id"]}))
        assert cancelled["job"]["job_id"] == paced["job_id"]
        assert cancelled["job"]["state"] in ("cancelling", "cancelled")
        assert "stay" in cancelled["note"]
        final = check_output(tools, "job_wait", await client.call_tool("job_wait", {"job_id": paced["job_id"], "timeout_seconds": 30}))
        assert final["job"]["state"] == "cancelled"
        assert final["job"]["progress"]["done"] < 10_000

        listed_jobs = check_output(tools, "jobs_list", await client.call_tool("jobs_list", {"limit": 1}))
        assert len(listed_jobs["jobs"]) == 1 and listed_jobs["next_cursor"]
        page2 = check_output(tools, "jobs_list", await client.call_tool("jobs_list", {"limit": 5, "cursor": listed_jobs["next_cursor"]}))
        assert {j["job_id"] for j in page2["jobs"]} | {listed_jobs["jobs"][0]["job_id"]} == {job["job_id"], paced["job_id"]}

        profiles = check_output(tools, "profiles_list", await client.call_tool("profiles_list", {}))
        assert profiles["profiles"][0]["name"] == "embedded-adbpg"

        report = check_output(tools, "validate_vectors_file", await client.call_tool("validate_vectors_file", {"file_path": data}))
        assert report["valid"] and report["rows"] == 10_000

        # A finished job cannot be cancelled: a clear isError result, not a protocol error.
        refused = await client.call_tool("job_cancel", {"job_id": job["job_id"]})
        assert refused.is_error and "already ended" in refused.content[0].text


@pytest.mark.parametrize("mode", ["2026-07-28", "auto", "legacy"])
def test_sdk_client_uploads_follows_and_cancels(tmp_path, mode):
    anyio.run(upload_flow, tmp_path, mode)
