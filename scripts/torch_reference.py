#!/usr/bin/python3
"""PyTorch reference (float64) for a model folder: per-token log-probs of --ids, or greedy
continuation with --greedy N. Prints JSON. Used by the tests as the independent oracle."""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qlmtools.torch_ref import Reference  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("-m", "--model", required=True)
    p.add_argument("--ids", required=True, help="comma-separated token ids")
    p.add_argument("--greedy", type=int, default=0, help="generate N greedy tokens instead")
    a = p.parse_args()
    ids = [int(x) for x in a.ids.split(",")]
    ref = Reference(a.model)
    if a.greedy:
        out, margin = ref.greedy(ids, a.greedy)
        print(json.dumps({"ids": out, "min_margin": margin}))
    else:
        print(json.dumps({"logprobs": ref.score(ids)}))


if __name__ == "__main__":
    main()
