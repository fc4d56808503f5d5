"""Scale-out: two qlm serve replicas behind nginx with deploy/nginx/qlm.conf (its own prefix,
pid and logs under a temporary folder, unprivileged, on 127.0.0.1); a bounded concurrent burst,
half of it streaming, must come back complete and valid, and both replicas must serve some."""
import concurrent.futures as cf
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import ROOT
from serve_helpers import Server, chat_model, parse_sse  # noqa: F401 (fixture)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_binary():
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not path:
        pytest.skip("nginx is not installed (Debian package nginx; scripts/install_deps.sh)")
    return path


def start_nginx(prefix, port, replicas):
    site = open(os.path.join(ROOT, "deploy", "nginx", "qlm.conf")).read()
    site = site.replace("listen 127.0.0.1:8000;", f"listen 127.0.0.1:{port};")
    site = site.replace("server 127.0.0.1:8001", f"server 127.0.0.1:{replicas[0]}")
    site = site.replace("server 127.0.0.1:8002", f"server 127.0.0.1:{replicas[1]}")
    with open(os.path.join(prefix, "qlm.conf"), "w") as f:
        f.write(site)
    with open(os.path.join(prefix, "nginx.conf"), "w") as f:
        f.write(f"""
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
worker_processes 1;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/qlm.conf;
}}
""")
    cmd = [nginx_binary(), "-p", prefix, "-c", os.path.join(prefix, "nginx.conf"), "-g", "daemon off;"]
    if os.geteuid() == 0:  # never run the balancer as root in a test
        os.chmod(prefix, 0o777)
        cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *cmd]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def call(port, i):
    body = {"prompt": f"Request {i}", "max_tokens": 6 + i % 5, "temperature": 0.5, "seed": i,
            "return_token_ids": True}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    stream = i % 2 == 1
    c.request("POST", "/v1/completions", body=json.dumps({**body, "stream": stream}),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    text = r.read().decode()
    c.close()
    assert r.status == 200, (r.status, text)
    if not stream:
        j = json.loads(text)
        (ch,) = j["choices"]
        assert ch["finish_reason"] in ("stop", "length")
        assert len(ch["token_ids"]) == j["usage"]["completion_tokens"] >= 1
        return len(ch["token_ids"])
    events = parse_sse(text)
    assert events[-1] == "[DONE]"
    ids = [t for e in events[:-1] for ch in e["choices"] for t in ch.get("token_ids", [])]
    assert [ch["finish_reason"] for e in events[:-1] for ch in e["choices"] if ch["finish_reason"]] in (
        ["stop"], ["length"])
    assert len(ids) >= 1
    return len(ids)


def test_two_replicas_behind_nginx(chat_model):  # noqa: F811
    nginx_binary()
    replicas = [Server(chat_model, "--max-batch", 8), Server(chat_model, "--max-batch", 8)]
    prefix = tempfile.mkdtemp(prefix="qlm-nginx-")
    port = free_port()
    nginx = start_nginx(prefix, port, [r.port for r in replicas])
    try:
        deadline = time.time() + 20
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            assert nginx.poll() is None, nginx.stderr.read()
            assert time.time() < deadline, "nginx did not come up"
            time.sleep(0.1)
        with cf.ThreadPoolExecutor(12) as pool:
            tokens = list(pool.map(lambda i: call(port, i), range(36)))
        assert len(tokens) == 36
        served = [r.metrics().get('qlm_requests_total{endpoint="/v1/completions",status="200"}', 0) for r in replicas]
        assert sum(served) == 36 and min(served) >= 1, served
        generated = sum(r.metrics()["qlm_generation_tokens_total"] for r in replicas)
        assert generated == sum(tokens) + 2 * 2  # + each replica's warm-up (2 tokens)
    finally:
        nginx.terminate()
        nginx.wait(20)
        for r in replicas:
            r.stop()
        shutil.rmtree(prefix, ignore_errors=True)
