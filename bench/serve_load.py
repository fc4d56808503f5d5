#!/usr/bin/env python3
"""Load numbers for `qlm serve`: aggregate generated tok/s and time to first token (p50/p99) at
several numbers of concurrent streaming clients.

Each client sends streaming /v1/completions back to back (fixed prompt length and max_tokens,
ignore_eos, so every request generates the same number of tokens) for --seconds; tokens are
counted from the streamed token ids, TTFT is request sent -> first event carrying a token.

  bench/serve_load.py --model MODEL_DIR [--qlm build/release/apps/qlm/qlm]  # starts a server
  bench/serve_load.py --url http://127.0.0.1:8000                            # an existing one
"""
import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))
    return xs[k]


def one_request(host, port, body, out):
    t0 = time.perf_counter()
    c = http.client.HTTPConnection(host, port, timeout=600)
    c.request("POST", "/v1/completions", body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    if r.status != 200:
        out["errors"].append(r.status)
        r.read()
        c.close()
        return
    ttft, tokens = None, 0
    buf = b""
    while True:
        chunk = r.read1(65536)
        if not chunk:
            break
        buf += chunk
        while b"\n\n" in buf:
            event, buf = buf.split(b"\n\n", 1)
            payload = event[len(b"data: "):]
            if payload == b"[DONE]":
                continue
            j = json.loads(payload)
            for ch in j["choices"]:
                n = len(ch.get("token_ids", []))
                if n and ttft is None:
                    ttft = time.perf_counter() - t0
                tokens += n
    c.close()
    out["tokens"] += tokens
    if ttft is not None:
        out["ttft"].append(ttft)
    out["requests"] += 1


def run_level(host, port, clients, seconds, body):
    out = {"tokens": 0, "ttft": [], "requests": 0, "errors": []}
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client():
        while time.perf_counter() < stop_at:
            mine = {"tokens": 0, "ttft": [], "requests": 0, "errors": []}
            one_request(host, port, body, mine)
            with lock:
                for k in ("tokens", "requests"):
                    out[k] += mine[k]
                out["ttft"] += mine["ttft"]
                out["errors"] += mine["errors"]

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0  # includes the requests still running at the deadline
    return {"clients": clients, "requests": out["requests"], "errors": len(out["errors"]),
            "tokens": out["tokens"], "seconds": round(wall, 2), "tok_per_s": round(out["tokens"] / wall, 1),
            "ttft_p50_s": round(percentile(out["ttft"], 50), 3), "ttft_p99_s": round(percentile(out["ttft"], 99), 3),
            "ttft_mean_s": round(statistics.mean(out["ttft"]), 3) if out["ttft"] else None}


def start_server(qlm, model, max_batch, threads):
    cmd = [qlm, "serve", "-m", model, "--port", "0", "--max-batch", str(max_batch), "--max-queue", "256"]
    if threads:
        cmd += ["--threads", str(threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if "listening on" not in line:
        proc.kill()
        sys.exit(f"serve_load: qlm serve did not start: {line!r}")
    return proc, line.split()[-1]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="an already running server")
    p.add_argument("--model", help="start `qlm serve -m MODEL` for the run")
    p.add_argument("--qlm", default=os.path.join(os.path.dirname(__file__), "..", "build", "release", "apps", "qlm", "qlm"))
    p.add_argument("--clients", default="1,8,32", help="concurrency levels, comma-separated")
    p.add_argument("--seconds", type=float, default=20, help="per level")
    p.add_argument("--prompt-tokens", type=int, default=32)
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--max-batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=0, help="server --threads (0: its default)")
    p.add_argument("--json", help="also write the results here")
    a = p.parse_args()
    if bool(a.url) == bool(a.model):
        p.error("give exactly one of --url and --model")
    proc = None
    url = a.url
    if a.model:
        proc, url = start_server(a.qlm, a.model, a.max_batch, a.threads)
    host, port = url[len("http://"):].rsplit(":", 1)
    # Token ids as the prompt: the same length whatever the tokenizer.
    body = {"prompt": [(17 * i + 5) % 1000 + 100 for i in range(a.prompt_tokens)], "max_tokens": a.max_tokens,
            "temperature": 0.8, "ignore_eos": True, "stream": True, "return_token_ids": True}
    results = []
    try:
        for c in map(int, a.clients.split(",")):
            r = run_level(host, int(port), c, a.seconds, body)
            results.append(r)
            print(f"{c:>3} clients: {r['tok_per_s']:>8.1f} tok/s aggregate, TTFT p50 {r['ttft_p50_s']:.3f} s, "
                  f"p99 {r['ttft_p99_s']:.3f} s  ({r['requests']} requests, {r['tokens']} tokens, "
                  f"{r['errors']} errors, {r['seconds']} s)", flush=True)
    finally:
        if proc:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"url": url, "model": a.model, "prompt_tokens": a.prompt_tokens, "max_tokens": a.max_tokens,
                       "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
