"""Jobs as MCP tasks (2025-11-25 and the 2026-07-28 tasks extension), job resources, and the 2026-07-28 envelope."""
import json
import time

import jsonschema

from conftest import RawServer, write_vectors

E = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
     "io.modelcontextprotocol/clientCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}}}
E_NO_TASKS = {**E, "io.modelcontextprotocol/clientCapabilities": {}}
UPLOAD = "adbpg_upsert_collection_data_async"


def legacy(server):
    reply = server.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})
    server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    return reply["result"]


def test_2025_11_25_task_lifecycle_across_processes(tmp_path):
    a = write_vectors(tmp_path / "a.jsonl", 6000)
    b = write_vectors(tmp_path / "b.jsonl", 20000, seed=2)
    state = str(tmp_path / "state")
    server = RawServer("--state-dir", state, "--emulator-pace", "3000", cwd=tmp_path)
    init = legacy(server)
    assert init["capabilities"]["tasks"] == {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
    tools = {t["name"]: t for t in server.request("tools/list")["result"]["tools"]}
    assert tools[UPLOAD]["execution"] == {"taskSupport": "optional"}
    assert "execution" not in tools["job_get"]

    created = server.request("tools/call", {"name": UPLOAD, "arguments": {"collection": "c", "file_path": a},
                                            "task": {"ttl": 120000}, "_meta": {"progressToken": "t1"}})["result"]
    task = created["task"]
    assert set(task) >= {"taskId", "status", "createdAt", "lastUpdatedAt", "ttl"}
    assert task["status"] == "working" and task["ttl"] == 120000 and task["pollInterval"] > 0
    assert task["taskId"].startswith("task_") and len(task["taskId"]) == 31
    time.sleep(1.0)
    got = server.request("tasks/get", {"taskId": task["taskId"]})["result"]
    assert got["status"] == "working" and "of 6000 rows" in got["statusMessage"]
    result = server.request("tasks/result", {"taskId": task["taskId"]}, timeout=60)["result"]
    assert result["_meta"]["io.modelcontextprotocol/related-task"] == {"taskId": task["taskId"]}
    assert result["isError"] is False and result["structuredContent"]["job"]["state"] == "succeeded"
    jsonschema.validate(result["structuredContent"], tools[UPLOAD]["outputSchema"])
    assert json.loads(result["content"][0]["text"]) == result["structuredContent"]
    progress = [n["params"]["progress"] for n in server.notifications if n["method"] == "notifications/progress"
                and n["params"]["progressToken"] == "t1"]
    assert len(progress) >= 2 and progress == sorted(set(progress)), progress
    time.sleep(1.0)
    server.request("ping")
    statuses = [n["params"] for n in server.notifications if n["method"] == "notifications/tasks/status"]
    assert statuses and statuses[-1]["taskId"] == task["taskId"] and statuses[-1]["status"] == "completed"

    second = server.request("tools/call", {"name": UPLOAD, "arguments": {"collection": "other", "file_path": b}, "task": {}})["result"]["task"]
    listed = server.request("tasks/list")["result"]["tasks"]
    assert [t["taskId"] for t in listed][:2] == [second["taskId"], task["taskId"]]
    server.close()

    # The next process reads and cancels the task the first one made.
    later = RawServer("--state-dir", state, "--emulator-pace", "3000", cwd=tmp_path)
    legacy(later)
    assert later.request("tasks/get", {"taskId": second["taskId"]})["result"]["status"] == "working"
    cancelled = later.request("tasks/cancel", {"taskId": second["taskId"]})["result"]
    assert cancelled["status"] == "cancelled" and cancelled["taskId"] == second["taskId"]
    final = later.request("tasks/result", {"taskId": second["taskId"]}, timeout=30)["result"]
    assert final["isError"] is True and "cancelled" in final["content"][0]["text"]
    job = final["_meta"]["vectorjobs/error"]["job"]
    waited = later.call("job_wait", {"job_id": job["job_id"], "timeout_seconds": 20})["structuredContent"]["job"]
    assert waited["state"] == "cancelled"
    assert later.request("tasks/get", {"taskId": task["taskId"]})["result"]["status"] == "completed"
    later.close()


def test_2025_11_25_task_errors(tmp_path):
    data = write_vectors(tmp_path / "v.jsonl", 100)
    server = RawServer("--state-dir", str(tmp_path / "s"), cwd=tmp_path)
    legacy(server)
    missing = "task_" + "a" * 26
    for method in ("tasks/get", "tasks/result", "tasks/cancel"):
        error = server.request(method, {"taskId": missing})["error"]
        assert error["code"] == -32602 and "Task not found" in error["message"]
    refused = server.request("tools/call", {"name": "job_get", "arguments": {"job_id": "job_" + "a" * 26}, "task": {}})["error"]
    assert refused["code"] == -32601
    task = server.request("tools/call", {"name": UPLOAD, "arguments": {"collection": "c", "file_path": data}, "task": {}})["result"]["task"]
    server.request("tasks/result", {"taskId": task["taskId"]}, timeout=30)
    done = server.request("tasks/cancel", {"taskId": task["taskId"]})["error"]
    assert done["code"] == -32602 and done["message"] == "Cannot cancel task: already in terminal status 'completed'"
    assert server.request("tasks/list", {"cursor": "nonsense"})["error"]["code"] == -32602
    # A tool that fails before any job exists gives a failed task whose result is the isError result.
    failed = server.request("tools/call", {"name": UPLOAD, "arguments": {"collection": "c", "file_path": "missing.jsonl"}, "task": {}})["result"]["task"]
    assert server.request("tasks/get", {"taskId": failed["taskId"]})["result"]["status"] == "failed"
    result = server.request("tasks/result", {"taskId": failed["taskId"]})["result"]
    assert result["isError"] and "no such file" in result["content"][0]["text"]
    server.close()


def test_2026_07_28_tasks_extension(tmp_path):
    a = write_vectors(tmp_path / "a.jsonl", 3000)
    b = write_vectors(tmp_path / "b.jsonl", 20000, seed=4)
    state = str(tmp_path / "state")
    server = RawServer("--state-dir", state, "--emulator-pace", "3000", cwd=tmp_path)
    discovered = server.request("server/discover", {"_meta": E})["result"]
    assert discovered["resultType"] == "complete" and "2026-07-28" in discovered["supportedVersions"]
    assert discovered["capabilities"]["extensions"] == {"io.modelcontextprotocol/tasks": {}}
    assert "tasks" not in discovered["capabilities"] and {"ttlMs", "cacheScope"} <= set(discovered)
    listed = server.request("tools/list", {"_meta": E})["result"]
    assert listed["resultType"] == "complete" and listed["ttlMs"] == 0 and listed["cacheScope"] == "private"
    assert all("execution" not in t for t in listed["tools"])

    created = server.request("tools/call", {"name": UPLOAD, "arguments": {"collection": "c", "file_path": a}, "_meta": E})["result"]
    assert created["resultType"] == "task" and created["status"] == "working"
    assert {"taskId", "createdAt", "lastUpdatedAt", "ttlMs", "pollIntervalMs"} <= set(created) and "task" not in created
    deadline = time.time() + 30
    while True:
        got = server.request("tasks/get", {"taskId": created["taskId"], "_meta": E})["result"]
        assert got["resultType"] == "complete"
        if got["status"] != "working" or time.time() > deadline:
            break
        time.sleep(0.3)
    assert got["status"] == "completed"
    assert got["result"]["isError"] is False and got["result"]["structuredContent"]["job"]["state"] == "succeeded"
    assert server.request("tasks/update", {"taskId": created["taskId"], "inputResponses": {}, "_meta": E})["result"]["resultType"] == "complete"

    # Without the extension the same call is a plain result.
    plain = server.request("tools/call", {"name": "jobs_list", "arguments": {"limit": 1}, "_meta": E_NO_TASKS})["result"]
    assert plain["resultType"] == "complete" and "structuredContent" in plain
    second = server.request("tools/call", {"name": UPLOAD, "arguments": {"collection": "d", "file_path": b}, "_meta": E})["result"]
    server.close()

    later = RawServer("--state-dir", state, "--emulator-pace", "3000", cwd=tmp_path)
    assert later.request("tasks/get", {"taskId": second["taskId"], "_meta": E})["result"]["status"] == "working"
    ack = later.request("tasks/cancel", {"taskId": second["taskId"], "_meta": E})["result"]
    assert ack["resultType"] == "complete"
    got = later.request("tasks/get", {"taskId": second["taskId"], "_meta": E})["result"]
    assert got["status"] == "cancelled" and "result" not in got
    later.close()


def test_2026_07_28_errors(tmp_path):
    server = RawServer("--state-dir", str(tmp_path / "s"), cwd=tmp_path)
    missing = server.request("tasks/get", {"taskId": "task_" + "b" * 26, "_meta": E})["error"]
    assert missing["code"] == -32602
    no_ext = server.request("tasks/get", {"taskId": "task_x", "_meta": E_NO_TASKS})["error"]
    assert no_ext["code"] == -32021 and no_ext["data"]["requiredCapabilities"] == {"extensions": {"io.modelcontextprotocol/tasks": {}}}
    old = server.request("tools/list", {"_meta": {**E, "io.modelcontextprotocol/protocolVersion": "1900-01-01"}})["error"]
    assert old["code"] == -32022 and old["data"]["requested"] == "1900-01-01" and "2026-07-28" in old["data"]["supported"]
    incomplete = server.request("tools/list", {"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}})["error"]
    assert incomplete["code"] == -32602 and "clientCapabilities" in incomplete["message"]
    for removed in ("ping", "logging/setLevel", "tasks/list", "tasks/result", "resources/subscribe"):
        assert server.request(removed, {"_meta": E})["error"]["code"] == -32601, removed
    # The same pipe still serves a handshake-era client.
    assert legacy(server)["protocolVersion"] == "2025-11-25"
    assert server.request("ping")["result"] == {}
    server.close()


def test_jobs_are_resources_with_update_notifications(tmp_path):
    data = write_vectors(tmp_path / "v.jsonl", 9000)
    server = RawServer("--state-dir", str(tmp_path / "s"), "--emulator-pace", "3000", cwd=tmp_path)
    init = legacy(server)
    assert init["capabilities"]["resources"] == {"subscribe": True, "listChanged": False}
    templates = server.request("resources/templates/list")["result"]["resourceTemplates"]
    assert templates[0]["uriTemplate"] == "vectorjobs://jobs/{job_id}"
    job = server.call(UPLOAD, {"collection": "c", "file_path": data})["structuredContent"]["job"]
    uri = f"vectorjobs://jobs/{job['job_id']}"
    assert uri in [r["uri"] for r in server.request("resources/list")["result"]["resources"]]
    assert server.request("resources/subscribe", {"uri": uri})["result"] == {}
    time.sleep(2.5)
    server.request("ping")
    updates = [n["params"]["uri"] for n in server.notifications if n["method"] == "notifications/resources/updated"]
    assert updates.count(uri) >= 2
    read = server.request("resources/read", {"uri": uri})["result"]["contents"][0]
    assert read["mimeType"] == "application/json" and json.loads(read["text"])["job"]["job_id"] == job["job_id"]
    assert server.request("resources/read", {"uri": "vectorjobs://jobs/job_" + "c" * 26})["error"]["code"] == -32602
    modern = server.request("resources/read", {"uri": uri, "_meta": E})["result"]
    assert modern["resultType"] == "complete" and modern["cacheScope"] == "private"
    server.close()


def test_2026_07_28_listen_stream_carries_task_and_resource_notifications(tmp_path):
    data = write_vectors(tmp_path / "v.jsonl", 6000)
    server = RawServer("--state-dir", str(tmp_path / "s"), "--emulator-pace", "3000", cwd=tmp_path)
    task = server.request("tools/call", {"name": UPLOAD, "arguments": {"collection": "c", "file_path": data}, "_meta": E})["result"]
    job_id = server.call("jobs_list", {"limit": 1})["structuredContent"]["jobs"][0]["job_id"]
    uri = f"vectorjobs://jobs/{job_id}"
    server.send({"jsonrpc": "2.0", "id": "listen-1", "method": "subscriptions/listen",
                 "params": {"notifications": {"taskIds": [task["taskId"], "task_unknown"], "resourceSubscriptions": [uri]}, "_meta": E}})
    deadline = time.time() + 30
    while time.time() < deadline and not any(n["method"] == "notifications/tasks" and n["params"]["status"] == "completed"
                                             for n in server.notifications):
        server.request("tools/list", {"_meta": E})
        time.sleep(0.3)
    tagged = [n for n in server.notifications if n["params"].get("_meta", {}).get("io.modelcontextprotocol/subscriptionId") == "listen-1"]
    ack = tagged[0]
    assert ack["method"] == "notifications/subscriptions/acknowledged"
    assert ack["params"]["notifications"] == {"resourceSubscriptions": [uri], "taskIds": [task["taskId"]]}
    finals = [n["params"] for n in tagged if n["method"] == "notifications/tasks"]
    assert finals[-1]["taskId"] == task["taskId"] and finals[-1]["status"] == "completed" and finals[-1]["result"]["isError"] is False
    assert any(n["method"] == "notifications/resources/updated" and n["params"]["uri"] == uri for n in tagged)
    # On shutdown the open stream ends gracefully with its result.
    server.proc.stdin.close()
    closing = server.wait_for("listen-1", timeout=30)
    assert closing["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "listen-1"
    assert closing["result"]["resultType"] == "complete"
    assert server.proc.wait(timeout=30) == 0
