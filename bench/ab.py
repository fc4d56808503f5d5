#!/usr/bin/python3
"""A/B timing on a noisy shared machine: runs two commands alternately, many short rounds,
and reports each one's median and the median of the per-round ratios B/A (with the share of
rounds B won). Neighbours' load drifts over minutes; alternating in seconds-long rounds makes
both sides see the same drift, so a few-percent difference shows where one long run each
would not.

  bench/ab.py --rounds 15 --pattern 'tg64@0 tok/s \\| ([0-9.]+)' \\
      -a 'old/qlm bench -m q05-q4 --reps 1 --gen-tokens 64 --prompt-tokens 16 --no-quality' \\
      -b 'new/qlm bench -m q05-q4 --reps 1 --gen-tokens 64 --prompt-tokens 16 --no-quality'

--pattern is a regular expression whose first group is the number (higher = better unless
--lower-is-better); it is searched in stdout then stderr.
"""
import argparse
import re
import shlex
import statistics
import subprocess
import sys


def measure(cmd, pattern):
    p = subprocess.run(shlex.split(cmd), capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"ab: '{cmd}' exited {p.returncode}: {p.stderr.strip().splitlines()[-1:]}")
    for text in (p.stdout, p.stderr):
        m = re.search(pattern, text)
        if m:
            return float(m.group(1))
    sys.exit(f"ab: --pattern {pattern!r} not found in the output of '{cmd}'")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-a", required=True, help="command A (the baseline)")
    ap.add_argument("-b", required=True, help="command B")
    ap.add_argument("--pattern", required=True, help="regex; group 1 is the measured number")
    ap.add_argument("--rounds", type=int, default=10, help="rounds of A then B (default 10)")
    ap.add_argument("--lower-is-better", action="store_true", help="e.g. for times")
    args = ap.parse_args()
    if args.rounds < 1:
        sys.exit("ab: --rounds must be at least 1")
    a, b = [], []
    for r in range(args.rounds):
        first, second = (args.a, args.b) if r % 2 == 0 else (args.b, args.a)  # alternate who goes first
        x, y = measure(first, args.pattern), measure(second, args.pattern)
        va, vb = (x, y) if r % 2 == 0 else (y, x)
        a.append(va)
        b.append(vb)
        print(f"round {r + 1}/{args.rounds}: A {va:g}  B {vb:g}", file=sys.stderr, flush=True)
    ratios = [y / x for x, y in zip(a, b)]
    wins = sum((y < x) if args.lower_is_better else (y > x) for x, y in zip(a, b))
    print(f"A median {statistics.median(a):g} (min {min(a):g}, max {max(a):g})")
    print(f"B median {statistics.median(b):g} (min {min(b):g}, max {max(b):g})")
    print(f"B/A per round: median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}); "
          f"B better in {wins} of {args.rounds} rounds")


if __name__ == "__main__":
    main()
