"""The Python module (python/): greedy generate equals `qlm generate`, seeded samples repeat,
raw log-probs equal m.score, load_weights from another checkpoint scores like the PyTorch
reference of that checkpoint (float, and q4/q8 against its rtn conversion), bad updates raise
and change nothing, and generate releases the GIL. The module of the same build as QLM_BIN
is used (build/<preset>/python), or QLM_PYTHON_PATH."""
import glob
import json
import os
import sys
import threading
import time

import numpy as np
import pytest

from conftest import qlm_binary, run_qlm, run_qlm_json, shared
from qlmtools import st_io
from qlmtools.torch_ref import Reference

TOL = 1e-4
PROMPTS = ["Once upon a time", "The little dog", "Tom and Sue"]


def module_dir():
    if os.environ.get("QLM_PYTHON_PATH"):
        return os.environ["QLM_PYTHON_PATH"]
    # QLM_BIN = .../build/<preset>/apps/qlm/qlm -> .../build/<preset>/python
    build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(qlm_binary()))))
    return os.path.join(build, "python")


@pytest.fixture(scope="module")
def qlm():
    path = module_dir()
    if "/asan/" in path + "/":
        reason = f"{path}: an ASan-instrumented module cannot be imported into a non-ASan python"
        print("skip:", reason)
        pytest.skip(reason)
    if not glob.glob(os.path.join(path, "qlm*.so")):
        pytest.skip(f"the Python module is not built in {path}")
    sys.path.insert(0, path)
    # Exact comparisons need the F32 reference kernels; the kernel set is chosen once per
    # process, at the first kernel_isa() or forward, so QLM_ISA is set only around that.
    saved = os.environ.get("QLM_ISA")
    os.environ["QLM_ISA"] = "ref"
    try:
        import qlm as module
        isa = module.kernel_isa()
    finally:
        if saved is None:
            del os.environ["QLM_ISA"]
        else:
            os.environ["QLM_ISA"] = saved
    assert isa == "ref", f"kernels were chosen before this test set QLM_ISA=ref: {isa}"
    return module


def stories():
    return shared("models", "stories260K")


def random_ids(n, vocab, seed):
    return [1] + [int(x) for x in np.random.default_rng(seed).integers(2, vocab, n - 1)]


def tensors_of(folder):
    out = {}
    for f in sorted(glob.glob(os.path.join(folder, "*.safetensors"))):
        out.update({name: arr for name, (_, arr) in st_io.load(f).items()})
    return out


def test_properties_and_tokenizer(qlm):
    m = qlm.Model(stories(), threads=1)
    assert m.vocab_size == m.config["vocab_size"] == 512
    assert m.quantization is None
    ids = m.tokenize("Once upon a time")
    assert m.detokenize(ids) == "Once upon a time"
    with pytest.raises(ValueError):
        qlm.Model(os.path.join(stories(), "missing"))
    assert issubclass(qlm.Error, ValueError)


def test_greedy_equals_cli(qlm):
    m = qlm.Model(stories())
    cli = run_qlm_json("generate", "-m", stories(), "-p", PROMPTS[0], "--max-tokens", 40, "--json")  # greedy by default
    [[out]] = m.generate([PROMPTS[0]], max_tokens=40)
    assert out["prompt_ids"] == cli["prompt_ids"]
    assert out["token_ids"] == cli["ids"]
    assert out["text"] == cli["text"]
    assert out["finish_reason"] == cli["finish_reason"]
    [[by_ids]] = m.generate([cli["prompt_ids"]], max_tokens=40)  # token-id prompts
    assert by_ids["token_ids"] == cli["ids"]


def test_seeded_samples_repeat(qlm):
    m = qlm.Model(stories())
    kw = dict(n=4, max_tokens=24, temperature=0.9, top_p=0.95, seed=7, stop_at_eos=False)
    a = m.generate(PROMPTS, **kw)
    b = m.generate(PROMPTS, **kw)
    assert len(a) == 3 and all(len(s) == 4 for s in a)
    assert a == b
    assert len({tuple(s["token_ids"]) for s in a[0]}) > 1  # the n samples differ from each other
    c = m.generate(PROMPTS, **dict(kw, seed=8))
    assert [s["token_ids"] for s in a[0]] != [s["token_ids"] for s in c[0]]


def test_raw_logprobs_equal_score(qlm):
    m = qlm.Model(stories())
    out = m.generate(PROMPTS[:2], n=3, max_tokens=30, temperature=1.0, seed=3, logprobs="raw")
    flat = [s for per_prompt in out for s in per_prompt]
    scored = m.score([s["prompt_ids"] for s in flat], [s["token_ids"] for s in flat])
    for s, sc in zip(flat, scored):
        assert len(sc["logprobs"]) == len(s["token_ids"])
        assert np.abs(np.array(sc["logprobs"]) - np.array(s["logprobs"])).max() <= 1e-5
        assert sc["sum"] == pytest.approx(sum(sc["logprobs"]))
    one = m.score(flat[0]["prompt_ids"], flat[0]["token_ids"])  # single lists -> one dict
    assert one["logprobs"] == scored[0]["logprobs"]


def test_stop_strings_end_samples_on_the_completing_token(qlm, tmp_path):
    # Oracle: the same seeded samples without stop strings (a sample does not depend on the
    # others). A sample whose text meets a stop string must be that sample cut at the first
    # token whose prefix text contains one: same ids and log-probs up to it, the text cut before
    # the earliest stop string, finish_reason "stop", stop_string naming it. The others are
    # unchanged. `qlm rollout` with the stop list from a YAML config gives the same lines.
    m = qlm.Model(stories())
    kw = dict(n=4, max_tokens=60, temperature=1.0, seed=5, stop_at_eos=False)
    stops = ["Lily", "."]
    full = m.generate(PROMPTS, **kw)
    cut = m.generate(PROMPTS, stop=stops, **kw)
    met = set()
    for fs, cs in zip(full, cut):
        for f, c in zip(fs, cs):
            ids = f["token_ids"]
            k = next((k for k in range(1, len(ids) + 1)
                      if any(s in m.detokenize(ids[:k], skip_special=True) for s in stops)), None)
            if k is None:
                assert c == f
                continue
            text = m.detokenize(ids[:k], skip_special=True)
            at, stop = min((text.find(s), s) for s in stops if s in text)
            met.add(stop)
            assert c["token_ids"] == ids[:k] and c["logprobs"] == f["logprobs"][:k]
            assert (c["finish_reason"], c["stop_string"], c["text"]) == ("stop", stop, text[:at])
    assert met == set(stops), "both stop strings must be met for this test to mean anything"
    assert m.generate(PROMPTS, stop=".", **kw) == m.generate(PROMPTS, stop=["."], **kw)
    with pytest.raises(TypeError):
        m.generate(PROMPTS, stop=[1])
    with pytest.raises(ValueError, match="empty"):
        m.generate(PROMPTS, stop=[""])

    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"id": str(i), "prompt": p}) + "\n" for i, p in enumerate(PROMPTS)))
    cfg = tmp_path / "c.yaml"
    cfg.write_text("stop:\n  - Lily\n  - .\ntemperature: 1.0\nseed: 5\nmax_tokens: 60\n")
    out = tmp_path / "o.jsonl"
    run_qlm("rollout", "--config", cfg, "-m", stories(), "--prompts", prompts, "-n", 4, "--ignore-eos", "--out", out)
    for line in map(json.loads, open(out)):
        want = cut[int(line["id"])][line["sample"]]
        assert (line["completion_ids"], line["text"], line["finish_reason"], line["stop_string"]) == \
            (want["token_ids"], want["text"], want["finish_reason"], want["stop_string"])


def test_batched_score_shares_prompts_and_equals_cli_single_scores(qlm):
    # GRPO's reference pass: N completions per prompt, pairs in any order. The batched call
    # prefills each prompt once (the 300-token one shares a whole KV span with its forks); the
    # oracle is `qlm score --ids` of each pair's tokens alone (every row of one sequence).
    m = qlm.Model(stories())
    long_prompt = [1] + [3 + (i * 37) % 500 for i in range(1, 300)]
    short_prompt = [1, 40, 41, 42]
    prompts = [long_prompt, short_prompt, long_prompt, short_prompt, long_prompt]
    completions = [[5 + i for i in range(30)], [9, 8, 7], [100], [60 + i for i in range(12)], [7] * 20]
    got = m.score(prompts, completions)
    assert [len(g["logprobs"]) for g in got] == [len(c) for c in completions]
    for p, c, g in zip(prompts, completions, got):
        cli = run_qlm_json("score", "-m", stories(), "--ids", ",".join(map(str, p + c)))["logprobs"]
        assert g["logprobs"] == cli[len(p) - 1:]
    with pytest.raises(ValueError, match=r"pair 1 has an empty prompt"):
        m.score([[1, 2], []], [[3], [4]])
    with pytest.raises(ValueError, match=r"pair 0: token id 99999 is outside the vocabulary \[0, 512\)"):
        m.score([[1, 99999]], [[3]])


def test_f16_kv_cache_equals_cli(qlm):
    # The module's kv_cache_dtype is the CLI's --kv-cache-dtype: same ids, same log-probs.
    m = qlm.Model(stories(), kv_cache_dtype="f16")
    assert m.kv_cache_dtype == "f16" and qlm.Model(stories()).kv_cache_dtype == "f32"
    cli = run_qlm_json("--kv-cache-dtype", "f16", "generate", "-m", stories(), "-p", PROMPTS[0],
                       "--max-tokens", 40, "--json")
    [[out]] = m.generate([PROMPTS[0]], max_tokens=40, logprobs="raw")
    assert out["token_ids"] == cli["ids"]
    ids = cli["prompt_ids"] + cli["ids"]
    scored = run_qlm_json("--kv-cache-dtype", "f16", "score", "-m", stories(), "--ids", ",".join(map(str, ids)))
    assert m.score(cli["prompt_ids"], cli["ids"])["logprobs"] == pytest.approx(
        scored["logprobs"][len(cli["prompt_ids"]) - 1:], abs=1e-12)
    f32 = qlm.Model(stories()).score(cli["prompt_ids"], cli["ids"])["logprobs"]
    assert f32 != m.score(cli["prompt_ids"], cli["ids"])["logprobs"]  # the option took effect
    with pytest.raises(ValueError, match="kv_cache_dtype"):
        qlm.Model(stories(), kv_cache_dtype="int3")


@pytest.mark.parametrize("preset,dtype", [("tiny-qwen2", "f32"), ("tiny-llama", "f32"), ("tiny-qwen2", "bf16")])
def test_load_weights_float_scores_like_reference(qlm, make_model, preset, dtype):
    a = make_model(f"py-{preset}-a", preset=preset, seed=11)
    b = make_model(f"py-{preset}-b-{dtype}", preset=preset, seed=12, dtype=dtype)  # bf16: uint16 bit arrays
    m = qlm.Model(a)
    ids = random_ids(40, m.vocab_size, 1)
    before = m.score(ids[:1], ids[1:])["logprobs"]
    m.load_weights(tensors_of(b))
    got = np.array(m.score(ids[:1], ids[1:])["logprobs"])
    want = np.array(Reference(b).score(ids))
    assert np.abs(got - want).max() <= TOL
    assert np.abs(got - np.array(before)).max() > 0.1  # the weights did change
    m.load_weights(tensors_of(a))  # and back, exactly (superseded buffers are freed)
    assert m.score(ids[:1], ids[1:])["logprobs"] == before


@pytest.mark.parametrize("bits", [4, 8])
def test_load_weights_requantizes_like_rtn_convert(qlm, make_model, tmp_path, bits):
    a = make_model("py-q-a", preset="tiny-qwen2", seed=21)
    b = make_model("py-q-b", preset="tiny-qwen2", seed=22)
    aq, bq = tmp_path / "aq", tmp_path / "bq"
    for src, out in ((a, aq), (b, bq)):
        run_qlm("convert", "--hf-path", src, "--out", out, "--quantize", f"q{bits}", "--method", "rtn", "--quiet")
    m = qlm.Model(str(aq))
    assert m.quantization == {"bits": bits, "group_size": 64}
    m.load_weights(tensors_of(b), method="rtn")  # F32 tensors, quantized in place
    ids = random_ids(40, m.vocab_size, 2)
    got = np.array(m.score(ids[:1], ids[1:])["logprobs"])
    want = np.array(Reference(str(bq)).score(ids))
    assert np.abs(got - want).max() <= TOL
    # Scales are F16 here (an F32 source converts to F16): out-of-range values are refused.
    up = "model.layers.1.mlp.up_proj.weight"
    with pytest.raises(ValueError, match="F16 range"):
        m.load_weights({up: np.full_like(tensors_of(b)[up], 1e5)})
    assert np.array_equal(np.array(m.score(ids[:1], ids[1:])["logprobs"]), got)
    # qlm's scale search lands closer to the float model than rtn (mean |delta log-prob|).
    m.load_weights(tensors_of(b), method="search")
    searched = np.array(m.score(ids[:1], ids[1:])["logprobs"])
    exact = np.array(Reference(b).score(ids))
    assert np.abs(searched - exact).mean() < np.abs(got - exact).mean()
    with pytest.raises(ValueError, match="method"):
        m.load_weights({}, method="gptq")


def with_value(a, index, value):
    """a copy of a with one element (the last for -1, the middle for None) set to value"""
    a = a.copy()
    a.reshape(-1)[a.size // 2 if index is None else index] = value
    return a


def test_bad_updates_raise_and_change_nothing(qlm, make_model):
    a = make_model("py-bad-a", preset="tiny-qwen2", seed=31)
    b = make_model("py-bad-b", preset="tiny-qwen2", seed=32)
    m = qlm.Model(a)
    ids = random_ids(30, m.vocab_size, 3)
    before = m.score(ids[:1], ids[1:])["logprobs"]
    good = tensors_of(b)
    up = "model.layers.0.mlp.up_proj.weight"
    cases = {
        "model.layers.9.mlp.up_proj.weight": dict(good, **{"model.layers.9.mlp.up_proj.weight": good[up]}),
        up: dict(good, **{up: np.ascontiguousarray(good[up].T)}),  # wrong shape
        "model.norm.weight": dict(good, **{"model.norm.weight": np.full_like(good["model.norm.weight"], np.nan)}),
        # The values are scanned in parallel chunks: an Inf in the very last element (as BF16
        # bits) and a NaN in the middle of an F32 array are found too.
        "model.layers.1.mlp.down_proj.weight": dict(good, **{"model.layers.1.mlp.down_proj.weight": with_value(
            good["model.layers.1.mlp.down_proj.weight"].astype(np.uint16) * 0 + 0x3F80, -1, 0x7F80)}),
        "model.layers.1.self_attn.o_proj.weight": dict(good, **{"model.layers.1.self_attn.o_proj.weight": with_value(
            np.ones(good["model.layers.1.self_attn.o_proj.weight"].shape, np.float32), None, np.nan)}),
    }
    for name, tensors in cases.items():
        with pytest.raises(ValueError, match=name.replace(".", r"\.")):
            m.load_weights(tensors)
        assert m.score(ids[:1], ids[1:])["logprobs"] == before  # bit for bit unchanged
    with pytest.raises(TypeError, match="float64"):
        m.load_weights({up: good[up].astype(np.float64)})
    assert m.score(ids[:1], ids[1:])["logprobs"] == before


def test_generate_releases_the_gil(qlm):
    m = qlm.Model(stories(), threads=1)
    count, stop = [0], [False]

    def spin():
        while not stop[0]:
            count[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        time.sleep(0.2)
        c0, t0 = count[0], time.perf_counter()
        time.sleep(0.2)
        rate = (count[0] - c0) / (time.perf_counter() - t0)  # increments per second, GIL free
        c0, t0 = count[0], time.perf_counter()
        m.generate(PROMPTS * 4, n=4, max_tokens=100, temperature=1.0, stop_at_eos=False)
        elapsed, during = time.perf_counter() - t0, count[0] - c0
    finally:
        stop[0] = True
        t.join()
    assert elapsed > 0.1, "generate was too quick to tell"
    # Holding the GIL, the counter would advance only in a few switch intervals (5 ms each).
    print(f"GIL check: {during} increments in {elapsed:.2f} s of generate, free rate {rate:.0f}/s")
    assert during > 0.1 * rate * elapsed, (during, rate, elapsed)


def test_chat_prompts_use_the_template(qlm, tmp_path):
    # stories260K plus a chat template: str prompts get it by default, as `qlm generate -p` does.
    for f in os.listdir(stories()):
        os.symlink(os.path.join(stories(), f), tmp_path / f)
    (tmp_path / "chat_template.jinja").write_text(
        "{% for m in messages %}<{{ m['role'] }}> {{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<assistant> {% endif %}")
    m = qlm.Model(str(tmp_path))
    cli = run_qlm_json("generate", "-m", tmp_path, "-p", "Tell a story", "--system", "Be kind", "--max-tokens", 8, "--json")
    [[text]] = m.generate(["Tell a story"], system="Be kind", max_tokens=8)
    assert text["prompt_ids"] == cli["prompt_ids"] and text["token_ids"] == cli["ids"]
    msgs = [{"role": "system", "content": "Be kind"}, {"role": "user", "content": "Tell a story"}]
    [[by_msgs]] = m.generate([msgs], max_tokens=8)
    assert by_msgs["prompt_ids"] == cli["prompt_ids"]
    [[plain]] = m.generate(["Tell a story"], chat=False, max_tokens=8)
    assert plain["prompt_ids"] == m.tokenize("Tell a story", add_bos=True)


def test_prompts_sharing_a_preamble_equal_a_call_without_the_prefix_cache(qlm):
    m = qlm.Model(stories())
    preamble = " ".join(f"Story {i}: the cat sat on the mat and the dog ran to the park." for i in range(14))
    prompts = [f"{preamble} Story 14: {p}" for p in PROMPTS]
    kw = dict(n=3, max_tokens=16, temperature=1.0, seed=3, stop_at_eos=False, logprobs="raw")
    cached = m.generate(prompts, **kw)
    plain = m.generate(prompts, prefix_cache_memory=0, **kw)
    assert len(cached[0][0]["prompt_ids"]) > 300
    assert cached == plain  # ids, log-probs and text, bit for bit


def test_bad_generate_arguments(qlm):
    m = qlm.Model(stories())
    with pytest.raises(ValueError, match="prefix_cache_memory"):
        m.generate(["Once"], prefix_cache_memory=-1)
    with pytest.raises(TypeError):
        m.generate("Once upon a time")  # a bare str, not a list
    with pytest.raises(ValueError, match="logprobs"):
        m.generate(["Once"], logprobs="bogus")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        m.generate([[1, 99999]])
    with pytest.raises(ValueError, match="top-p|top_p"):
        m.generate(["Once"], temperature=1.0, top_p=1.5)
    [samples] = m.generate([[1]], n=40, max_batch=4, max_tokens=3, temperature=1.0)  # n > max_batch
    assert len(samples) == 40
