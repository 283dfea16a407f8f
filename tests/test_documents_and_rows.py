"""Document uploads, synchronous upserts and deletes through our server (MCP SDK client) against `vectorjobs emulate`."""
import json
import time
import urllib.request

import anyio
import jsonschema
import pytest
from mcp import Client, StdioServerParameters

from conftest import BIN, Emulator, RawServer, emulate_profiles, write_vectors


def fetch(url):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url) as r:
        return r.read().decode()


def markdown(path):
    sections = [f"## Section {i}\n\n" + " ".join(f"Sentence {i}.{j} says something about vectors." for j in range(12)) for i in range(10)]
    path.write_text("# Handbook\n\n" + "\n\n".join(sections))
    return str(path)


def csv(path):
    lines = ["name,city,notes"] + [f'item {i},Hangzhou,"a note, with a comma, number {i}"' for i in range(60)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_documents_from_disk_through_the_mcp_client(tmp_path, emulator):
    work = tmp_path / "work"
    work.mkdir()
    md = markdown(work / "handbook.md")
    table = csv(work / "table.csv")
    profiles = emulate_profiles(work / "profiles.yaml", emulator)

    async def flow():
        params = StdioServerParameters(command=BIN, args=["serve", "--profiles", profiles, "--state-dir", str(tmp_path / "state")], cwd=str(work))
        async with Client(params, mode="legacy", read_timeout_seconds=60) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}

            async def call(name, arguments):
                result = await client.call_tool(name, arguments)
                assert not result.is_error, result.content
                jsonschema.validate(result.structured_content, tools[name].output_schema)
                return result.structured_content

            for path, size, overlap in [(md, 400, 40), (table, 200, 0)]:
                job = (await call("adbpg_upload_document_async", {"collection": "kb", "file_path": path, "chunk_size": size,
                                                                  "chunk_overlap": overlap, "metadata": {"origin": "test"}}))["job"]
                assert job["kind"] == "adbpg.upload_document" and job["progress"]["unit"] == "percent"
                done = (await call("job_wait", {"job_id": job["job_id"], "timeout_seconds": 30}))["job"]
                assert done["state"] == "succeeded" and done["progress"]["done"] == 100
                got = await call("adbpg_get_upload_document_job", {"collection": "kb", "job_id": job["job_id"]})
                assert got["usage"]["EmbeddingTokens"] > 0 and got["usage"]["EmbeddingEntries"] > 1
                chunks = [json.loads(line) for line in fetch(got["chunk_result"]["ChunkFileUrl"]).splitlines()]
                assert len(chunks) == got["usage"]["EmbeddingEntries"]
                assert all(0 < len(c["page_content"]) <= size for c in chunks), [len(c["page_content"]) for c in chunks]
                assert all(c["metadata"]["origin"] == "test" for c in chunks)
                assert "Sentence" in fetch(got["chunk_result"]["PlainChunkFileUrl"]) or "Hangzhou" in fetch(got["chunk_result"]["PlainChunkFileUrl"])

                # A finished job cannot be cancelled: a clear isError result.
                refused = await client.call_tool("adbpg_cancel_upload_document_job", {"collection": "kb", "job_id": job["job_id"]})
                assert refused.is_error and "already ended" in refused.content[0].text

            dry = (await call("adbpg_upload_document_async", {"collection": "kb", "file_path": md, "chunk_size": 300, "dry_run": True}))["job"]
            await call("job_wait", {"job_id": dry["job_id"], "timeout_seconds": 30})
            got = await call("adbpg_get_upload_document_job", {"collection": "kb", "job_id": dry["remote_job_id"]})
            assert got["job"]["job_id"] == dry["job_id"]
            assert got["usage"] == {"EmbeddingTokens": 0, "EmbeddingEntries": 0}
            assert len(fetch(got["chunk_result"]["ChunkFileUrl"]).splitlines()) > 1

    anyio.run(flow)


def test_upsert_then_fetch_and_delete(tmp_path, emulator):
    work = tmp_path / "work"
    work.mkdir()
    server = RawServer("--profiles", emulate_profiles(work / "profiles.yaml", emulator), "--state-dir", str(tmp_path / "state"), cwd=work)
    rows = [{"Id": f"id-{i}", "Metadata": {"title": f"Titre n°{i} — 向量 ✓", "year": str(2018 + i)}, "Vector": [i / 10, -0.5, 1e-05, 3.0]}
            for i in range(5)]
    rows[0]["SparseVector"] = {"Indices": [3, 9], "Values": [0.25, 0.5]}
    result = server.call("adbpg_upsert_collection_data", {"collection": "rows", "rows": rows})
    assert not result["isError"], result
    assert result["structuredContent"]["rows"] == 5
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    stored = json.loads(opener.open(emulator.url + "/_emulator/rows?collection=rows").read())["rows"]
    assert stored == sorted(rows, key=lambda r: r["Id"])

    by_ids = server.call("adbpg_delete_collection_data", {"collection": "rows", "ids": ["id-0", "id-1", "missing"]})
    assert by_ids["structuredContent"]["applied_rows"] == 2
    by_filter = server.call("adbpg_delete_collection_data", {"collection": "rows", "collection_data_filter": "year >= '2021'"})
    assert by_filter["structuredContent"]["applied_rows"] == 2
    left = json.loads(opener.open(emulator.url + "/_emulator/rows?collection=rows").read())["rows"]
    assert [r["Id"] for r in left] == ["id-2"]
    nothing = server.call("adbpg_delete_collection_data", {"collection": "rows"})
    assert nothing["isError"] and "say what to delete" in nothing["content"][0]["text"]
    server.close()


def test_throttled_calls_back_off_and_forbidden_reaches_the_agent(tmp_path, emulator):
    work = tmp_path / "work"
    work.mkdir()
    server = RawServer("--profiles", emulate_profiles(work / "profiles.yaml", emulator, attempts=5), "--state-dir", str(tmp_path / "state"), cwd=work)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    faults = urllib.request.Request(emulator.url + "/_emulator/faults", data=json.dumps({"throttle": 3, "retry_after_ms": 400}).encode(),
                                    method="POST")
    opener.open(faults).read()
    started = time.time()
    result = server.call("adbpg_upsert_collection_data", {"collection": "t", "rows": [{"Id": "a", "Vector": [1, 2]}]})
    elapsed = time.time() - started
    assert not result["isError"], result
    assert elapsed >= 1.2, elapsed  # three waits of at least the advised 400 ms
    assert emulator.state()["requests"]["UpsertCollectionData"] == 4

    opener.open(urllib.request.Request(emulator.url + "/_emulator/faults", data=json.dumps({"forbidden": 1}).encode(), method="POST")).read()
    refused = server.call("adbpg_upsert_collection_data", {"collection": "t", "rows": [{"Id": "b", "Vector": [1, 2]}]})
    assert refused["isError"]
    assert "Forbidden.RAM" in refused["content"][0]["text"] and "RAM permission" in refused["content"][0]["text"]
    assert emulator.state()["requests"]["UpsertCollectionData"] == 5  # not retried
    server.close()


def test_bad_input_is_refused_before_anything_is_sent(tmp_path, emulator):
    work = tmp_path / "work"
    work.mkdir()
    doc = markdown(work / "doc.md")
    (work / "noext").write_text("text")
    server = RawServer("--profiles", emulate_profiles(work / "profiles.yaml", emulator), "--state-dir", str(tmp_path / "state"), cwd=work)

    def refused(name, arguments, *needles):
        result = server.call(name, arguments)
        assert result["isError"], result
        text = result["content"][0]["text"]
        for needle in needles:
            assert needle in text, text

    refused("adbpg_upload_document_async", {"collection": "kb", "file_path": doc, "chunk_size": 100, "chunk_overlap": 200},
            "chunk_overlap (200) must not exceed chunk_size (100)")
    refused("adbpg_upload_document_async", {"collection": "kb", "file_path": doc, "chunk_size": 4096}, "$.chunk_size", "2048")
    refused("adbpg_upload_document_async", {"collection": "kb", "file_path": doc, "document_loader_name": "MagicLoader"},
            "$.document_loader_name", "must be one of")
    refused("adbpg_upload_document_async", {"collection": "kb", "file_path": str(work / "noext")}, "needs an extension")
    refused("adbpg_upload_document_async", {"collection": "kb", "file_url": "https://example.com/x", "file_name": "x"},
            "$.file_name", "pattern")
    refused("adbpg_upsert_collection_data", {"collection": "r", "rows": [{"Id": "a", "Metadata": {"n": 1}, "Vector": [1]}]},
            "$.rows[0].Metadata.n", "expected string")
    refused("adbpg_upsert_collection_data", {"collection": "r", "rows": [{"Id": "", "Vector": [1]}]}, "$.rows[0].Id", "must not be empty")
    big = [{"Id": f"row-{i:06d}", "Vector": [0.123456789] * 190} for i in range(3900)]  # about 10.5 MB once form-encoded
    refused("adbpg_upsert_collection_data", {"collection": "r", "rows": big}, "over the 10 MB limit", "adbpg_upsert_collection_data_async")
    server.close()
    counts = emulator.state()["requests"]
    assert not any(k in counts for k in ("UploadDocumentAsync", "UpsertCollectionData", "AuthorizeFileUpload")), counts
