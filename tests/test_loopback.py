"""Our server against `vectorjobs emulate` over real HTTP on loopback: the libcurl client, both signers, OSS
uploads, the serial queue, and secrets that never leak."""
import http.server
import json
import os
import subprocess
import threading
from pathlib import Path

from conftest import BIN, Emulator, RawServer, emulate_profiles, write_vectors


def serve_directory(directory):
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(directory), **k)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_flows(tmp_path, emu, signature):
    work = tmp_path / "work"
    work.mkdir()
    data = write_vectors(work / "v.jsonl", 4000)
    web = serve_directory(work)
    profiles = emulate_profiles(work / "profiles.yaml", emu, signature=signature)
    server = RawServer("--profiles", profiles, "--state-dir", str(tmp_path / "state"), cwd=work)
    try:
        local = server.call("adbpg_upsert_collection_data_async", {"collection": "local", "file_path": "v.jsonl"})
        assert not local["isError"], local
        job = local["structuredContent"]["job"]
        done = server.call("job_wait", {"job_id": job["job_id"], "timeout_seconds": 30})["structuredContent"]["job"]
        assert done["state"] == "succeeded" and done["progress"]["done"] == 4000

        url = f"http://127.0.0.1:{web.server_address[1]}/v.jsonl"
        remote = server.call("adbpg_upsert_collection_data_async", {"collection": "web", "file_url": url})["structuredContent"]["job"]
        got = server.call("adbpg_get_upsert_collection_data_job", {"collection": "web", "job_id": remote["remote_job_id"]})
        assert not got["isError"], got
        assert got["structuredContent"]["job"]["job_id"] == remote["job_id"]  # the provider id maps to our handle
        final = server.call("job_wait", {"job_id": remote["job_id"], "timeout_seconds": 30})["structuredContent"]["job"]
        assert final["state"] == "succeeded" and final["progress"]["done"] == 4000
    finally:
        server.close()
        web.shutdown()
    requests = emu.state()["requests"]
    assert requests["AuthorizeFileUpload"] == 1 and requests["PostObject"] == 1


def test_v3_signed_flows_over_http(tmp_path, emulator):
    run_flows(tmp_path, emulator, "v3")


def test_v1_signed_flows_over_http(tmp_path, emulator):
    run_flows(tmp_path, emulator, "v1")


def test_two_uploads_to_one_collection_never_overlap(tmp_path):
    emu = Emulator(tmp_path / "emu", pace=4000)
    try:
        work = tmp_path / "work"
        work.mkdir()
        files = [write_vectors(work / f"part{i}.jsonl", 4000, seed=i, start=i * 4000) for i in range(3)]
        profiles = emulate_profiles(work / "profiles.yaml", emu)
        server = RawServer("--profiles", profiles, "--state-dir", str(tmp_path / "state"), cwd=work)
        jobs = [server.call("adbpg_upsert_collection_data_async", {"collection": "serial", "file_path": f})["structuredContent"]["job"]
                for f in files]
        assert [j["state"] for j in jobs] == ["running", "queued", "queued"]
        for job in jobs:
            final = server.call("job_wait", {"job_id": job["job_id"], "timeout_seconds": 30})["structuredContent"]["job"]
            assert final["state"] == "succeeded"
        server.close()
        state = emu.state()
        assert state["overlaps"] == []
        runs = sorted((j["started"], j["finished"]) for j in state["jobs"] if j["collection"] == "serial")
        assert len(runs) == 3
        assert all(earlier[1] <= later[0] for earlier, later in zip(runs, runs[1:])), runs
    finally:
        emu.stop()


SECRETS = {
    "secret": "AKSECRET-7f3a9c-do-not-print",
    "password": "NSPASS-41b2e8-do-not-print",
    "token": "STSTOKEN-c0ffee-do-not-print",
}


def test_no_secret_appears_in_output_logs_state_or_errors(tmp_path):
    emu = Emulator(tmp_path / "emu", secret=SECRETS["secret"], token=SECRETS["token"])
    try:
        work = tmp_path / "work"
        work.mkdir()
        write_vectors(work / "v.jsonl", 500)
        (work / "bad.jsonl").write_text("nope\n")
        env = dict(os.environ, ADB_SECRET=SECRETS["secret"], ADB_PASSWORD=SECRETS["password"], ADB_TOKEN=SECRETS["token"])
        profiles = emulate_profiles(work / "profiles.yaml", emu, secret="${ADB_SECRET}", password="${ADB_PASSWORD}",
                                    token="${ADB_TOKEN}")
        server = RawServer("--profiles", profiles, "--state-dir", str(tmp_path / "state"), "--log-level", "trace",
                           cwd=work, env=env, stderr_path=tmp_path / "stderr.txt")
        server.request("logging/setLevel", {"level": "debug"})
        job = server.call("adbpg_upsert_collection_data_async", {"collection": "c", "file_path": "v.jsonl"})["structuredContent"]["job"]
        server.call("job_wait", {"job_id": job["job_id"], "timeout_seconds": 30})
        server.call("profiles_list", {})
        server.call("adbpg_upsert_collection_data_async", {"collection": "c", "file_path": "bad.jsonl"})
        # A wrong namespace password (given in the call) is refused by the provider; the error must not echo it.
        wrong = server.call("adbpg_get_upsert_collection_data_job",
                            {"collection": "c", "job_id": job["remote_job_id"], "namespace_password": SECRETS["password"] + "-x"})
        assert wrong["isError"]
        server.call("adbpg_cancel_upsert_collection_data_job", {"collection": "c", "job_id": job["job_id"]})
        server.close()
        stdout = b"".join(server.raw_lines).decode()
        stderr = (tmp_path / "stderr.txt").read_text()
        assert "job_" in stdout and stderr  # there was output to search
        for value in SECRETS.values():
            assert value not in stdout, value
            assert value not in stderr, value
            for path in Path(tmp_path / "state").rglob("*"):
                if path.is_file():
                    assert value.encode() not in path.read_bytes(), (value, path)
        # profiles check prints no secret either, also when a variable is missing.
        checked = subprocess.run([BIN, "profiles", "check", profiles], capture_output=True, text=True, env=env)
        assert checked.returncode == 0
        assert all(v not in checked.stdout + checked.stderr for v in SECRETS.values())
    finally:
        emu.stop()


def test_profile_errors_name_the_place_and_the_variable(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nprofiles:\n  a: [unclosed\n")
    result = subprocess.run([BIN, "profiles", "check", str(broken)], capture_output=True, text=True)
    assert result.returncode != 0
    assert f"{broken}:" in result.stderr and "YAML syntax error" in result.stderr

    unset = tmp_path / "unset.yaml"
    unset.write_text("""version: 1
profiles:
  p:
    provider: adbpg
    region: cn-hangzhou
    instance: gp-1
    credentials:
      access_key_id: id
      access_key_secret: ${VECTORJOBS_TEST_UNSET_SECRET}
""")
    env = {k: v for k, v in os.environ.items() if k != "VECTORJOBS_TEST_UNSET_SECRET"}
    result = subprocess.run([BIN, "profiles", "check", str(unset)], capture_output=True, text=True, env=env)
    assert result.returncode != 0
    assert f"{unset}:9:26" in result.stderr and "VECTORJOBS_TEST_UNSET_SECRET is not set" in result.stderr

    typo = tmp_path / "typo.yaml"
    typo.write_text("version: 1\nprofiles:\n  p:\n    provider: adbpg\n    regoin: cn-hangzhou\n")
    result = subprocess.run([BIN, "profiles", "check", str(typo)], capture_output=True, text=True)
    assert result.returncode != 0 and f"{typo}:5:5" in result.stderr and "regoin" in result.stderr

    # serve refuses to start on a broken file, saying why on stderr.
    served = subprocess.run([BIN, "serve", "--profiles", str(broken), "--state-dir", str(tmp_path / "s")],
                            input="", capture_output=True, text=True, timeout=30)
    assert served.returncode != 0 and "YAML syntax error" in served.stderr and served.stdout == ""


def test_the_example_profiles_file_checks(tmp_path):
    example = Path(__file__).resolve().parent.parent / "examples" / "profiles.yaml"
    env = dict(os.environ, ALIBABA_CLOUD_ACCESS_KEY_ID="id", ALIBABA_CLOUD_ACCESS_KEY_SECRET="secret",
               ADBPG_NAMESPACE_PASSWORD="pw", VOLC_ACCESSKEY="ak", VOLC_SECRETKEY="sk")
    result = subprocess.run([BIN, "profiles", "check", str(example)], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr


def test_cancel_over_http(tmp_path):
    emu = Emulator(tmp_path / "emu", pace=1000)
    try:
        work = tmp_path / "work"
        work.mkdir()
        data = write_vectors(work / "v.jsonl", 8000)
        server = RawServer("--profiles", emulate_profiles(work / "profiles.yaml", emu), "--state-dir", str(tmp_path / "state"), cwd=work)
        job = server.call("adbpg_upsert_collection_data_async", {"collection": "c", "file_path": data})["structuredContent"]["job"]
        server.call("job_wait", {"job_id": job["job_id"], "timeout_seconds": 1})
        cancelled = server.call("adbpg_cancel_upsert_collection_data_job", {"collection": "c", "job_id": job["job_id"]})
        assert not cancelled["isError"], cancelled
        final = server.call("job_wait", {"job_id": job["job_id"], "timeout_seconds": 20})["structuredContent"]["job"]
        assert final["state"] == "cancelled" and 0 < final["progress"]["done"] < 8000
        again = server.call("adbpg_cancel_upsert_collection_data_job", {"collection": "c", "job_id": job["remote_job_id"]})
        assert again["isError"] and "cannot be cancelled" in again["content"][0]["text"]
        server.close()
        assert [j["status"] for j in emu.state()["jobs"]] == ["Cancelled"]
    finally:
        emu.stop()
