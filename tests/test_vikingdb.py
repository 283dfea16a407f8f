"""VikingDB through our server against `vectorjobs emulate`: every tool, inline limits, bulk jobs under faults,
resume after SIGKILL, and the rows-per-second limit."""
import json
import os
import signal
import subprocess
import time
import urllib.request

import anyio
import jsonschema
from mcp import Client, StdioServerParameters

from conftest import BIN, RawServer

FIELDS = {"id": "int64", "vec": "vector", "tag": "string", "score": "float32"}
COLLECTIONS = {"collections": [
    {"name": "items", "resource_id": "vdb-items", "primary_key": "id", "primary_key_type": "int64", "fields": FIELDS, "dimension": 3},
    {"name": "texts", "primary_key": "id", "primary_key_type": "int64", "fields": {"id": "int64", "text": "text"}, "vectorize": True},
]}


class Viking:
    def __init__(self, tmp_path, rows_per_second=None):
        config = tmp_path / "collections.json"
        config.write_text(json.dumps(COLLECTIONS))
        args = [BIN, "emulate", "--port", "0", "--data-dir", str(tmp_path / "emu"), "--viking-collections", str(config)]
        if rows_per_second:
            args += ["--viking-rows-per-second", str(rows_per_second)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.url = json.loads(self.proc.stdout.readline())["url"]
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def get(self, path):
        return json.loads(self.opener.open(self.url + path).read())

    def state(self, collection, dump=False):
        return self.get(f"/_emulator/viking?collection={collection}" + ("&dump=1" if dump else ""))["result"]

    def requests(self):
        counts = self.get("/_emulator/state")["requests"]
        return {k: v for k, v in counts.items() if not k.startswith(("State", "Viking"))} | {k: v for k, v in counts.items() if k.startswith("VikingDB")}

    def faults(self, **shares):
        self.opener.open(urllib.request.Request(self.url + "/_emulator/faults", data=json.dumps({"viking": shares}).encode(), method="POST")).read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def profiles(path, viking, rate=1_000_000, concurrency=4):
    path.write_text(f"""version: 1
files: {{ allowed_roots: ["{path.parent}"] }}
profiles:
  viking:
    provider: vikingdb
    region: cn-beijing
    host: {viking.url}
    credentials: {{ access_key_id: testid, secret_access_key: testsecret }}
    rate_limit: {{ rows_per_second: {rate} }}
    concurrency: {concurrency}
    retry: {{ attempts: 5, base_delay: 20ms, max_delay: 500ms }}
    collections:
      items: {{ primary_key: id, fields: [id, vec, tag, score] }}
      texts: {{ primary_key: id, vectorize: true, fields: [id, text] }}
""")
    return str(path)


def rows_file(path, count, start=1, tag="t"):
    with open(path, "w") as f:
        for i in range(start, start + count):
            f.write(json.dumps({"id": i, "vec": [i % 97 / 10, 0.5, -1.0], "tag": f"{tag}{i}", "score": i / 1000}) + "\n")
    return str(path)


def test_every_vikingdb_tool_through_the_mcp_client(tmp_path):
    viking = Viking(tmp_path)
    try:
        work = tmp_path / "work"
        work.mkdir()
        data = rows_file(work / "rows.jsonl", 250)
        config = profiles(work / "profiles.yaml", viking)

        async def flow():
            params = StdioServerParameters(command=BIN, args=["serve", "--profiles", config, "--state-dir", str(tmp_path / "state")], cwd=str(work))
            async with Client(params, mode="auto", read_timeout_seconds=60) as client:
                tools = {t.name: t for t in (await client.list_tools()).tools}

                async def ok(name, arguments):
                    result = await client.call_tool(name, arguments)
                    assert not result.is_error, result.content
                    jsonschema.validate(result.structured_content, tools[name].output_schema)
                    return result.structured_content

                async def refused(name, arguments, needle):
                    result = await client.call_tool(name, arguments)
                    assert result.is_error and needle in result.content[0].text, result.content

                assert (await ok("vikingdb_upsert_data", {"collection_name": "items", "data": [{"id": 1, "vec": [1, 2, 3], "tag": "a"}], "ttl": 60}))["rows"] == 1
                await ok("vikingdb_update_data", {"resource_id": "vdb-items", "data": [{"id": 1, "tag": "b"}]})
                fetched = await ok("vikingdb_fetch_data", {"collection_name": "items", "ids": [1, 2]})
                assert fetched["fetch"][0]["fields"]["tag"] == "b" and fetched["ids_not_exist"] == [2]
                await ok("vikingdb_delete_data", {"collection_name": "items", "ids": [1]})
                assert (await ok("vikingdb_fetch_data", {"collection_name": "items", "ids": [1]}))["ids_not_exist"] == [1]
                job = (await ok("vikingdb_upsert_data_async", {"collection_name": "items", "file_path": data}))["job"]
                done = (await ok("job_wait", {"job_id": job["job_id"], "timeout_seconds": 30}))["job"]
                assert done["state"] == "succeeded" and done["progress"] == {"done": 250, "total": 250, "unit": "rows", "percent": 100.0}
                update = rows_file(work / "update.jsonl", 250, tag="u")
                job = (await ok("vikingdb_update_data_async", {"collection_name": "items", "file_path": update}))["job"]
                assert (await ok("job_wait", {"job_id": job["job_id"], "timeout_seconds": 30}))["job"]["state"] == "succeeded"
                assert (await ok("vikingdb_fetch_data", {"collection_name": "items", "ids": [7]}))["fetch"][0]["fields"]["tag"] == "u7"

                before = viking.requests()
                await refused("vikingdb_upsert_data", {"collection_name": "items", "data": [{"id": i, "vec": [1, 2, 3]} for i in range(1, 102)]}, "$.data")
                await refused("vikingdb_upsert_data", {"collection_name": "items", "data": [{"id": 0, "vec": [1, 2, 3]}]}, "may not be 0")
                await refused("vikingdb_upsert_data", {"collection_name": "items", "data": [{"id": 3, "vec": [1, 2, 3]}], "ttl": -1}, "$.ttl")
                await refused("vikingdb_upsert_data", {"collection_name": "items", "data": [{"id": 3, "colour": "red"}]}, "unknown field \"colour\"")
                await refused("vikingdb_update_data", {"collection_name": "texts", "data": [{"id": 1, "text": "a"}, {"id": 2, "text": "b"}]}, "at most 1")
                await refused("vikingdb_delete_data", {"collection_name": "items"}, "nothing was deleted")
                await refused("vikingdb_upsert_data", {"collection_name": "items", "resource_id": "vdb-items", "data": [{"id": 3}]}, "exactly one")
                assert viking.requests() == before  # nothing reached the emulator

        anyio.run(flow)
    finally:
        viking.stop()


def test_bulk_upsert_of_100000_rows_through_injected_faults(tmp_path):
    viking = Viking(tmp_path)
    try:
        work = tmp_path / "work"
        work.mkdir()
        data = rows_file(work / "big.jsonl", 100_000)
        viking.faults(p503=0.10, p429=0.05, pdrop=0.02)
        server = RawServer("--profiles", profiles(work / "profiles.yaml", viking), "--state-dir", str(tmp_path / "state"), cwd=work)
        job = server.call("vikingdb_upsert_data_async", {"collection_name": "items", "file_path": data})["structuredContent"]["job"]
        while True:
            waited = server.call("job_wait", {"job_id": job["job_id"], "timeout_seconds": 60}, timeout=120)["structuredContent"]
            if not waited["timed_out"]:
                break
        server.close()
        assert waited["job"]["state"] == "succeeded", waited["job"]
        viking.faults()
        state = viking.state("items", dump=True)
        assert state["rows"] == 100_000
        stored = {row["id"]: row for row in state["data"]}
        with open(data) as f:
            for line in f:
                row = json.loads(line)
                assert stored[row["id"]] == row
        print(f"bulk under faults: {state['writes']} accepted writes, {state['rewritten_rows']} rows written more than once")
    finally:
        viking.stop()


def test_a_killed_bulk_update_resumes_in_the_next_server(tmp_path):
    viking = Viking(tmp_path)
    try:
        work = tmp_path / "work"
        work.mkdir()
        base = rows_file(work / "base.jsonl", 12_000)
        update = rows_file(work / "update.jsonl", 12_000, tag="new")
        fast = profiles(work / "fast.yaml", viking)
        server = RawServer("--profiles", fast, "--state-dir", str(tmp_path / "state"), cwd=work)
        job = server.call("vikingdb_upsert_data_async", {"collection_name": "items", "file_path": base})["structuredContent"]["job"]
        assert server.call("job_wait", {"job_id": job["job_id"], "timeout_seconds": 60})["structuredContent"]["job"]["state"] == "succeeded"
        server.close()

        slow = profiles(work / "slow.yaml", viking, rate=3000, concurrency=2)
        server = RawServer("--profiles", slow, "--state-dir", str(tmp_path / "state"), cwd=work)
        job = server.call("vikingdb_update_data_async", {"collection_name": "items", "file_path": update})["structuredContent"]["job"]
        time.sleep(2)
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait()
        acknowledged_before = viking.state("items")["writes"]

        resumed = RawServer("--profiles", slow, "--state-dir", str(tmp_path / "state"), cwd=work)
        mid = resumed.call("job_get", {"job_id": job["job_id"]})["structuredContent"]["job"]
        assert mid["state"] == "running" and 0 < mid["progress"]["done"] < 12_000
        while True:
            waited = resumed.call("job_wait", {"job_id": job["job_id"], "timeout_seconds": 30}, timeout=60)["structuredContent"]
            if not waited["timed_out"]:
                break
        resumed.close()
        assert waited["job"]["state"] == "succeeded" and waited["job"]["progress"]["done"] == 12_000
        state = viking.state("items", dump=True)
        assert state["rows"] == 12_000
        with open(update) as f:
            expected = {json.loads(line)["id"]: json.loads(line) for line in f}
        assert {row["id"]: row for row in state["data"]} == expected
        # Every row was written by the base upsert and once by the update; only the batches in flight at the kill
        # (at most concurrency × 100 = 200 rows) were sent again.
        assert state["rewritten_rows"] == 12_000
        resent = viking.get("/_emulator/viking?collection=items&over=2")["result"]["rewritten_rows"]
        assert acknowledged_before > 0 and resent <= 200, resent
        print(f"resumed after SIGKILL: {resent} rows sent again")
    finally:
        viking.stop()


def test_bulk_jobs_keep_under_the_rows_per_second_limit(tmp_path):
    viking = Viking(tmp_path)
    try:
        work = tmp_path / "work"
        work.mkdir()
        data = rows_file(work / "rows.jsonl", 6000)
        server = RawServer("--profiles", profiles(work / "profiles.yaml", viking, rate=1500), "--state-dir", str(tmp_path / "state"), cwd=work)
        started = time.time()
        job = server.call("vikingdb_upsert_data_async", {"collection_name": "items", "file_path": data})["structuredContent"]["job"]
        done = server.call("job_wait", {"job_id": job["job_id"], "timeout_seconds": 60}, timeout=90)["structuredContent"]["job"]
        elapsed = time.time() - started
        server.close()
        assert done["state"] == "succeeded"
        state = viking.state("items")
        assert state["rows"] == 6000
        assert state["peak_rows_per_second"] <= 1500, state
        assert elapsed >= 3.0  # 6,000 rows at 1,500 rows/s cannot finish sooner
    finally:
        viking.stop()


def test_invalid_rows_fail_the_job_with_their_lines_or_are_skipped(tmp_path):
    viking = Viking(tmp_path)
    try:
        work = tmp_path / "work"
        work.mkdir()
        lines = [json.dumps({"id": i, "vec": [1, 2, 3], "tag": f"t{i}"}) for i in range(1, 301)]
        lines[41] = json.dumps({"id": 42, "vec": [1, 2], "tag": "bad dimension"})
        lines[199] = "not json at all"
        (work / "mixed.jsonl").write_text("\n".join(lines) + "\n")
        server = RawServer("--profiles", profiles(work / "profiles.yaml", viking), "--state-dir", str(tmp_path / "state"), cwd=work)
        strict = server.call("vikingdb_upsert_data_async", {"collection_name": "items", "file_path": "mixed.jsonl"})["structuredContent"]["job"]
        failed = server.call("job_wait", {"job_id": strict["job_id"], "timeout_seconds": 30})["structuredContent"]["job"]
        assert failed["state"] == "failed"
        assert "lines 1–100" in failed["error"] or "line 200" in failed["error"], failed["error"]
        lenient = server.call("vikingdb_upsert_data_async", {"collection_name": "items", "file_path": "mixed.jsonl",
                                                              "skip_invalid_rows": True})["structuredContent"]["job"]
        done = server.call("job_wait", {"job_id": lenient["job_id"], "timeout_seconds": 30})["structuredContent"]["job"]
        server.close()
        assert done["state"] == "succeeded" and done["progress"]["done"] == 298
        assert "skipped 2 invalid row(s); first lines: 42, 200" in done["error"]
        assert viking.state("items")["rows"] == 298
    finally:
        viking.stop()


def test_cancel_stops_a_bulk_job_after_the_batches_in_flight(tmp_path):
    viking = Viking(tmp_path)
    try:
        work = tmp_path / "work"
        work.mkdir()
        data = rows_file(work / "rows.jsonl", 8000)
        server = RawServer("--profiles", profiles(work / "profiles.yaml", viking, rate=1000, concurrency=2), "--state-dir",
                           str(tmp_path / "state"), cwd=work)
        job = server.call("vikingdb_upsert_data_async", {"collection_name": "items", "file_path": data})["structuredContent"]["job"]
        time.sleep(1.5)
        assert server.call("job_cancel", {"job_id": job["job_id"]})["structuredContent"]["job"]["state"] in ("cancelling", "cancelled")
        final = server.call("job_wait", {"job_id": job["job_id"], "timeout_seconds": 20})["structuredContent"]["job"]
        assert final["state"] == "cancelled" and 0 < final["progress"]["done"] < 8000
        stored = viking.state("items")["rows"]
        time.sleep(1.0)
        assert viking.state("items")["rows"] == stored  # nothing more is sent
        assert stored >= final["progress"]["done"]
        server.close()
    finally:
        viking.stop()
