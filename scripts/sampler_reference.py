#!/usr/bin/python3
"""Independent numpy reference of qlm's sampler semantics; writes the goldens the C++ tests read.

Written from the definitions (HF repetition penalty, OpenAI presence/frequency penalties,
temperature, top-k, top-p, min-p), with full sorts and dense arrays: no shared code or tricks
with src/sampler. Regenerate:  /usr/bin/python3 scripts/sampler_reference.py \
    tests/sampler/golden/sampler_golden.json     (add --check to compare instead of write)
"""
import json
import sys

import numpy as np

F32 = np.float32


def penalise(logits, prompt, output, p):
    """Penalised logits in float32, in vLLM's order: repetition, frequency, presence."""
    v = len(logits)
    y = np.asarray(logits, dtype=F32).copy()
    seen = np.bincount(np.asarray(list(prompt) + list(output), dtype=np.int64), minlength=v) > 0
    out_counts = np.bincount(np.asarray(output, dtype=np.int64), minlength=v).astype(F32)
    rep = F32(p["repetition_penalty"])
    if rep != F32(1):
        y = np.where(seen, np.where(y > 0, y / rep, y * rep), y).astype(F32)
    y = (y - F32(p["frequency_penalty"]) * out_counts).astype(F32)
    y = (y - F32(p["presence_penalty"]) * (out_counts > 0).astype(F32)).astype(F32)
    return y


def log_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    m = x.max()
    return x - (m + np.log(np.exp(x - m).sum()))


def final_distribution(y, p):
    """The distribution sampled from (float64 [V]) for temperature >= 1e-5 (below: greedy)."""
    v = len(y)
    t = F32(p["temperature"])
    s = (y / t).astype(F32)
    w = np.exp((s - s.max()).astype(F32).astype(np.float64))  # max has weight exactly 1
    order = sorted(range(v), key=lambda i: (-float(y[i]), i))  # logit desc, then id asc
    keep = np.ones(v, dtype=bool)
    k = p["top_k"]
    if 0 < k < v:
        keep[:] = False
        keep[order[:k]] = True
    top_p = float(F32(p["top_p"]))
    if top_p < 1.0:
        z = w[keep].sum()
        cum = 0.0
        done = False
        for i in order:
            if not keep[i]:
                continue
            if done:
                keep[i] = False
                continue
            cum += w[i]
            done = cum >= top_p * z
    min_p = float(F32(p["min_p"]))
    if min_p > 0.0:
        keep &= w >= min_p  # p_i >= min_p * p_max, as w_max = 1
    probs = np.where(keep, w, 0.0)
    return probs / probs.sum()


def params(**kw):
    base = dict(temperature=0.0, top_k=0, top_p=1.0, min_p=0.0, repetition_penalty=1.0,
                presence_penalty=0.0, frequency_penalty=0.0, seed=0)
    base.update(kw)
    return base


def floats(a):
    return [float(x) for x in np.asarray(a, dtype=F32)]


def penalty_cases(rng):
    cases = []
    settings = [params(repetition_penalty=1.3), params(presence_penalty=0.7),
                params(frequency_penalty=0.4), params(repetition_penalty=0.8, frequency_penalty=-0.3),
                params(repetition_penalty=1.1, presence_penalty=1.5, frequency_penalty=0.25),
                params(presence_penalty=-2.0, frequency_penalty=2.0), params()]
    for n, p in enumerate(settings * 2):
        v = int(rng.integers(20, 300))
        logits = (rng.normal(0, 3, v)).astype(F32)
        logits[rng.integers(0, v, 3)] = 0.0  # repetition penalty at exactly 0
        prompt = [int(i) for i in rng.integers(0, v, int(rng.integers(0, 30)))]
        output = [int(i) for i in rng.integers(0, v // 3, int(rng.integers(1, 40)))]
        if n == 3:  # make a seen token the raw argmax so the penalty moves the choice
            logits[output[0]] = logits.max() + 0.5
        y = penalise(logits, prompt, output, p)
        raw = log_softmax(logits)
        gid = int(np.argmax(y))
        top = sorted(range(v), key=lambda i: (-raw[i], i))[:5]
        cases.append(dict(vocab=v, logits=floats(logits), prompt=prompt, output=output, params=p,
                          penalised=floats(y), greedy_id=gid, lp_raw=float(raw[gid]),
                          lp_processed=float(log_softmax(y)[gid]),
                          top=[[i, float(raw[i])] for i in top]))
    return cases


def stat_cases():
    # A fixed 40-entry logit vector with well-separated values so no filter boundary is
    # within rounding of its threshold (checked below).
    logits = (np.linspace(3.0, -4.0, 40) + 0.37 * np.sin(np.arange(40) * 1.7)).astype(F32)
    settings = {"temp_0.7": params(temperature=0.7), "temp_1.5": params(temperature=1.5),
                "temp_1": params(temperature=1.0), "top_k_5": params(temperature=1.0, top_k=5),
                "top_p_0.8": params(temperature=1.0, top_p=0.8),
                "min_p_0.1": params(temperature=1.0, min_p=0.1),
                "combo": params(temperature=0.8, top_k=20, top_p=0.9, min_p=0.05),
                "combo_min_p_binds": params(temperature=1.3, top_k=30, top_p=0.97, min_p=0.2)}
    cases = []
    for name, p in settings.items():
        cases.append(dict(name=name, logits=floats(logits), params=p,
                          probs=[float(x) for x in final_distribution(logits, p)]))
    return cases


def hashed_logits(v, seed, scale):
    """Logits both sides compute bit-identically (integer hash, exact float32 ops), so the
    8192-entry vectors need not be stored: (u - 0.5) * scale, u = (h >> 8) * 2^-24."""
    h = (np.arange(v, dtype=np.uint64) * np.uint64(2654435761) + np.uint64(seed)) & np.uint64(0xFFFFFFFF)
    u = (h >> np.uint64(8)).astype(F32) * F32(2.0 ** -24)
    return ((u - F32(0.5)) * F32(scale)).astype(F32)


def sampling_cases(rng):
    """Large-vocabulary cases: the kept set (as its last member in (logit desc, id asc)
    order), its size and log-normaliser, for the C++ test to check each draw against."""
    cases = []
    settings = [params(temperature=0.9, top_p=0.9), params(temperature=1.0, top_k=50, top_p=0.95),
                params(temperature=0.6, min_p=0.3), params(temperature=1.0, top_k=3000),
                params(temperature=1.2, top_p=0.9, repetition_penalty=1.2, frequency_penalty=0.5),
                params(temperature=1.0, top_p=0.5, min_p=0.9), params(temperature=2.0, top_p=0.999),
                params(temperature=1.0)]  # plain sampling: one exp pass serves draw and raw log-probs
    for n, p in enumerate(settings):
        v, seed, scale = 8192, 1000 + n, 1.5  # > 4096 candidates: the chunked sort runs
        logits = hashed_logits(v, seed, scale)
        prompt = [int(i) for i in rng.integers(0, v, 20)]
        output = [int(i) for i in rng.integers(0, v, 10)]
        y = penalise(logits, prompt, output, p)
        probs = final_distribution(y, p)
        kept = [i for i in sorted(range(v), key=lambda i: (-float(y[i]), i)) if probs[i] > 0]
        s = (y / F32(p["temperature"])).astype(F32)
        w = np.exp((s - s.max()).astype(F32).astype(np.float64))
        cases.append(dict(vocab=v, hash_seed=seed, scale=scale, prompt=prompt, output=output,
                          params=p, n_kept=len(kept), last_kept=kept[-1],
                          s_max=float(s.max()), log_z_kept=float(np.log(w[probs > 0].sum())),
                          lse_raw=float(np.log(np.exp(logits.astype(np.float64)).sum()))))
    return cases


def xoshiro256ss(seed, n):
    """First n outputs of xoshiro256** seeded through splitmix64: pins the C++ stream."""
    mask = (1 << 64) - 1
    state = []
    for _ in range(4):
        seed = (seed + 0x9E3779B97F4A7C15) & mask
        z = seed
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        state.append(z ^ (z >> 31))
    rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & mask
    out = []
    for _ in range(n):
        out.append(rotl((state[1] * 5) & mask, 7) * 9 & mask)
        t = (state[1] << 17) & mask
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
    return out


def differs(a, b, path="golden"):
    """The first path where a and b differ, or None. Floats may differ by a few ulps: numpy's
    exp and log take different SIMD paths on different CPUs (AVX-512 vs AVX2 machines gave
    last-digit differences); ids, counts and strings must match exactly."""
    if isinstance(a, float) or isinstance(b, float):
        return None if isinstance(a, (int, float)) and isinstance(b, (int, float)) and \
            abs(a - b) <= 1e-13 * max(1.0, abs(a), abs(b)) else path
    if type(a) is not type(b):
        return path
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return path
        return next((p for k in a if (p := differs(a[k], b[k], f"{path}.{k}"))), None)
    if isinstance(a, list):
        if len(a) != len(b):
            return path
        return next((p for i, (x, y) in enumerate(zip(a, b)) if (p := differs(x, y, f"{path}[{i}]"))), None)
    return None if a == b else path


def main():
    args = [a for a in sys.argv[1:] if a != "--check"]
    if len(args) != 1:
        sys.exit("usage: sampler_reference.py [--check] GOLDEN.json")
    rng = np.random.default_rng(20261127)
    golden = dict(penalty_cases=penalty_cases(rng), stat_cases=stat_cases(),
                  sampling_cases=sampling_cases(rng),
                  rng=[dict(seed=seed, outputs=[str(x) for x in xoshiro256ss(seed, 6)])
                       for seed in (0, 42, 2**64 - 1)])
    text = json.dumps(golden, separators=(",", ":")) + "\n"
    if "--check" in sys.argv:
        with open(args[0]) as f:
            stale = differs(json.load(f), json.loads(text))
        if stale:
            sys.exit(f"{args[0]} is stale at {stale}: regenerate it with scripts/sampler_reference.py")
        print("1 passed, 0 failed")
    else:
        with open(args[0], "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
