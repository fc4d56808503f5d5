#!/usr/bin/python3
"""Writes rollout prompts that share a long few-shot preamble (the prefix cache's benchmark):

  bench/fewshot_prompts.py --prompts 8 --shots 20 > fewshot.jsonl
  qlm rollout -m MODEL --prompts fewshot.jsonl -n 4 --max-tokens 128 --temp 1 --ignore-eos \\
      --out r.jsonl [--prefix-cache-memory 0]

With the Qwen2.5 tokenizer and the chat template, 20 shots come to ~900 prompt tokens, ~780 of
them shared by every prompt."""
import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prompts", type=int, default=8, help="prompts to write (default 8)")
    ap.add_argument("--shots", type=int, default=20, help="worked examples in the shared preamble (default 20)")
    a = ap.parse_args()
    shots = " ".join(f"Question: what is {i} plus {2 * i + 1}? Answer: {i} plus {2 * i + 1} is {3 * i + 1}, "
                     f"because adding {2 * i + 1} to {i} counts up {2 * i + 1} steps from {i}."
                     for i in range(a.shots))
    for i in range(a.prompts):
        prompt = f"{shots} Question: what is {i + 50} plus {i * 3 + 7}? Answer:"
        sys.stdout.write(json.dumps({"id": f"q{i}", "prompt": prompt}) + "\n")


if __name__ == "__main__":
    main()
