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


def test_score_checks_every_id_and_writes_whole_files(tmp_path):
    # A completion's last token is only a target, never embedded: it must still be checked (it
    # indexed past the logits and printed a made-up log-prob). --out: a bad path fails before
    # the work, and a failed run leaves no file.
    model = shared("models", "stories260K")
    s = tmp_path / "s.jsonl"
    out = tmp_path / "o.jsonl"
    s.write_text(json.dumps({"prompt_ids": [1, 5], "completion_ids": [6, 7]}) + "\n" +
                 json.dumps({"prompt_ids": [1, 5], "completion_ids": [6, 99999]}) + "\n")
    one_line_error(run_qlm("score", "-m", model, "--input", s, "--out", out, check=False),
                   f"{s}:2: completion: token id 99999 is outside the vocabulary [0, 512)")
    assert not os.path.exists(out) and not os.path.exists(str(out) + ".partial")
    one_line_error(run_qlm("score", "-m", model, "--ids", "1,5,512", check=False),
                   "token id 512 is outside the vocabulary [0, 512)")
    s.write_text(json.dumps({"prompt_ids": [1, 5], "completion_ids": [6, 7]}) + "\n")
    one_line_error(run_qlm("score", "-m", model, "--input", s, "--out", tmp_path / "no" / "o.jsonl", check=False),
                   "--out: cannot write")
    run_qlm("score", "-m", model, "--input", s, "--out", out, "--quiet")
    assert len(json.loads(out.read_text())["logprobs"]) == 2
    assert not os.path.exists(str(out) + ".partial")


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


def test_report_files_fail_before_the_work_and_appear_whole(tmp_path):
    # bench measures for minutes before writing --json/--markdown/--plot: a path that cannot be
    # written fails first, in a second; inspect --dequantize likewise. Nothing partial is left.
    model = shared("models", "stories260K")
    bad = tmp_path / "no" / "r.json"
    for flag in ("--json", "--markdown", "--plot"):
        one_line_error(run_qlm("bench", "-m", model, flag, bad, check=False), f"{flag}: cannot write {bad}")
    one_line_error(run_qlm("bench", "-m", model, "--json", tmp_path, check=False), f"--json: {tmp_path} is a directory")
    one_line_error(run_qlm("inspect", model, "--dequantize", "model.layers.0.mlp.down_proj", "--out", bad,
                           check=False), f"--out: cannot write {bad}")
    out = tmp_path / "r.json"
    run_qlm("bench", "-m", model, "--json", out, "--reps", 1, "--prompt-tokens", 8, "--gen-tokens", 4)
    assert json.loads(out.read_text())["models"][0]["model"] == str(model)
    assert os.listdir(tmp_path) == ["r.json"]
