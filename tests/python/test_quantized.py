"""Quantized models: `qlm convert --method rtn` is bit-exact with a numpy implementation of
MLX's quantizer (scripts/qlmtools/mlx_quant.py, written from MLX-FORMAT.md); MLX-layout folders
in every variant load, dequantize bit for bit, and score like the PyTorch reference run on the
dequantized weights."""
import json
import os

import numpy as np
import pytest

from conftest import run_qlm, run_qlm_json
from qlmtools import mlx_quant, st_io
from qlmtools.torch_ref import Reference, dequantize

TOL = 1e-4
QWEN = dict(preset="tiny-qwen2", hidden=128, intermediate=256, vocab=384, dtype="bf16", seed=5)
LLAMA = dict(preset="tiny-llama", hidden=128, intermediate=384, vocab=256, dtype="f32", seed=6)


def load_all(folder):
    out = {}
    for f in os.listdir(folder):
        if f.endswith(".safetensors"):
            out.update(st_io.load(os.path.join(folder, f)))
    return out


@pytest.mark.parametrize("bits,group", [(4, 64), (8, 64), (4, 32), (8, 128), (4, 128)])
@pytest.mark.parametrize("shape", ["qwen", "llama"])
def test_rtn_convert_is_bit_exact_with_mlx(make_model, tmp_path, bits, group, shape):
    src = make_model(shape, **(QWEN if shape == "qwen" else LLAMA))
    out = tmp_path / "q"
    run_qlm("convert", "--hf-path", src, "--out", out, "--quantize", f"q{bits}", "--group-size", group,
            "--method", "rtn", "--quiet")
    # qlm keeps a BF16 source's type and stores an F32 source's scales and floats as F16.
    dtype = "BF16" if shape == "qwen" else "F16"
    want = mlx_quant.write_mlx_folder(src, str(tmp_path / "mlx"), bits=bits, group=group, dtype=dtype)
    got = load_all(out)
    assert sorted(got) == sorted(want)
    for name, (dt, arr) in want.items():
        gdt, garr = got[name]
        assert gdt == dt, name
        assert garr.shape == arr.shape, name
        assert np.array_equal(garr.view(np.uint8), np.ascontiguousarray(arr).view(np.uint8)), name
    cfg = json.load(open(out / "config.json"))
    assert cfg["quantization"] == {"group_size": group, "bits": bits, "mode": "affine"}
    assert cfg["quantization_config"] == cfg["quantization"]


VARIANTS = {
    "q4-g64-bf16": dict(bits=4, group=64, dtype="BF16"),
    "q8-g32-f16": dict(bits=8, group=32, dtype="F16"),
    "q4-sharded-overrides": dict(bits=4, group=64, dtype="BF16", shards=3,
                                 overrides={"model.layers.0.self_attn.v_proj": 6,
                                            "model.layers.1.mlp.down_proj": 8,
                                            "model.layers.0.mlp.up_proj": 2}),
    "q4-legacy-names": dict(bits=4, group=64, dtype="F16", shards=2, legacy_names=True),
    "q4-float-embedding": dict(bits=4, group=64, dtype="BF16", quantize_embedding=False),
    "q3-g32": dict(bits=3, group=32, dtype="BF16"),
    "q5-g64": dict(bits=5, group=64, dtype="BF16"),
    "q6-g128": dict(bits=6, group=128, dtype="F16"),
    "q2-g64": dict(bits=2, group=64, dtype="BF16"),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_mlx_folder_loads_and_scores_like_pytorch(make_model, tmp_path, variant):
    src = make_model("llama", **LLAMA)
    folder = tmp_path / variant
    written = mlx_quant.write_mlx_folder(src, str(folder), **VARIANTS[variant])
    report = run_qlm_json("inspect", folder, "--json")
    assert report["verdict"] == "ok", report["checks"]

    # qlm's dequantized weight equals the numpy dequantization bit for bit.
    module = "model.layers.0.self_attn.v_proj"
    if module + ".scales" in written:
        bits = VARIANTS[variant].get("overrides", {}).get(module, VARIANTS[variant]["bits"])
        sdt, s = written[module + ".scales"]
        _, b = written[module + ".biases"]
        want = dequantize(written[module + ".weight"][1], st_io.to_f32(sdt, s), st_io.to_f32(sdt, b),
                          bits, VARIANTS[variant]["group"]).astype(np.float32)
        run_qlm("inspect", folder, "--dequantize", module, "--out", tmp_path / "w.npy")
        got = np.load(tmp_path / "w.npy")
        # float32 s*q+b in C++ vs float64 then rounded in numpy: equal to the last bit or one ulp.
        np.testing.assert_array_max_ulp(got, want, maxulp=1)

    ids = [1] + list(np.random.default_rng(7).integers(0, 256, 70))
    want_lp = np.array(Reference(str(folder)).score(ids))
    got_lp = np.array(run_qlm_json("score", "-m", folder, "--ids", ",".join(map(str, ids)))["logprobs"])
    assert np.abs(got_lp - want_lp).max() <= TOL


def test_convert_default_method_scores_like_pytorch(make_model, tmp_path):
    src = make_model("qwen", **QWEN)
    out = tmp_path / "q4"
    run_qlm("convert", "--hf-path", src, "--out", out, "-q", "q4_bit", "--quiet")  # seed spelling
    ids = [1] + list(np.random.default_rng(8).integers(0, 384, 60))
    want = np.array(Reference(str(out)).score(ids))
    got = np.array(run_qlm_json("score", "-m", out, "--ids", ",".join(map(str, ids)))["logprobs"])
    assert np.abs(got - want).max() <= TOL
    assert run_qlm_json("inspect", out, "--json")["verdict"] == "ok"


def test_convert_refuses_existing_output_and_leaves_nothing_on_error(make_model, tmp_path):
    src = make_model("qwen", **QWEN)
    out = tmp_path / "exists"
    out.mkdir()
    proc = run_qlm("convert", "--hf-path", src, "--out", out, "--quiet", check=False)
    assert proc.returncode == 1 and "already exists" in proc.stderr
    # NaN weights: a one-line error, and neither the output nor a temporary folder remains.
    bad = tmp_path / "nan-src"
    os.makedirs(bad)
    for f in os.listdir(src):
        if not f.endswith(".safetensors"):
            open(bad / f, "wb").write(open(os.path.join(src, f), "rb").read())
    tensors = st_io.load(os.path.join(src, "model.safetensors"))
    w = st_io.Writer(str(bad / "model.safetensors"), [(n, d, a.shape) for n, (d, a) in tensors.items()])
    for n, (d, a) in tensors.items():
        if n == "model.layers.1.mlp.up_proj.weight":
            a = a.copy()
            a.reshape(-1)[5] = st_io.f32_to_bf16_bits(np.array([np.nan], np.float32))[0]
        w.write(n, a)
    w.close()
    out2 = tmp_path / "nan-out"
    proc = run_qlm("convert", "--hf-path", bad, "--out", out2, "--quiet", check=False)
    assert proc.returncode == 1 and "model.layers.1.mlp.up_proj.weight" in proc.stderr and "NaN" in proc.stderr
    assert not out2.exists()
    assert not [p for p in os.listdir(tmp_path) if ".partial-" in p]


def test_inspect_flags_an_unquantized_module(make_model, tmp_path):
    src = make_model("llama", **LLAMA)
    folder = tmp_path / "m"
    mlx_quant.write_mlx_folder(src, str(folder), bits=4, group=64,
                               skip_modules=("model.layers.1.self_attn.o_proj",))
    proc = run_qlm("inspect", folder, "--json", check=False)
    assert proc.returncode == 2
    report = json.loads(proc.stdout)
    assert report["verdict"] != "ok"
    assert any("model.layers.1.self_attn.o_proj" in c["detail"] for c in report["checks"] if not c["ok"])
