"""Broken model folders and bad flags: one-line error naming the file/tensor/flag, exit 1,
never a crash (the ASan build runs these too)."""
import json
import os
import shutil

import pytest

from conftest import run_qlm
from qlmtools import st_io


def broken_copy(make_model, tmp_path, name):
    src = make_model("bad-base", preset="tiny-llama", dtype="f32")
    dst = tmp_path / name
    shutil.copytree(src, dst)
    return dst


def assert_one_line_error(proc, *needles):
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qlm: error: "), proc.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


def rewrite_without(path, drop=None, reshape=None):
    tensors = st_io.load(path)
    specs, arrays = [], []
    for name, (dt, arr) in tensors.items():
        if name == drop:
            continue
        if name == reshape:
            arr = arr.reshape(-1)[: arr.size // 2]
        specs.append((name, dt, arr.shape))
        arrays.append((name, arr))
    w = st_io.Writer(path, specs)
    for name, arr in arrays:
        w.write(name, arr)
    w.close()


def test_missing_tensor(make_model, tmp_path):
    d = broken_copy(make_model, tmp_path, "missing")
    rewrite_without(str(d / "model.safetensors"), drop="model.layers.1.mlp.up_proj.weight")
    assert_one_line_error(run_qlm("score", "-m", d, "--ids", "1,2", check=False),
                          "model.layers.1.mlp.up_proj.weight", "missing")


def test_wrong_shape(make_model, tmp_path):
    d = broken_copy(make_model, tmp_path, "shape")
    rewrite_without(str(d / "model.safetensors"), reshape="model.layers.0.self_attn.k_proj.weight")
    assert_one_line_error(run_qlm("score", "-m", d, "--ids", "1,2", check=False),
                          "model.layers.0.self_attn.k_proj.weight", "expected [16, 64]")


def test_truncated_file(make_model, tmp_path):
    d = broken_copy(make_model, tmp_path, "truncated")
    f = d / "model.safetensors"
    size = os.path.getsize(f)
    with open(f, "r+b") as fh:
        fh.truncate(size - 100)
    assert_one_line_error(run_qlm("score", "-m", d, "--ids", "1,2", check=False),
                          "model.safetensors", "truncated")


def test_missing_config_and_folder(tmp_path):
    assert_one_line_error(run_qlm("generate", "-m", tmp_path / "nope", "--ids", "1", check=False),
                          "does not exist")
    (tmp_path / "empty").mkdir()
    assert_one_line_error(run_qlm("generate", "-m", tmp_path / "empty", "--ids", "1", check=False),
                          "config.json")


def test_unsupported_architecture(make_model, tmp_path):
    d = broken_copy(make_model, tmp_path, "arch")
    cfg = json.load(open(d / "config.json"))
    cfg["architectures"] = ["MistralForCausalLM"]
    json.dump(cfg, open(d / "config.json", "w"))
    assert_one_line_error(run_qlm("generate", "-m", d, "--ids", "1", check=False),
                          "MistralForCausalLM", "not supported")


@pytest.mark.parametrize("ids,needle", [("1,x", "--ids"), ("1,,2", "--ids"), ("999999", "vocabulary")])
def test_bad_ids(make_model, ids, needle):
    d = make_model("bad-base", preset="tiny-llama", dtype="f32")
    assert_one_line_error(run_qlm("generate", "-m", d, "--ids", ids, check=False), needle)
