"""Benchmarks for vectorjobs. Run through scripts/bench, which builds the release binary. Prints figures."""
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BIN = os.environ["VECTORJOBS_BIN"]
MB = int(os.environ.get("BENCH_MB", "200"))


def make_file(path, megabytes, dim=768):
    """A vectors file of about `megabytes` MB (768-dimensional rows)."""
    rng = random.Random(5)
    row_template = [round(rng.uniform(-1, 1), 6) for _ in range(dim)]
    target = megabytes * 1024 * 1024 * 0.98
    written = 0
    with open(path, "w") as f:
        i = 0
        while written < target:
            line = json.dumps({"Id": f"row-{i}", "Metadata": {"n": str(i)}, "Vector": row_template[i % 7:] + row_template[:i % 7]}) + "\n"
            f.write(line)
            written += len(line)
            i += 1
    return i


def peak_rss_kb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except FileNotFoundError:
        return None


class Server:
    def __init__(self, *args, cwd=None):
        # Buffered pipes: an unbuffered readline() would read one byte per system call.
        self.proc = subprocess.Popen([BIN, "serve", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, cwd=cwd, bufsize=1 << 20)

    def send(self, message):
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def read(self):
        return json.loads(self.proc.stdout.readline())

    def request(self, rid, method, params=None):
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, **({"params": params} if params is not None else {})})
        while True:
            message = self.read()
            if message.get("id") == rid:
                return message

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def bench_validate(path, size):
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([BIN, "validate", path], check=True, capture_output=True)
        runs.append(time.perf_counter() - start)
    best = min(runs)
    print(f"validate: {size / 1e6:.0f} MB in {best:.3f} s = {size / 1e6 / best:.0f} MB/s (best of 3; goal >= 300 MB/s)")


def bench_upload(path, size, work):
    emu = subprocess.Popen([BIN, "emulate", "--port", "0", "--data-dir", str(work / "emu")], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    port = json.loads(emu.stdout.readline())["port"]
    profiles = work / "profiles.yaml"
    profiles.write_text(f"""version: 1
files: {{ allowed_roots: ["{work}"] }}
profiles:
  bench:
    provider: adbpg
    region: cn-hangzhou
    instance: gp-bench
    endpoint: http://127.0.0.1:{port}
    openplatform_endpoint: http://127.0.0.1:{port}
    credentials: {{ access_key_id: testid, access_key_secret: testsecret }}
    namespaces: {{ public: {{ password: pw }} }}
    oss: {{ endpoint_kind: "127.0.0.1:{port}" }}
""")
    server = Server("--profiles", str(profiles), "--state-dir", str(work / "state"), cwd=work)
    server.request(1, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}})
    start = time.perf_counter()
    reply = server.request(2, "tools/call", {"name": "adbpg_upsert_collection_data_async",
                                             "arguments": {"collection": "bench", "file_path": path}})
    elapsed = time.perf_counter() - start
    assert not reply["result"].get("isError"), reply
    rss = peak_rss_kb(server.proc.pid)
    server.close()
    emu.terminate()
    print(f"local-file upload to the emulator (validate + AuthorizeFileUpload + PostObject + submit): {size / 1e6:.0f} MB in "
          f"{elapsed:.2f} s = {size / 1e6 / elapsed:.0f} MB/s; server peak RSS {rss / 1024:.1f} MB (goal < 100 MB)")


def bench_startup(work):
    times = []
    for _ in range(20):
        start = time.perf_counter()
        server = Server("--state-dir", str(work / "startup"), cwd=work)
        server.send({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        server.read()
        times.append((time.perf_counter() - start) * 1000)
        server.close()
    print(f"spawn to tools/list reply: median {statistics.median(times):.1f} ms, min {min(times):.1f} ms (20 runs; goal < 15 ms)")


def bench_sizes(work):
    server = Server("--state-dir", str(work / "sizes"), "--enable-test-methods", cwd=work)
    results = []
    for mib in (1, 4, 16):
        payload = "y" * (mib * 1024 * 1024)
        runs = []
        for i in range(3):
            start = time.perf_counter()
            reply = server.request(100 + mib * 10 + i, "vectorjobs/echo", {"payload": payload})
            runs.append(time.perf_counter() - start)
            assert len(reply["result"]["payload"]) == len(payload)
        results.append((mib, min(runs)))
    server.close()
    line = ", ".join(f"{mib} MiB: {t * 1000:.1f} ms ({t * 1000 / mib:.1f} ms/MiB)" for mib, t in results)
    print(f"echo requests (request and reply of that size, best of 3): {line}")


def bench_pings(work, count=20000):
    server = Server("--state-dir", str(work / "pings"), cwd=work)
    blob = b"".join(json.dumps({"jsonrpc": "2.0", "id": i, "method": "ping"}).encode() + b"\n" for i in range(count))
    start = time.perf_counter()
    threading.Thread(target=lambda: (server.proc.stdin.write(blob), server.proc.stdin.flush()), daemon=True).start()
    for _ in range(count):
        server.proc.stdout.readline()
    elapsed = time.perf_counter() - start
    server.close()
    print(f"pipelined pings: {count} in {elapsed:.2f} s = {count / elapsed:.0f} requests/s")


def bench_viking(work, rows=50_000, dim=128):
    """VikingDB bulk upsert through a job vs the official Python SDK sending batches of 100 one after another."""
    config = work / "viking.json"
    config.write_text(json.dumps({"collections": [{"name": "bench", "primary_key": "id", "primary_key_type": "int64",
                                                   "fields": {"id": "int64", "vec": "vector", "tag": "string"}, "dimension": dim}]}))
    def emulator(name):
        proc = subprocess.Popen([BIN, "emulate", "--port", "0", "--data-dir", str(work / name), "--viking-collections", str(config)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        return proc, json.loads(proc.stdout.readline())["port"]
    rng = random.Random(3)
    data = [{"id": i, "vec": [round(rng.uniform(-1, 1), 5) for _ in range(dim)], "tag": f"t{i}"} for i in range(1, rows + 1)]
    path = work / "viking.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in data))

    emu, port = emulator("viking-ours")
    profiles = work / "viking-profiles.yaml"
    profiles.write_text(f"""version: 1
files: {{ allowed_roots: ["{work}"] }}
profiles:
  viking:
    provider: vikingdb
    region: cn-beijing
    host: http://127.0.0.1:{port}
    credentials: {{ access_key_id: testid, secret_access_key: testsecret }}
    rate_limit: {{ rows_per_second: 100000000 }}
    concurrency: 4
""")
    server = Server("--profiles", str(profiles), "--state-dir", str(work / "viking-state"), cwd=work)
    start = time.perf_counter()
    job = server.request(1, "tools/call", {"name": "vikingdb_upsert_data_async", "arguments": {"collection_name": "bench", "file_path": str(path)}})
    job_id = job["result"]["structuredContent"]["job"]["job_id"]
    while True:
        waited = server.request(2, "tools/call", {"name": "job_wait", "arguments": {"job_id": job_id, "timeout_seconds": 60}})
        state = waited["result"]["structuredContent"]["job"]["state"]
        if state != "running" and state != "queued":
            break
    ours = time.perf_counter() - start
    rss = peak_rss_kb(server.proc.pid)
    server.close()
    emu.terminate()

    from vikingdb import IAM
    from vikingdb.vector import VikingDB
    emu, port = emulator("viking-sdk")
    collection = VikingDB(host=f"127.0.0.1:{port}", region="cn-beijing", auth=IAM(ak="testid", sk="testsecret"), scheme="http").collection(collection_name="bench")
    start = time.perf_counter()
    for i in range(0, rows, 100):
        collection.upsert({"data": data[i:i + 100]})
    sdk = time.perf_counter() - start
    emu.terminate()
    print(f"VikingDB bulk upsert of {rows} rows ({dim} dimensions), no rate limit: vectorjobs job {rows / ours:.0f} rows/s "
          f"({state}, concurrency 4, server peak RSS {rss / 1024:.1f} MB); official Python SDK, batches of 100 in sequence: {rows / sdk:.0f} rows/s")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = str(work / "vectors.jsonl")
        rows = make_file(path, MB)
        size = os.path.getsize(path)
        print(f"vectorjobs benchmarks ({BIN})")
        print(f"data: {size / 1e6:.0f} MB, {rows} rows of 768 dimensions")
        bench_validate(path, size)
        bench_upload(path, size, work)
        bench_startup(work)
        bench_sizes(work)
        bench_pings(work)
        bench_viking(work)


if __name__ == "__main__":
    sys.exit(main())
