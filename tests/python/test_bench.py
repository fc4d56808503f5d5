"""qlm bench: JSON fields, roofline bounds, the SVG chart, the quality pass (KL against the
highest-precision model of the same shape) and --models-from-hf's temporary conversions."""
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import run_qlm, sanitized_build, shared

FAST = {"QLM_ISA": ""}  # speed tests use the kernels the CPU selects, not the F32 reference
SHORT = ["--reps", "1", "--prompt-tokens", "16", "--gen-tokens", "8"]


def fast_env():
    env = dict(os.environ)
    env.update(FAST)
    return env


def bench(tmp_path, *args, env=None):
    out = tmp_path / "bench.json"
    proc = run_qlm("bench", *args, "--json", out, env=env)
    return json.loads(out.read_text()), proc


def convert(src, dst, q):
    run_qlm("convert", "--hf-path", src, "--out", dst, "-q", q, "--method", "rtn", "--force")
    return str(dst)


def positive_fields(m):
    stats = ["load_s", "peak_rss_mb", "prefill_tok_s", "ttft_s"]
    vals = {"file_mb": m["file_mb"], "bits_per_weight": m["bits_per_weight"],
            "weight_bytes_per_token": m["weight_bytes_per_token"], "roofline_fraction": m["roofline_fraction"]}
    for s in stats:
        for k in ("median", "min", "max"):
            vals[f"{s}.{k}"] = m[s][k]
    for d in m["decode"]:
        for k in ("median", "min", "max"):
            vals[f"decode@{d['depth']}.{k}"] = d["tok_s"][k]
    for d in m.get("batched_decode", []):
        for k in ("median", "min", "max"):
            vals[f"batch{d['batch']}.{k}"] = d["aggregate_tok_s"][k]
    return vals


def test_json_has_every_field_positive(make_model, tmp_path):
    model = make_model("bench_tiny", preset="tiny-qwen2")
    j, proc = bench(tmp_path, "-m", model, *SHORT, "--depth", "0,16", "--batch", "1,4", env=fast_env())
    for k in ("read_bandwidth_gb_s", "threads", "prompt_tokens", "gen_tokens", "reps"):
        assert j[k] > 0, k
    assert j["kernels"]
    (m,) = j["models"]
    assert [d["depth"] for d in m["decode"]] == [0, 16]
    assert [(d["batch"], d["depth"]) for d in m["batched_decode"]] == [(4, 0)]
    assert "×4 tok/s" in proc.stdout
    for name, v in positive_fields(m).items():
        assert v > 0, f"{name} = {v}"
    assert m["load_s"]["min"] <= m["load_s"]["median"] <= m["load_s"]["max"]
    assert m["quality"] is None  # one model: nothing to compare with
    assert "roofline" in proc.stdout and "| " + model in proc.stdout


def test_roofline_fraction_at_most_1_2_on_a_model_past_the_caches(make_model, tmp_path):
    """~160 MB of F32 weights read per token: far past the 2 MB L2 per core, so decode is bound
    by DRAM reads and the fraction must stay at or below 1 (1.2 allows timing noise). Tiny models
    fit in cache, where the fraction only says how small the overheads are and may exceed 1;
    they are held to > 0 only (test above)."""
    model = make_model("bench_mid", preset="tiny-qwen2", hidden=512, intermediate=1536, layers=8,
                       heads=8, kv_heads=2, vocab=32000)
    # Five repetitions, each with its own read-bandwidth test. A shared host moves both numbers
    # (one 16-token sample once read 1.25 in CI, 0.91-0.95 in reruns; the read test alone varies
    # 40-57 GB/s between runs), so the bound compares the median decode with the best read test:
    # no decode can stream weights faster than the fastest the machine was seen to read.
    j, _ = bench(tmp_path, "-m", model, "--reps", "5", "--prompt-tokens", "8", "--gen-tokens", "16",
                 env=fast_env())
    (m,) = j["models"]
    best_read = max(j["read_bandwidth_samples_gb_s"]) * 1e9
    fraction = m["decode"][0]["tok_s"]["median"] * m["weight_bytes_per_token"] / best_read
    print(f"roofline fraction {m['roofline_fraction']:.3f} at the median {j['read_bandwidth_gb_s']:.1f} GB/s, "
          f"{fraction:.3f} at the best {best_read / 1e9:.1f} GB/s")
    assert m["weight_bytes_per_token"] > 100e6
    assert m["roofline_fraction"] > 0
    # The bound holds only when the weights cannot stay in the last-level cache. This VM reports a
    # 480 MB L3 (a 160 MB model then decodes from cache at 1.5x the DRAM streaming rate, seen in CI).
    # Under ASan the read test itself is instrumented (seen: 4.5 GB/s on a 20 GB/s machine, so a
    # DRAM-bound decode measured 1.9): the bound is about the optimised build only.
    if sanitized_build():
        pytest.skip("sanitizer build: its bandwidth test is instrumented, the roofline bound does not apply")
    llc = last_level_cache_bytes()
    if m["weight_bytes_per_token"] <= llc:
        pytest.skip(f"{m['weight_bytes_per_token'] / 1e6:.0f} MB of weights fit the {llc / 1e6:.0f} MB "
                    "last-level cache: the roofline bound does not apply")
    assert fraction <= 1.2, (fraction, m)


def last_level_cache_bytes():
    """Largest cache size sysfs reports for cpu0 (0 when unknown)."""
    import glob
    best = 0
    for f in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*/size"):
        text = open(f).read().strip()
        mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1], 1)
        best = max(best, int(text.rstrip("KMG")) * mult)
    return best


def test_svg_is_well_formed_and_renders(make_model, tmp_path):
    base = make_model("bench_tiny", preset="tiny-qwen2")
    q4 = convert(base, tmp_path / "tiny-q4", "q4")
    svg = tmp_path / "chart.svg"
    run_qlm("bench", "-m", base, "-m", q4, *SHORT, "--quality-ctx", "32", "--plot", svg,
            "--note", "random weights & <test>", env=fast_env())
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    joined = "\n".join(texts)
    for want in ("Decode", "Prefill", "Peak resident memory", "mean KL", "tiny-q4", "random weights & <test>"):
        assert want in joined, want
    assert len(list(root.iter("{http://www.w3.org/2000/svg}rect"))) >= 1 + 3 * 2 + 1  # background + bars
    rsvg = shutil.which("rsvg-convert")
    if rsvg is None:
        pytest.skip("rsvg-convert not installed (Debian librsvg2-bin): SVG checked as XML only")
    png = tmp_path / "chart.png"
    subprocess.run([rsvg, "-o", str(png), str(svg)], check=True, timeout=60)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_quality_self_is_zero_and_q4_is_not(make_model, tmp_path):
    base = make_model("bench_tiny", preset="tiny-qwen2")
    copy = tmp_path / "tiny-copy"
    shutil.copytree(base, copy)
    q4 = convert(base, tmp_path / "tiny-q4", "q4")
    j, proc = bench(tmp_path, "-m", q4, "-m", base, "-m", copy, *SHORT, "--quality-ctx", "32",
                    "--quality-windows", "2")
    by = {m["model"]: m for m in j["models"]}
    qb, qc, q4q = by[base]["quality"], by[str(copy)]["quality"], by[q4]["quality"]
    assert qb["is_base"] and qb["base"] == base  # most bits/weight; the first of a tie
    assert qc["base"] == base and not qc["is_base"]
    assert qc["ids"] == "random" and qc["windows"] == 2 and qc["tokens_scored"] == 62
    assert abs(qc["kl_mean"]) <= 1e-9 and abs(qc["kl_p99"]) <= 1e-9 and qc["top1_agreement"] == 1
    assert qc["ppl"] == pytest.approx(qb["ppl"], rel=1e-9)
    assert q4q["kl_mean"] > 1e-6 and q4q["kl_p99"] >= q4q["kl_mean"]
    assert q4q["ppl"] > 0 and 0 <= q4q["top1_agreement"] <= 1
    assert "random token ids" in proc.stdout


def test_quality_uses_the_tokenizer_on_a_trained_model(tmp_path):
    stories = shared("models", "stories260K")
    q8 = convert(stories, tmp_path / "stories-q8", "q8")
    j, _ = bench(tmp_path, "-m", stories, "-m", q8, *SHORT, "--quality-ctx", "64")
    q = {m["model"]: m["quality"] for m in j["models"]}[q8]
    assert q["ids"] == "tokenizer" and q["windows"] >= 2  # the built-in passage is several windows
    assert 1 < q["base_ppl"] < 100  # a trained model on English text: far below the vocab size 512
    assert 0 < q["kl_mean"] < 0.05 and q["top1_agreement"] > 0.9


def test_models_from_hf_converts_benches_and_cleans_up(make_model, tmp_path):
    model = make_model("bench_tiny", preset="tiny-qwen2")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = fast_env()
    env["TMPDIR"] = str(tmp)
    j, _ = bench(tmp_path, "--models-from-hf", model, "--quantize", "q4,bf16", "--quant-method", "rtn",
                 *SHORT, "--quality-ctx", "32", env=env)
    assert len(j["models"]) == 2
    assert "q4" in j["models"][0]["format"] and "BF16" in j["models"][1]["format"].upper()
    assert j["models"][1]["quality"]["is_base"] and j["models"][0]["quality"]["kl_mean"] > 0
    assert list(tmp.iterdir()) == []  # the temporary conversions are gone
    bad = run_qlm("bench", "--models-from-hf", model, "--quantize", "q4,q99", *SHORT, check=False, env=env)
    assert bad.returncode != 0 and "q99" in bad.stderr
    assert list(tmp.iterdir()) == []  # removed on error too


def test_bad_batch_and_depth_are_refused(make_model):
    model = make_model("bench_tiny", preset="tiny-qwen2")
    for flag, value in (("--batch", "1,0"), ("--depth", "-5")):
        proc = run_qlm("bench", "-m", model, flag, value, *SHORT, check=False)
        assert proc.returncode != 0 and flag in proc.stderr, proc.stderr
