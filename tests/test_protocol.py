"""The server over its real pipes: framing, bad input, concurrency, and jobs that outlive their process."""
import json
import os
import subprocess
import threading
import time

from conftest import BIN, RawServer, write_vectors


def initialize(server):
    reply = server.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})
    assert reply["result"]["protocolVersion"] == "2025-06-18"
    server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})


def test_version_negotiation_echoes_known_versions_and_offers_the_newest_otherwise(tmp_path):
    for asked, answered in [("2024-11-05", "2024-11-05"), ("2025-03-26", "2025-03-26"), ("2025-11-25", "2025-11-25"),
                            ("1999-01-01", "2025-11-25")]:
        server = RawServer("--state-dir", str(tmp_path / "s"), cwd=tmp_path)
        reply = server.request("initialize", {"protocolVersion": asked, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})
        assert reply["result"]["protocolVersion"] == answered
        assert server.request("ping")["result"] == {}
        assert server.close() == 0


def test_bad_input_gets_clear_errors_and_the_server_keeps_serving(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"Id":"a","Vector":[1,2]}\n{"Id":"b","Vector":[1,"x"]}\n{"Id":"c","Vector":[1,2,3]}\n')
    server = RawServer("--state-dir", str(tmp_path / "s"), "--max-line-bytes", "4096", cwd=tmp_path)
    server.send_line("this is not json")
    reply = server.next_message()
    assert reply["id"] is None and reply["error"]["code"] == -32700

    server.send({"jsonrpc": "2.0", "id": 7})
    reply = server.next_message()
    assert reply["id"] == 7 and reply["error"]["code"] == -32600 and "method" in reply["error"]["message"]

    server.send_line(json.dumps({"jsonrpc": "2.0", "id": 8, "method": "ping", "params": {"pad": "x" * 10_000}}))
    reply = server.next_message()
    assert reply["error"]["code"] == -32600 and "4096" in reply["error"]["message"]
    assert server.request("ping")["result"] == {}

    unknown = server.request("tools/call", {"name": "no_such_tool", "arguments": {}})
    assert unknown["error"]["code"] == -32602 and "no_such_tool" in unknown["error"]["message"]

    broken = server.call("adbpg_upsert_collection_data_async", {"collection": 5, "surprise": True})
    assert broken["isError"]
    text = broken["content"][0]["text"]
    assert "$.collection" in text and "(rule: type)" in text and "$.surprise" in text and "additionalProperties" in text

    invalid = server.call("adbpg_upsert_collection_data_async", {"collection": "docs", "file_path": str(bad)})
    assert invalid["isError"]
    assert "line 2" in invalid["content"][0]["text"] and "line 3" in invalid["content"][0]["text"]
    assert "nothing was uploaded" in invalid["content"][0]["text"]

    assert server.request("no/such/method")["error"]["code"] == -32601
    assert server.request("server/discover", {})["error"]["code"] == -32602  # the 2026-07-28 envelope is required
    assert server.request("ping")["result"] == {}
    assert server.close() == 0
    # Nothing reached the provider for the invalid file.
    import sqlite3
    db = sqlite3.connect(tmp_path / "s" / "embedded" / "emulator.sqlite")
    assert db.execute("SELECT COUNT(*) FROM emulator_requests").fetchone()[0] == 0


def test_file_paths_outside_the_allowed_roots_are_refused_also_through_symlinks(tmp_path):
    inside = tmp_path / "work"
    outside = tmp_path / "elsewhere"
    inside.mkdir()
    outside.mkdir()
    target = write_vectors(outside / "secret.jsonl", 10)
    os.symlink(target, inside / "link.jsonl")
    server = RawServer("--state-dir", str(tmp_path / "s"), cwd=inside)
    for path in [target, str(inside / "link.jsonl"), "../elsewhere/secret.jsonl"]:
        result = server.call("validate_vectors_file", {"file_path": path})
        assert result["isError"] and "outside the allowed roots" in result["content"][0]["text"], result
    ok = server.call("validate_vectors_file", {"file_path": write_vectors(inside / "ok.jsonl", 10)})
    assert not ok["isError"] and ok["structuredContent"]["rows"] == 10
    server.close()


def test_tools_answer_as_plain_methods_and_before_initialize(tmp_path):
    write_vectors(tmp_path / "v.jsonl", 25)
    server = RawServer("--state-dir", str(tmp_path / "s"), cwd=tmp_path)
    reply = server.request("validate_vectors_file", {"file_path": "v.jsonl"})
    assert reply["result"]["rows"] == 25 and reply["result"]["valid"] is True
    bad = server.request("validate_vectors_file", {"file_path": 3})
    assert bad["error"]["code"] == -32602 and bad["error"]["data"]["violations"][0]["path"] == "$.file_path"
    failing = server.request("job_get", {"job_id": "job_" + "a" * 26})
    assert failing["error"]["code"] == -32000 and "unknown job" in failing["error"]["message"]
    server.close()


def test_tools_list_pages_with_a_cursor(tmp_path):
    server = RawServer("--state-dir", str(tmp_path / "s"), "--page-size", "4", cwd=tmp_path)
    names, cursor = [], None
    while True:
        page = server.request("tools/list", {"cursor": cursor} if cursor else {})["result"]
        assert len(page["tools"]) <= 4
        names += [t["name"] for t in page["tools"]]
        cursor = page.get("nextCursor")
        if not cursor:
            break
    everything = RawServer("--state-dir", str(tmp_path / "s2"), cwd=tmp_path)
    all_names = [t["name"] for t in everything.request("tools/list")["result"]["tools"]]
    everything.close()
    assert names == all_names and len(set(names)) == len(names) > 4
    assert server.request("tools/list", {"cursor": "garbage"})["error"]["code"] == -32602
    server.close()


def test_a_job_made_by_one_process_is_read_waited_on_and_cancelled_by_the_next(tmp_path):
    data = write_vectors(tmp_path / "v.jsonl", 20_000)
    state = str(tmp_path / "state")
    first = RawServer("--state-dir", state, "--emulator-pace", "2000", cwd=tmp_path)
    initialize(first)
    job = first.call("adbpg_upsert_collection_data_async", {"collection": "docs", "file_path": data})["structuredContent"]["job"]
    assert first.close() == 0

    second = RawServer("--state-dir", state, "--emulator-pace", "2000", cwd=tmp_path)
    initialize(second)
    got = second.call("job_get", {"job_id": job["job_id"]})["structuredContent"]["job"]
    assert got["state"] == "running" and got["remote_job_id"] == job["remote_job_id"]
    waited = second.call("job_wait", {"job_id": job["job_id"], "timeout_seconds": 1.5},
                         meta={"progressToken": "w1"})["structuredContent"]
    assert waited["timed_out"] is True and waited["job"]["state"] == "running"
    assert 0 < waited["job"]["progress"]["done"] < 20_000
    progress = [n["params"] for n in second.notifications if n["method"] == "notifications/progress"]
    assert progress and all(p["progressToken"] == "w1" for p in progress)
    cancelled = second.call("job_cancel", {"job_id": job["job_id"]})["structuredContent"]["job"]
    assert cancelled["state"] in ("cancelling", "cancelled")
    final = second.call("job_wait", {"job_id": job["job_id"], "timeout_seconds": 20})["structuredContent"]["job"]
    assert final["state"] == "cancelled"
    listed = second.call("jobs_list", {"state": ["cancelled"]})["structuredContent"]["jobs"]
    assert [j["job_id"] for j in listed] == [job["job_id"]]
    assert second.close() == 0


def test_a_queued_job_is_submitted_by_a_later_process_when_its_turn_comes(tmp_path):
    a = write_vectors(tmp_path / "a.jsonl", 3000)
    b = write_vectors(tmp_path / "b.jsonl", 3000, seed=3, start=3000)
    state = str(tmp_path / "state")
    first = RawServer("--state-dir", state, "--emulator-pace", "3000", cwd=tmp_path)
    one = first.call("adbpg_upsert_collection_data_async", {"collection": "same", "file_path": a})["structuredContent"]["job"]
    two = first.call("adbpg_upsert_collection_data_async", {"collection": "same", "file_path": b})["structuredContent"]["job"]
    assert one["state"] == "running" and two["state"] == "queued"
    first.close()  # exits while the second upload still waits its turn

    second = RawServer("--state-dir", state, "--emulator-pace", "3000", cwd=tmp_path)
    done = second.call("job_wait", {"job_id": two["job_id"], "timeout_seconds": 30})["structuredContent"]["job"]
    assert done["state"] == "succeeded" and done["progress"]["done"] == 3000
    assert second.call("job_get", {"job_id": one["job_id"]})["structuredContent"]["job"]["state"] == "succeeded"
    second.close()
    import sqlite3
    db = sqlite3.connect(tmp_path / "state" / "embedded" / "emulator.sqlite")
    assert db.execute("SELECT COUNT(*) FROM adb_overlaps").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM adb_rows WHERE collection = 'same'").fetchone()[0] == 6000


def test_every_line_is_one_message_under_concurrent_load(tmp_path):
    data = write_vectors(tmp_path / "v.jsonl", 6000)
    server = RawServer("--state-dir", str(tmp_path / "s"), "--emulator-pace", "3000", "--enable-test-methods", cwd=tmp_path)
    job = server.call("adbpg_upsert_collection_data_async", {"collection": "load", "file_path": data})["structuredContent"]["job"]
    requests = []
    for i in range(100):
        if i % 10 == 0:
            requests.append({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                             "params": {"name": "job_wait", "arguments": {"job_id": job["job_id"], "timeout_seconds": 3},
                                        "_meta": {"progressToken": f"p{i}"}}})
        elif i == 55:
            requests.append({"jsonrpc": "2.0", "id": i, "method": "vectorjobs/echo", "params": {"bytes": 10 * 1024 * 1024}})
        elif i % 3 == 0:
            requests.append({"jsonrpc": "2.0", "id": i, "method": "tools/list"})
        else:
            requests.append({"jsonrpc": "2.0", "id": i, "method": "ping"})
    blob = b"".join(json.dumps(r).encode() + b"\n" for r in requests)
    server.proc.stdin.write(blob)
    server.proc.stdin.flush()
    replies = {}
    deadline = time.time() + 60
    while len(replies) < 100 and time.time() < deadline:
        message = server.next_message()
        if "id" in message:
            replies[message["id"]] = message
    server.close()
    assert sorted(replies) == list(range(100))
    assert len(replies[55]["result"]["data"]) == 10 * 1024 * 1024
    progress = 0
    for line in server.raw_lines:
        message = json.loads(line)  # every line parses on its own
        assert message["jsonrpc"] == "2.0"
        assert ("id" in message) != ("method" in message and "id" not in message) or "result" in message or "error" in message
        progress += message.get("method") == "notifications/progress"
    assert progress >= 10


def test_stdin_eof_waits_for_owed_replies_then_exits(tmp_path):
    proc = subprocess.Popen([BIN, "serve", "--state-dir", str(tmp_path / "s")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, cwd=tmp_path)
    lines = [json.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/list" if i % 2 else "ping"}) for i in range(200)]
    out, _ = proc.communicate(("\n".join(lines) + "\n").encode(), timeout=30)
    assert proc.returncode == 0
    assert sorted(json.loads(l)["id"] for l in out.splitlines()) == list(range(200))


def test_sigterm_ends_the_server(tmp_path):
    server = RawServer("--state-dir", str(tmp_path / "s"), cwd=tmp_path)
    assert server.request("ping")["result"] == {}
    server.proc.terminate()
    assert server.proc.wait(timeout=10) == 0


def test_a_cancelled_wait_gets_no_reply_and_leaves_the_job_running(tmp_path):
    data = write_vectors(tmp_path / "v.jsonl", 20_000)
    server = RawServer("--state-dir", str(tmp_path / "s"), "--emulator-pace", "2000", cwd=tmp_path)
    job = server.call("adbpg_upsert_collection_data_async", {"collection": "c", "file_path": data})["structuredContent"]["job"]
    server.send({"jsonrpc": "2.0", "id": "wait-1", "method": "tools/call",
                 "params": {"name": "job_wait", "arguments": {"job_id": job["job_id"], "timeout_seconds": 30}}})
    time.sleep(0.5)
    server.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "wait-1", "reason": "user"}})
    assert server.request("ping")["result"] == {}
    time.sleep(1)
    assert "wait-1" not in server.pending
    still = server.call("job_get", {"job_id": job["job_id"]})["structuredContent"]["job"]
    assert still["state"] == "running"  # cancelling a wait never cancels the job
    server.close()
    replies = [json.loads(l) for l in server.raw_lines]
    assert not any(r.get("id") == "wait-1" for r in replies)


def test_logging_set_level_sends_log_messages_to_the_client(tmp_path):
    data = write_vectors(tmp_path / "v.jsonl", 100)
    server = RawServer("--state-dir", str(tmp_path / "s"), cwd=tmp_path)
    assert server.request("logging/setLevel", {"level": "loud"})["error"]["code"] == -32602
    assert server.request("logging/setLevel", {"level": "info"})["result"] == {}
    server.call("adbpg_upsert_collection_data_async", {"collection": "c", "file_path": data})
    server.request("ping")
    time.sleep(0.3)
    server.request("ping")
    messages = [n["params"] for n in server.notifications if n["method"] == "notifications/message"]
    assert any("job created" in m["data"] for m in messages), messages
    assert all(m["level"] in ("info", "notice", "warning", "error") for m in messages)
    server.close()
