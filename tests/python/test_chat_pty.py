"""qlm chat driven through a pseudo-terminal for two turns. The second answer, produced with
the first turn's KV cache reused, must equal a one-shot greedy generation from the
python3-jinja2 rendering of the whole conversation."""
import os
import pty
import select
import subprocess
import time

from conftest import qlm_binary, run_qlm_json
from test_text_cli import hf_render, qwen_chat_model  # noqa: F401  (fixture)


def read_until(fd, marker, timeout=60):
    buf = b""
    end = time.time() + timeout
    while marker not in buf:
        r, _, _ = select.select([fd], [], [], max(0.0, end - time.time()))
        if not r:
            raise AssertionError(f"timed out waiting for {marker!r}; got {buf!r}")
        buf += os.read(fd, 4096)
    return buf


def test_two_turns_through_a_pty(qwen_chat_model):  # noqa: F811
    master, slave = pty.openpty()
    proc = subprocess.Popen([qlm_binary(), "chat", "-m", qwen_chat_model, "--max-tokens", "6"],
                            stdin=slave, stdout=slave, stderr=subprocess.PIPE, env=dict(os.environ, QLM_ISA="ref"))
    os.close(slave)
    try:
        read_until(master, b"> ")
        os.write(master, b"Hello there\n")
        first = read_until(master, b"\n> ")
        os.write(master, b"And again?\n")
        second = read_until(master, b"\n> ")
        os.write(master, b"/exit\n")
        proc.wait(timeout=60)
    finally:
        proc.kill()
        os.close(master)
    stderr = proc.stderr.read().decode()
    assert proc.returncode == 0, stderr
    stats = [l for l in stderr.splitlines() if "prompt tokens reused" in l]
    assert len(stats) == 2
    assert int(stats[1].split("[")[1].split()[0]) > 0, "turn 2 must reuse the cached conversation"

    def answer(raw):  # the pty echoes the typed line first; the answer follows it
        text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
        return text.split("\n", 1)[1].rsplit("\n> ", 1)[0].strip("\n")

    a1 = answer(first)
    a2 = answer(second)
    messages = [{"role": "user", "content": "Hello there"}, {"role": "assistant", "content": a1},
                {"role": "user", "content": "And again?"}]
    ids = run_qlm_json("tokenize", "-m", qwen_chat_model, hf_render(qwen_chat_model, messages), "--json")["ids"]
    want = run_qlm_json("generate", "-m", qwen_chat_model, "--ids", ",".join(map(str, ids)), "--max-tokens", 6,
                        "--json")["text"]
    assert a2 == want
