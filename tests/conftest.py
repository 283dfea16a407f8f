"""Shared fixtures: the built binary, vectors files, the emulator over HTTP, and a raw JSON-RPC peer over pipes."""
import json
import os
import queue
import random
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = os.environ.get("VECTORJOBS_BIN", str(ROOT / ".build" / "debug" / "vectorjobs"))


def write_vectors(path, rows, dim=8, seed=1, start=0):
    rng = random.Random(seed)
    with open(path, "w") as f:
        for i in range(start, start + rows):
            f.write(json.dumps({"Id": f"row-{i}", "Metadata": {"n": str(i), "title": f"héllo {i}"},
                                "Vector": [round(rng.uniform(-1, 1), 6) for _ in range(dim)]}) + "\n")
    return str(path)


class Emulator:
    """`vectorjobs emulate` on a free loopback port."""

    def __init__(self, data_dir, pace=None, secret="testsecret", key_id="testid", token=None):
        args = [BIN, "emulate", "--port", "0", "--data-dir", str(data_dir),
                "--access-key-id", key_id, "--access-key-secret", secret]
        if pace:
            args += ["--pace", str(pace)]
        if token:
            args += ["--security-token", token]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("emulator did not start: " + self.proc.stderr.read())
        info = json.loads(line)
        self.port = info["port"]
        self.url = info["url"]
        self.data_dir = data_dir

    def state(self):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(self.url + "/_emulator/state") as r:
            return json.loads(r.read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def emulator(tmp_path):
    emu = Emulator(tmp_path / "emulator")
    yield emu
    emu.stop()


@pytest.fixture
def paced_emulator(tmp_path):
    emu = Emulator(tmp_path / "paced-emulator", pace=2000)
    yield emu
    emu.stop()


class RawServer:
    """`vectorjobs serve` spoken to line by line over its pipes, as a client would."""

    def __init__(self, *args, cwd=None, env=None, stderr_path=None):
        self.stderr_file = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL
        self.proc = subprocess.Popen([BIN, "serve", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr_file, cwd=cwd, env=env, bufsize=1 << 20)
        self.lines = queue.Queue()
        self.raw_lines = []
        self.notifications = []
        self.next_id = 1000
        self.pending = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.raw_lines.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def send_line(self, text):
        if isinstance(text, str):
            text = text.encode()
        self.proc.stdin.write(text + b"\n")
        self.proc.stdin.flush()

    def send(self, message):
        self.send_line(json.dumps(message))

    def next_message(self, timeout=30):
        line = self.lines.get(timeout=timeout)
        assert line is not None, "the server closed its output"
        return json.loads(line)

    def request(self, method, params=None, timeout=60):
        self.next_id += 1
        rid = self.next_id
        message = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.wait_for(rid, timeout)

    def wait_for(self, rid, timeout=60):
        if rid in self.pending:
            return self.pending.pop(rid)
        deadline = time.time() + timeout
        while True:
            message = self.next_message(timeout=max(0.1, deadline - time.time()))
            if "method" in message and "id" not in message:
                self.notifications.append(message)
            elif message.get("id") == rid:
                return message
            else:
                self.pending[message.get("id")] = message

    def call(self, name, arguments, meta=None, timeout=60):
        params = {"name": name, "arguments": arguments}
        if meta:
            params["_meta"] = meta
        reply = self.request("tools/call", params, timeout=timeout)
        assert "result" in reply, reply
        return reply["result"]

    def close(self):
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        if self.stderr_file is not subprocess.DEVNULL:
            self.stderr_file.close()
        return self.proc.returncode


@pytest.fixture
def vectors(tmp_path):
    return write_vectors(tmp_path / "vectors.jsonl", 2000)


def emulate_profiles(path, emu, *, secret="testsecret", password="pw-namespace-1", extra="", key_id="testid",
                     roots=None, signature="v3", token=None, attempts=3):
    """A profiles file whose adbpg profile points at `emu` over loopback."""
    roots = roots or [str(Path(path).parent)]
    token_line = f"      security_token: {token}\n" if token else ""
    Path(path).write_text(f"""# yaml-language-server: $schema=../schemas/profiles.schema.json
version: 1
defaults:
  adbpg: loopback
files:
  allowed_roots: {json.dumps(roots)}
profiles:
  loopback:
    provider: adbpg
    region: cn-hangzhou
    instance: gp-loopback
    endpoint: {emu.url}
    openplatform_endpoint: {emu.url}
    signature: {signature}
    credentials:
      access_key_id: {key_id}
      access_key_secret: {secret}
{token_line}    namespaces:
      public: {{ password: {password} }}
    oss: {{ endpoint_kind: "127.0.0.1:{emu.port}" }}
    poll: {{ interval: 300ms }}
    retry: {{ attempts: {attempts}, base_delay: 50ms, max_delay: 1s }}
{extra}""")
    return str(path)
