"""Helpers for the `qlm serve` tests: start a server on a free port, plain HTTP calls (stdlib
only), Server-Sent-Event parsing and the OpenAI error-shape check."""
import http.client
import json
import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import qlm_binary, sanitized_build, shared  # noqa: F401 (sanitized_build: re-exported)

QWEN_TOKENIZER = ("tokenizers", "qwen2.5")


class Server:
    """A `qlm serve` subprocess; .url, .port; stop() sends SIGTERM and waits."""

    def __init__(self, model, *flags, env=None, ready_timeout=60):
        env = dict(os.environ if env is None else env)
        env.setdefault("QLM_ISA", "ref")  # the oracles (generate, score, rollout) run on ref too
        env.setdefault("OMP_WAIT_POLICY", "passive")
        self.proc = subprocess.Popen([qlm_binary(), "serve", "-m", str(model), "--port", "0", "--threads", "1",
                                      *map(str, flags)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        self.stderr_lines = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        line = self._read_line(ready_timeout)
        if not line.startswith("qlm serve: listening on http://"):
            self.proc.kill()
            raise AssertionError(f"qlm serve did not start: {line!r}\n{''.join(self.stderr_lines)}")
        self.url = line.split()[-1]
        self.host, port = self.url[len("http://"):].rsplit(":", 1)
        self.port = int(port)

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def _read_line(self, timeout):
        out = []
        t = threading.Thread(target=lambda: out.append(self.proc.stdout.readline()), daemon=True)
        t.start()
        t.join(timeout)
        return out[0].strip() if out else "(no output within %ss)" % timeout

    def conn(self, timeout=60):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, raw=None, timeout=60):
        """-> (status, headers dict, parsed JSON or text)."""
        c = self.conn(timeout)
        h = {"Content-Type": "application/json", **(headers or {})}
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        text = r.read().decode("utf-8", "replace")
        c.close()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text
        return r.status, {k.lower(): v for k, v in r.getheaders()}, parsed

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def ok(self, path, body, **kw):
        status, _, j = self.post(path, body, **kw)
        assert status == 200, (status, j)
        return j

    def stream(self, path, body, timeout=60):
        """-> list of parsed SSE data payloads (the final '[DONE]' kept as the string)."""
        c = self.conn(timeout)
        c.request("POST", path, body=json.dumps({**body, "stream": True}),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        assert r.status == 200, (r.status, r.read())
        assert r.getheader("Content-Type", "").startswith("text/event-stream")
        events = parse_sse(r.read().decode("utf-8"))
        c.close()
        return events

    def metrics(self):
        status, _, text = self.request("GET", "/metrics")
        assert status == 200
        return parse_metrics(text)

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("qlm serve did not stop within %ss of SIGTERM" % timeout)
        return self.proc.returncode


def parse_sse(text):
    events = []
    for block in text.split("\n\n"):
        block = block.strip("\n")
        if not block:
            continue
        assert block.startswith("data: "), block
        payload = block[len("data: "):]
        events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def parse_metrics(text):
    """Prometheus text -> {'name{labels}': value}."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def assert_error_shape(body, status=None):
    assert isinstance(body, dict) and set(body) == {"error"}, body
    e = body["error"]
    assert set(e) >= {"message", "type", "param", "code"}, e
    assert isinstance(e["message"], str) and e["message"], e
    assert isinstance(e["type"], str) and e["type"], e


@pytest.fixture(scope="session")
def chat_model(make_model):
    """A tiny random Qwen2 with the real Qwen2.5 tokenizer and chat template."""
    return make_model("serve-qwen", preset="tiny-qwen2", tokenizer=shared(*QWEN_TOKENIZER), max_pos=512)
