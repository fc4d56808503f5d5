#!/usr/bin/python3
"""Quantization quality table on the trained models in ../shared/data: for each model x
method x bits x group, converts with qlm and measures against the unquantized model with
`qlm perplexity --base` (size, bits/weight, PPL, mean KL, top-1 agreement).

  quality_table.py [--windows 60] [--calib-tokens 16384] [--json out.json] [--quick]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.environ.get("QLM_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
QLM = os.environ.get("QLM_BIN", os.path.join(ROOT, "build", "release", "apps", "qlm", "qlm"))

# (model, eval text, range, ctx): shakespeare-qwen2 was trained with 256-token windows on the
# first 90% of tinyshakespeare; stories260K is evaluated on text of its own domain.
EVALS = {
    "shakespeare-qwen2": ("text/tinyshakespeare.txt", "0.9:1", 256),
    "stories260K": ("models/stories260K/expected_greedy.txt", "0:1", 200),
}
CONFIGS = [  # (method, bits, group, calib)
    ("rtn", 4, 64, False), ("search", 4, 64, False), ("search", 4, 64, True),
    ("rtn", 4, 32, False), ("search", 4, 32, False),
    ("rtn", 4, 128, False), ("search", 4, 128, False),
    ("rtn", 8, 64, False), ("search", 8, 64, False),
]


def run(*args):
    # Weight quantization is measured alone: the reference kernels keep activations in F32
    # (the fast kernels' int8 activations would add their own, separate error). QLM_ISA=... overrides.
    env = dict(os.environ)
    env.setdefault("QLM_ISA", "ref")
    proc = subprocess.run([QLM, *map(str, args)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"qlm {' '.join(map(str, args))} failed:\n{proc.stderr}")
    return proc.stdout


def measure(model_name, windows, calib_tokens, configs, calib_text):
    base = os.path.join(DATA, "models", model_name)
    text, rng, ctx = EVALS[model_name]
    rows = []
    tmp = tempfile.mkdtemp(prefix="qlm-quality-")
    try:
        for method, bits, group, calib in configs:
            out = os.path.join(tmp, f"{method}-{bits}-{group}-{int(calib)}")
            args = ["convert", "--hf-path", base, "--out", out, "-q", f"q{bits}", "--group-size", group,
                    "--method", method, "--quiet"]
            if calib:
                args += ["--calib", calib_text, "--calib-tokens", calib_tokens]
            run(*args)
            j = json.loads(run("perplexity", "-m", out, "--base", base, "--text", os.path.join(DATA, text),
                               "--range", rng, "--ctx", ctx, "--max-windows", windows, "--json"))
            info = json.loads(run("inspect", out, "--json", "--no-scan"))
            rows.append(dict(model=model_name, method=method + ("+calib" if calib else ""), bits=bits,
                             group=group, mb=info["tensor_bytes"] / 1e6, bpw=info["bits_per_weight"],
                             ppl=j["ppl"], base_ppl=j["base_ppl"], kl=j["kl_mean"], kl_p99=j["kl_p99"],
                             top1=j["top1_agreement"], tokens=j["tokens_scored"]))
            shutil.rmtree(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for r in rows:  # KL relative to rtn at the same bits and group
        ref = [x for x in rows if x["method"] == "rtn" and x["bits"] == r["bits"] and x["group"] == r["group"]]
        r["kl_vs_rtn"] = r["kl"] / ref[0]["kl"] if ref else None
    return rows


def markdown(rows):
    out = ["| model | method | bits | group | MB | bits/weight | PPL (base) | mean KL | KL / rtn | top-1 |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = f"{r['kl_vs_rtn']:.2f}" if r["kl_vs_rtn"] else "—"
        out.append(f"| {r['model']} | {r['method']} | {r['bits']} | {r['group']} | {r['mb']:.2f} | "
                   f"{r['bpw']:.2f} | {r['ppl']:.4f} ({r['base_ppl']:.4f}) | {r['kl']:.2e} | {ratio} | "
                   f"{100 * r['top1']:.1f}% |")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--windows", type=int, default=0, help="evaluation windows per model (0 = all)")
    p.add_argument("--calib-tokens", type=int, default=16384)
    p.add_argument("--quick", action="store_true", help="only the g64 rows the targets are stated for")
    p.add_argument("--json", help="also write the rows as JSON here")
    a = p.parse_args()
    if not os.path.isdir(os.path.join(DATA, "models")):
        sys.exit(f"shared data not found at {DATA}")
    # Calibration text: the training part of tinyshakespeare (never the evaluation part).
    calib = tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False)
    data = open(os.path.join(DATA, "text", "tinyshakespeare.txt"), "rb").read()
    calib.write(data[: int(0.9 * len(data))])
    calib.close()
    configs = [c for c in CONFIGS if c[2] == 64] if a.quick else CONFIGS
    rows = []
    for model in EVALS:
        rows += measure(model, a.windows, a.calib_tokens, configs, calib.name)
    os.unlink(calib.name)
    print(markdown(rows))
    if a.json:
        json.dump(rows, open(a.json, "w"), indent=2)


if __name__ == "__main__":
    main()
