#!/usr/bin/python3
"""Writes a random-weight Qwen2 or Llama checkpoint in Hugging Face layout (config.json,
generation_config.json, model.safetensors or shards + index), seeded and reproducible.

Streams tensor by tensor, so 7B-shaped checkpoints need little memory.
Example: make_random_model.py --preset qwen2.5-0.5b --dtype bf16 --out /tmp/q05
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qlmtools import st_io  # noqa: E402

PRESETS = {
    # name: arch, hidden, intermediate, layers, heads, kv_heads, vocab, tied, rope_theta
    "tiny-qwen2": ("qwen2", 64, 160, 2, 4, 2, 320, True, 1e6),
    "tiny-llama": ("llama", 64, 128, 2, 4, 1, 300, False, 1e4),
    "qwen2.5-0.5b": ("qwen2", 896, 4864, 24, 14, 2, 151936, True, 1e6),
    "qwen2.5-1.5b": ("qwen2", 1536, 8960, 28, 12, 2, 151936, True, 1e6),
    "qwen2.5-7b": ("qwen2", 3584, 18944, 28, 28, 4, 152064, False, 1e6),
}
TORCH_DTYPE = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}
ST_DTYPE = {"f32": "F32", "f16": "F16", "bf16": "BF16"}


def tensor_specs(a):
    """[(name, shape, kind)] in Hugging Face names; kind picks the init distribution."""
    h, i, hd = a.hidden, a.intermediate, a.head_dim
    q, kv = a.heads * hd, a.kv_heads * hd
    specs = [("model.embed_tokens.weight", (a.vocab, h), "embed")]
    for l in range(a.layers):
        p = f"model.layers.{l}."
        specs += [(p + "input_layernorm.weight", (h,), "norm"),
                  (p + "self_attn.q_proj.weight", (q, h), "linear"),
                  (p + "self_attn.k_proj.weight", (kv, h), "linear"),
                  (p + "self_attn.v_proj.weight", (kv, h), "linear")]
        if a.arch == "qwen2":
            specs += [(p + "self_attn.q_proj.bias", (q,), "bias"),
                      (p + "self_attn.k_proj.bias", (kv,), "bias"),
                      (p + "self_attn.v_proj.bias", (kv,), "bias")]
        specs += [(p + "self_attn.o_proj.weight", (h, q), "linear"),
                  (p + "post_attention_layernorm.weight", (h,), "norm"),
                  (p + "mlp.gate_proj.weight", (i, h), "linear"),
                  (p + "mlp.up_proj.weight", (i, h), "linear"),
                  (p + "mlp.down_proj.weight", (h, i), "linear")]
    specs.append(("model.norm.weight", (h,), "norm"))
    if not a.tied:
        specs.append(("lm_head.weight", (a.vocab, h), "embed"))
    return specs


def random_tensor(rng, shape, kind, a):
    """Scales chosen so activations stay O(1) and next-token distributions are peaked
    enough (logit std ~ 2) for log-prob comparisons to be meaningful."""
    if kind == "norm":
        return 1.0 + 0.1 * rng.standard_normal(shape, dtype=np.float32)
    if kind == "bias":
        return 0.1 * rng.standard_normal(shape, dtype=np.float32)
    std = 2.0 / np.sqrt(a.hidden) if kind == "embed" else 1.0 / np.sqrt(shape[1])
    out = np.empty(shape, dtype=np.float32)
    rows = max(1, (1 << 24) // shape[1])  # generate in slabs to bound memory
    for r in range(0, shape[0], rows):
        out[r:r + rows] = rng.standard_normal((min(rows, shape[0] - r), shape[1]), dtype=np.float32)
        out[r:r + rows] *= std
    return out


def encode(arr, dtype):
    if dtype == "bf16":
        return st_io.f32_to_bf16_bits(arr)
    return arr.astype(np.float16 if dtype == "f16" else np.float32)


def write_config(a):
    cfg = {
        "architectures": ["Qwen2ForCausalLM" if a.arch == "qwen2" else "LlamaForCausalLM"],
        "model_type": a.arch,
        "hidden_size": a.hidden, "intermediate_size": a.intermediate,
        "num_hidden_layers": a.layers, "num_attention_heads": a.heads,
        "num_key_value_heads": a.kv_heads, "vocab_size": a.vocab,
        "max_position_embeddings": a.max_pos, "rms_norm_eps": 1e-6,
        "rope_theta": a.rope_theta, "tie_word_embeddings": a.tied, "hidden_act": "silu",
        "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": TORCH_DTYPE[a.dtype],
    }
    if a.head_dim != a.hidden // a.heads:
        cfg["head_dim"] = a.head_dim
    if a.arch == "llama":
        cfg["attention_bias"] = False
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(a.out, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": 1, "eos_token_id": 2}, f, indent=2)


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt",
                   "added_tokens.json", "special_tokens_map.json", "chat_template.jinja")


def copy_tokenizer(a):
    """Copies tokenizer files and makes the vocabulary cover every token id they use."""
    import shutil
    n = 0
    for f in TOKENIZER_FILES:
        src = os.path.join(a.tokenizer, f)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(a.out, f))
            n += 1
    if n == 0:
        sys.exit(f"--tokenizer: no tokenizer files in {a.tokenizer}")
    ids = []
    tj = os.path.join(a.tokenizer, "tokenizer.json")
    if os.path.exists(tj):
        t = json.load(open(tj))
        ids += list(t["model"]["vocab"].values()) + [x["id"] for x in t.get("added_tokens", [])]
    vj = os.path.join(a.tokenizer, "vocab.json")
    if os.path.exists(vj):
        ids += list(json.load(open(vj)).values())
    tc = os.path.join(a.tokenizer, "tokenizer_config.json")
    if os.path.exists(tc):
        ids += [int(k) for k in json.load(open(tc)).get("added_tokens_decoder", {})]
    a.vocab = max(a.vocab, max(ids) + 1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="tiny-qwen2")
    p.add_argument("--arch", choices=["qwen2", "llama"])
    for k in ["hidden", "intermediate", "layers", "heads", "kv-heads", "vocab", "head-dim"]:
        p.add_argument("--" + k, type=int)
    p.add_argument("--tied", choices=["yes", "no"])
    p.add_argument("--dtype", choices=sorted(ST_DTYPE), default="f32")
    p.add_argument("--max-pos", type=int, default=4096)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--shards", type=int, default=1, help="split into N files with an index")
    p.add_argument("--tokenizer", help="copy the tokenizer files of this folder (sets the vocab size to fit)")
    a = p.parse_args()

    arch, hidden, inter, layers, heads, kvh, vocab, tied, theta = PRESETS[a.preset]
    a.arch = a.arch or arch
    a.hidden = a.hidden or hidden
    a.intermediate = a.intermediate or inter
    a.layers = a.layers or layers
    a.heads = a.heads or heads
    a.kv_heads = a.kv_heads or kvh
    a.vocab = a.vocab or vocab
    a.tied = tied if a.tied is None else a.tied == "yes"
    a.head_dim = a.head_dim or a.hidden // a.heads
    a.rope_theta = theta

    os.makedirs(a.out, exist_ok=True)
    if a.tokenizer:
        copy_tokenizer(a)
    write_config(a)
    specs = tensor_specs(a)
    rng = np.random.default_rng(a.seed)
    st = ST_DTYPE[a.dtype]
    n_shards = max(1, min(a.shards, len(specs)))
    per = (len(specs) + n_shards - 1) // n_shards
    weight_map, total = {}, 0
    for s in range(n_shards):
        part = specs[s * per:(s + 1) * per]
        if not part:
            continue
        fname = "model.safetensors" if n_shards == 1 else f"model-{s + 1:05d}-of-{n_shards:05d}.safetensors"
        w = st_io.Writer(os.path.join(a.out, fname), [(n, st, shp) for n, shp, _ in part],
                         metadata={"format": "pt"})
        for name, shape, kind in part:
            arr = encode(random_tensor(rng, shape, kind, a), a.dtype)
            w.write(name, arr)
            weight_map[name] = fname
            total += arr.nbytes
        w.close()
    if n_shards > 1:
        with open(os.path.join(a.out, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)


if __name__ == "__main__":
    main()
