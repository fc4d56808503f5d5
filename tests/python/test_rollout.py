"""qlm rollout: batch invariance (32 sequences batched vs each alone, bit-identical ids and
log-probs), one prefill per prompt, raw log-probs equal teacher-forced `qlm score`, and
--resume after a kill leaves every prompt's N completions exactly once."""
import json
import os
import re
import signal
import subprocess
import time

import numpy as np
import pytest

from conftest import qlm_binary, run_qlm, run_qlm_json, shared

PROMPTS = ["Once upon a time", "The little dog", "Tom and Sue", "A big red ball", "She was sad",
           "One day", "The sun", "Lily found a"]


def write_prompts(path, n=8):
    with open(path, "w") as f:
        for i, p in enumerate(PROMPTS[:n]):
            f.write(json.dumps({"id": f"p{i}", "prompt": p, "meta": i}) + "\n")


def read(path):
    return {(j["id"], j["sample"]): j for j in map(json.loads, open(path))}


def rollout(model, prompts, out, *extra, isa=None, max_tokens=24):
    env = dict(os.environ)
    if isa:
        env["QLM_ISA"] = isa
    return run_qlm("rollout", "-m", model, "--prompts", prompts, "--out", out, "-n", 4, "--max-tokens", max_tokens,
                   "--temp", 0.9, "--top-p", 0.95, "--seed", 7, "--ignore-eos", *extra, env=env)


# isa None: the fastest kernels this CPU has; kv: the KV cache's element type.
@pytest.mark.parametrize("isa,kv", [("ref", "f32"), (None, "f32"), (None, "f16")])
def test_batch_invariance_32_sequences(tmp_path, isa, kv):
    model = shared("models", "stories260K")
    prompts = tmp_path / "p.jsonl"
    write_prompts(prompts)
    batched = rollout(model, prompts, tmp_path / "batched.jsonl", "--max-batch", 32, "--kv-cache-dtype", kv, isa=isa)
    assert re.search(r"8 prompt prefills, batch up to 32", batched.stderr), batched.stderr
    alone = rollout(model, prompts, tmp_path / "alone.jsonl", "--max-batch", 1, "--threads", 1,
                    "--kv-cache-dtype", kv, isa=isa)
    a, b = read(tmp_path / "batched.jsonl"), read(tmp_path / "alone.jsonl")
    assert len(a) == 32 and a.keys() == b.keys()
    for k in a:
        assert a[k]["completion_ids"] == b[k]["completion_ids"], k
        assert a[k]["logprobs"] == b[k]["logprobs"], k  # bit-identical: same printed doubles
        assert a[k]["meta"] == int(k[0][1:])  # extra input fields are carried through


@pytest.mark.parametrize("kv", ["f32", "f16"])
def test_raw_logprobs_equal_score(tmp_path, kv):
    model = shared("models", "stories260K")
    prompts = tmp_path / "p.jsonl"
    write_prompts(prompts, 2)
    rollout(model, prompts, tmp_path / "r.jsonl", "--logprobs", "raw", "--kv-cache-dtype", kv, isa="ref")
    for j in read(tmp_path / "r.jsonl").values():
        ids = j["prompt_ids"] + j["completion_ids"]
        scored = run_qlm_json("--kv-cache-dtype", kv, "score", "-m", model, "--ids",
                              ",".join(map(str, ids)))["logprobs"]
        want = np.array(scored[len(j["prompt_ids"]) - 1:])
        assert np.abs(np.array(j["logprobs"]) - want).max() <= 1e-5


def test_resume_after_kill(tmp_path):
    model = shared("models", "stories260K")
    prompts = tmp_path / "p.jsonl"
    write_prompts(prompts)
    full = tmp_path / "full.jsonl"
    rollout(model, prompts, full, "--threads", 1, max_tokens=200)
    out = tmp_path / "out.jsonl"
    args = [qlm_binary(), "rollout", "-m", model, "--prompts", str(prompts), "--out", str(out), "-n", "4",
            "--max-tokens", "200", "--temp", "0.9", "--top-p", "0.95", "--seed", "7", "--ignore-eos",
            "--max-batch", "1", "--threads", "1"]
    env = dict(os.environ, QLM_ISA="ref")
    proc = subprocess.Popen(args, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 60
    while time.time() < deadline and (not out.exists() or sum(1 for _ in open(out)) < 5):
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = out.read_bytes()
    assert 5 <= kept.count(b"\n") < 32, "the kill must land mid-run for this test to mean anything"
    out.write_bytes(kept + b'{"id": "p7", "sam')  # a torn last line, as a kill mid-write leaves
    subprocess.run(args + ["--resume"], check=True, stderr=subprocess.DEVNULL, env=env)
    lines = [json.loads(l) for l in open(out)]  # every line parses
    keys = [(j["id"], j["sample"]) for j in lines]
    assert len(keys) == len(set(keys)) == 32  # each completion exactly once
    want = read(full)
    for j in lines:
        assert j["completion_ids"] == want[(j["id"], j["sample"])]["completion_ids"]


def test_bad_prompt_lines(tmp_path):
    model = shared("models", "stories260K")
    for text, needle in [("not json", "p.jsonl:1: not a JSON object"), ('{"id": 1}', "needs 'prompt'"),
                         ('{"prompt_ids": "x"}', "'prompt_ids' must be")]:
        p = tmp_path / "p.jsonl"
        p.write_text(text + "\n")
        proc = run_qlm("rollout", "-m", model, "--prompts", p, "--out", tmp_path / "o.jsonl", check=False)
        assert proc.returncode == 1 and needle in proc.stderr, proc.stderr


def test_score_jsonl_matches_rollout_and_single_scores(tmp_path):
    """Batched JSONL scoring of rollout completions: equal to per-sequence --ids scoring, and
    (F32 model, reference kernels) to the rollout's raw log-probs within 1e-5."""
    model = shared("models", "stories260K")
    prompts = tmp_path / "p.jsonl"
    write_prompts(prompts, 3)
    rollout(model, prompts, tmp_path / "r.jsonl", "--logprobs", "raw", isa="ref")
    lines = list(read(tmp_path / "r.jsonl").values())
    with open(tmp_path / "s.jsonl", "w") as f:
        for j in lines:
            f.write(json.dumps({"id": j["id"], "prompt_ids": j["prompt_ids"], "completion_ids": j["completion_ids"]}) + "\n")
    env = dict(os.environ, QLM_ISA="ref")
    proc = run_qlm("score", "-m", model, "--input", tmp_path / "s.jsonl", env=env)
    assert "score 100.0%" in proc.stderr and "took" in proc.stderr  # the progress line
    quiet = run_qlm("score", "-m", model, "--input", tmp_path / "s.jsonl", "--quiet", env=env)
    assert quiet.stderr == "" and quiet.stdout == proc.stdout
    scored = [json.loads(l) for l in proc.stdout.splitlines()]
    assert len(scored) == len(lines)
    for j, s in zip(lines, scored):
        assert np.abs(np.array(s["logprobs"]) - np.array(j["logprobs"])).max() <= 1e-5
        assert abs(s["sum_logprob"] - sum(s["logprobs"])) < 1e-9
        single = run_qlm_json("score", "-m", model, "--ids", ",".join(map(str, j["prompt_ids"] + j["completion_ids"])),
                              env=env)["logprobs"][len(j["prompt_ids"]) - 1:]
        assert s["logprobs"] == single  # the same rows give the same bits, however batched


def test_kv_budget_limits_the_batch_not_the_results(tmp_path):
    # A budget below one request's worst-case KV admits one prompt (its 4 samples) at a time; a
    # large one lets all 32 run together. Batch invariance: the same ids and log-probs either way.
    model = shared("models", "stories260K")
    prompts = tmp_path / "p.jsonl"
    write_prompts(prompts)
    tight = rollout(model, prompts, tmp_path / "tight.jsonl", "--kv-cache-memory", "1e-9")
    assert "batch up to 4\n" in tight.stderr and "KV cache budget" in tight.stderr, tight.stderr
    roomy = rollout(model, prompts, tmp_path / "roomy.jsonl", "--kv-cache-memory", "4")
    assert "batch up to 32\n" in roomy.stderr and "KV cache budget" not in roomy.stderr, roomy.stderr
    a, b = read(tmp_path / "tight.jsonl"), read(tmp_path / "roomy.jsonl")
    assert len(a) == 32 and a.keys() == b.keys()
    for k in a:
        assert a[k]["completion_ids"] == b[k]["completion_ids"] and a[k]["logprobs"] == b[k]["logprobs"], k
    bad = run_qlm("rollout", "-m", model, "--prompts", prompts, "--out", tmp_path / "x.jsonl",
                  "--kv-cache-memory", "-1", check=False)
    assert bad.returncode != 0 and "--kv-cache-memory" in bad.stderr


def test_a_shared_preamble_is_computed_once_and_changes_nothing(tmp_path):
    # Few-shot prompts: a long preamble, then the question. With the prefix cache the first
    # prompt computes the preamble and the others copy it; the ids and log-probs must equal a run
    # without the cache, bit for bit.
    model = shared("models", "stories260K")
    preamble = " ".join(f"Story {i}: the cat sat on the mat and the dog ran to the park." for i in range(14))
    prompts = tmp_path / "p.jsonl"
    with open(prompts, "w") as f:
        for i, p in enumerate(PROMPTS[:6]):
            f.write(json.dumps({"id": f"p{i}", "prompt": f"{preamble} Story 14: {p}"}) + "\n")
    cached = rollout(model, prompts, tmp_path / "cached.jsonl", "--max-batch", 32, max_tokens=12)
    plain = rollout(model, prompts, tmp_path / "plain.jsonl", "--max-batch", 32, "--prefix-cache-memory", 0,
                    max_tokens=12)
    a, b = read(tmp_path / "cached.jsonl"), read(tmp_path / "plain.jsonl")
    assert len(a) == 24 and a.keys() == b.keys()
    shared_ids = min(len(j["prompt_ids"]) for j in a.values())
    while len({tuple(j["prompt_ids"][:shared_ids]) for j in a.values()}) > 1:
        shared_ids -= 1
    assert shared_ids >= 256  # long enough for later prompts to wait for the first one's
    for k in a:
        assert a[k]["completion_ids"] == b[k]["completion_ids"] and a[k]["logprobs"] == b[k]["logprobs"], k
    m = re.search(r"rollout: (\d+) of the (\d+) prompt tokens were copied from the prefix cache", cached.stderr)
    assert m and int(m.group(1)) >= 5 * shared_ids, cached.stderr
    assert int(m.group(2)) == sum(len(a[(f"p{i}", 0)]["prompt_ids"]) for i in range(6))
    assert "prefix cache" not in plain.stderr and "6 prompt prefills" in plain.stderr


def test_progress_counts_tokens_and_ends_at_what_was_made(tmp_path):
    # The progress line counts generated tokens (redrawn every step, with the aggregate rate);
    # its total starts at every sample's max_tokens and drops by what a sample leaves unused
    # when it stops early, so the last line shows exactly the tokens in the output file.
    model = shared("models", "stories260K")
    prompts = tmp_path / "p.jsonl"
    write_prompts(prompts, 3)
    out = tmp_path / "o.jsonl"
    proc = run_qlm("rollout", "-m", model, "--prompts", prompts, "--out", out, "-n", 4, "--max-tokens", 300,
                   "--temp", 1.0, "--seed", 2, "--stop", ".")
    made = sum(len(j["completion_ids"]) for j in read(out).values())
    assert made < 12 * 300, "samples must stop early for this test to mean anything"
    last = [l for l in proc.stderr.splitlines() if l.startswith("rollout 100.0%")][-1]
    assert re.search(rf" {made}/{made} tok  [0-9.]+ tok/s  took \d+s  12/12 completions, 3/3 prompts$", last), last
