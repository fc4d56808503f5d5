"""Whole-model log-probs with each optimised kernel table forced (QLM_ISA) against the PyTorch
reference on the same dequantized weights, over 100 positions.

Budgets. Float weights: 1e-4 (exact products; only the summation order differs). q4: the
int8 kernels round every matmul's activations to 8 bits per group (step max|x_g|/127), a
~0.5-1.5% relative error per matmul that the model carries to its logits. Measured on the
trained shakespeare-qwen2 model (sharp predictions, perplexity ~9): max |Δ logprob| 0.11, mean
0.03. Budget: max 0.25, mean 0.05. q8: activations carry a second int8 level (steps of
d/256, src/kernels/avx512/act_quant.h), measured max 4.4e-4, mean 1.1e-4 (one level gave
0.13 / 0.03 like q4). Budget: the issue's 1e-2, mean 1e-3."""
import os

import numpy as np
import pytest

from conftest import run_qlm, run_qlm_json, shared
from qlmtools.torch_ref import Reference

QWEN = dict(preset="tiny-qwen2", hidden=256, intermediate=512, vocab=384, dtype="bf16", seed=21)
MAX_ERR = {"q8": 1e-2, "q4": 0.25, "bf16": 1e-4}
MEAN_ERR = {"q8": 1e-3, "q4": 0.05, "bf16": 1e-5}


def isa_env(isa):
    env = dict(os.environ)
    env["QLM_ISA"] = isa
    return env


@pytest.fixture(scope="module")
def models(make_model, tmp_path_factory):
    trained = shared("models", "shakespeare-qwen2")
    out = {"bf16": make_model("qwen-kernels", **QWEN)}
    for q in ("q8", "q4"):
        folder = tmp_path_factory.mktemp("kern") / q
        run_qlm("convert", "--hf-path", trained, "--out", folder, "-q", q, "--group-size", 64,
                "--method", "rtn", "--quiet")
        out[q] = str(folder)
    return out


@pytest.mark.parametrize("isa", ["avx2", "avx512", "amx"])
@pytest.mark.parametrize("kind", ["q8", "q4", "bf16"])
def test_forced_isa_scores_like_pytorch(models, isa, kind):
    folder = models[kind]
    ids = [1] + list(np.random.default_rng(3).integers(3, 384, 100))
    args = ("score", "-m", folder, "--ids", ",".join(map(str, ids)))
    probe = run_qlm(*args, check=False, env=isa_env(isa))
    if probe.returncode != 0 and "unsupported" in probe.stderr:
        pytest.skip(f"QLM_ISA={isa} not available on this CPU")
    got = np.array(run_qlm_json(*args, env=isa_env(isa))["logprobs"])
    want = np.array(Reference(folder).score(ids))
    err = np.abs(got - want)
    print(f"{isa} {kind}: |Δ logprob| max {err.max():.2e} mean {err.mean():.2e} over {len(got)} positions")
    assert err.max() <= MAX_ERR[kind]
    assert err.mean() <= MEAN_ERR[kind]
