"""Sampling through qlm generate: reproducible per seed whatever the thread count, and the
per-token raw log-probs it reports equal teacher-forced `qlm score` of the same tokens."""
import numpy as np

from conftest import run_qlm, run_qlm_json, shared


def gen(*extra):
    model = shared("models", "stories260K")
    return run_qlm_json("generate", "-m", model, "-p", "Once", "--max-tokens", 48, "--ignore-eos", "--json", *extra)


def test_same_seed_same_tokens_across_threads():
    a = gen("--temp", 0.9, "--top-k", 40, "--seed", 11, "--threads", 1)
    b = gen("--temp", 0.9, "--top-k", 40, "--seed", 11, "--threads", 2)
    c = gen("--temp", 0.9, "--top-k", 40, "--seed", 12, "--threads", 2)
    assert a["ids"] == b["ids"]
    assert a["ids"] != c["ids"]


def test_logprobs_equal_teacher_forced_score():
    j = gen("--temp", 1.0, "--seed", 5, "--top-logprobs", 3)
    ids = j["prompt_ids"] + j["ids"]
    model = shared("models", "stories260K")
    scored = run_qlm_json("score", "-m", model, "--ids", ",".join(map(str, ids)))["logprobs"]
    n = len(j["prompt_ids"])
    want = np.array(scored[n - 1:])
    got = np.array([e["logprob"] for e in j["logprobs"]])
    assert np.abs(got - want).max() <= 1e-5
    # T = 1 with no filters: the processed distribution is the raw one.
    assert np.allclose([e["logprob_processed"] for e in j["logprobs"]], got, atol=1e-5)
    for e in j["logprobs"]:
        assert len(e["top"]) == 3 and e["top"][0][1] >= e["logprob"] - 1e-6


def test_bad_sampling_flags():
    model = shared("models", "stories260K")
    for flags, needle in [(["--top-p", "1.5"], "--top-p"), (["--temp", "-1"], "--temperature")]:
        proc = run_qlm("generate", "-m", model, "-p", "x", *flags, check=False)
        assert proc.returncode == 1 and needle in proc.stderr, proc.stderr
