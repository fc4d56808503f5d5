"""A real OpenAI client against qlm serve: the `openai` npm package (tests/node) drives
completions, chat, streaming and n > 1; its results are checked against `qlm generate`."""
import hashlib
import json
import os
import shutil
import subprocess

import pytest

from conftest import ROOT, run_qlm_json
from serve_helpers import Server, chat_model  # noqa: F401 (fixture)

NODE_DIR = os.path.join(ROOT, "tests", "node")


def node_client_dir():
    """tests/node installed (npm ci) under .cache/, keyed by the lockfile; skips when npm cannot."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node/npm not installed")
    lock = open(os.path.join(NODE_DIR, "package-lock.json"), "rb").read()
    cache = os.environ.get("QLM_NODE_CACHE", os.path.join(ROOT, ".cache"))
    target = os.path.join(cache, "serve-node-" + hashlib.sha256(lock).hexdigest()[:12])
    if not os.path.isdir(os.path.join(target, "node_modules", "openai")):
        os.makedirs(target, exist_ok=True)
        for f in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(NODE_DIR, f), target)
        proc = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--cache", os.path.join(cache, "npm")],
                              cwd=target, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            pytest.skip(f"npm ci failed (no registry?): {proc.stderr.strip()[-300:]}")
    shutil.copy(os.path.join(NODE_DIR, "openai_client.mjs"), target)
    return target


def test_openai_npm_client(chat_model):  # noqa: F811
    where = node_client_dir()
    s = Server(chat_model, "--max-n", 4)
    try:
        name = os.path.basename(chat_model)
        proc = subprocess.run(["node", "openai_client.mjs", s.url, name], cwd=where, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        got = json.loads(proc.stdout)
    finally:
        assert s.stop() == 0
    gen = run_qlm_json("generate", "-m", chat_model, "-p", "Once upon a time", "--no-chat", "--max-tokens", 10, "--json")
    assert got["completion"] == gen["text"]
    assert got["completion_streamed"] == gen["text"]
    assert got["completion_usage"]["completion_tokens"] == len(gen["ids"])
    chat = run_qlm_json("generate", "-m", chat_model, "-p", "Write a haiku", "--chat", "--max-tokens", 10, "--json")
    assert got["chat"] == chat["text"] and got["chat_streamed"] == chat["text"]
    assert got["chat_stream_roles"] == 1
    # The streamed chat repeats the whole one: all its prompt but the last token is cached.
    cached = got["chat_stream_usage"].pop("prompt_tokens_details")["cached_tokens"]
    assert cached == got["chat_usage"]["prompt_tokens"] - 1
    got["chat_usage"].pop("prompt_tokens_details")
    assert got["chat_stream_usage"] == got["chat_usage"]
    assert got["n_indices"] == [0, 1, 2] and got["n_texts"] == got["n_repeat"]
    assert got["error"]["status"] == 400 and got["error"]["param"] == "max_tokens"
