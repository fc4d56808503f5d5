"""Limits on untrusted input end to end: each breach is one clear line on stderr and exit status 1,
never an allocation failure or a crash. Prompt length against the context (stories260K: 512)
for generate, rollout and score; crafted safetensors headers and config.json shapes."""
import json
import os
import shutil
import struct

from conftest import run_qlm, shared

CONTEXT = 512


def one_line_error(proc, needle):
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr


def test_prompt_longer_than_the_context(tmp_path):
    model = shared("models", "stories260K")
    ids = ",".join(["5"] * (CONTEXT + 1))
    one_line_error(run_qlm("generate", "-m", model, "--ids", ids, "--max-tokens", 1, check=False),
                   f"more than the context length {CONTEXT}")
    one_line_error(run_qlm("score", "-m", model, "--ids", ids, check=False), f"more than the context length {CONTEXT}")
    # Exactly the context is the most score accepts; generation needs one free position.
    assert len(json.loads(run_qlm("score", "-m", model, "--ids", ",".join(["5"] * CONTEXT)).stdout)["logprobs"]) == CONTEXT - 1
    p = tmp_path / "p.jsonl"
    p.write_text(json.dumps({"id": "long", "prompt_ids": [5] * CONTEXT}) + "\n")
    one_line_error(run_qlm("rollout", "-m", model, "--prompts", p, "--out", tmp_path / "o.jsonl", check=False),
                   f"does not fit the context of {CONTEXT}")
    s = tmp_path / "s.jsonl"
    s.write_text(json.dumps({"prompt_ids": [5] * 500, "completion_ids": [6] * 13}) + "\n")
    one_line_error(run_qlm("score", "-m", model, "--input", s, check=False), f"more than the context length {CONTEXT}")
    # A prompt longer than the context in text: the same error after tokenizing, not a crash.
    one_line_error(run_qlm("generate", "-m", model, "--no-chat", "-p", "Once upon a time " * 200, check=False),
                   "context")


def copy_model(tmp_path):
    src = shared("models", "stories260K")
    dst = tmp_path / "m"
    shutil.copytree(src, dst)
    os.chmod(dst, 0o755)
    for f in os.listdir(dst):
        os.chmod(dst / f, 0o644)
    return dst


def test_crafted_safetensors_header_and_config(tmp_path):
    m = copy_model(tmp_path)
    header = {f"t{i}": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]} for i in range(262145)}
    h = json.dumps(header).encode()
    (m / "model.safetensors").write_bytes(struct.pack("<Q", len(h)) + h)
    one_line_error(run_qlm("inspect", m, check=False), "more than 262144 tensors (the limit)")
    (m / "model.safetensors").write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    one_line_error(run_qlm("inspect", m, check=False), "exceeds the limit")

    m2 = copy_model(tmp_path / "b")
    cfg = json.loads((m2 / "config.json").read_text())
    cfg["num_attention_heads"] = 2_000_000_000
    (m2 / "config.json").write_text(json.dumps(cfg))
    one_line_error(run_qlm("generate", "-m", m2, "-p", "x", check=False), "'num_attention_heads'")
