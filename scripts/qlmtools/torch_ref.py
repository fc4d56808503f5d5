"""Independent PyTorch reference forward pass for Qwen2/Llama checkpoints in Hugging Face or
MLX affine layout, written from the transformers modeling code's definitions (RMSNorm,
rotate-half RoPE, GQA, SwiGLU) in float64. It shares no code with qlm's C++."""
import glob
import json
import math
import os

import numpy as np
import torch

from . import st_io


def load_tensors(model_dir):
    files = sorted(glob.glob(os.path.join(model_dir, "*.safetensors")))
    out = {}
    for f in files:
        out.update(st_io.load(f))
    return out


def unpack_codes(packed_u32, bits, cols):
    """MLX packing (MLX-FORMAT.md b5): LSB-first codes; for every width this equals an
    LSB-first bitstream over the little-endian bytes of each row."""
    rows = packed_u32.shape[0]
    raw = np.ascontiguousarray(packed_u32).view(np.uint8).reshape(rows, -1)
    bitstream = np.unpackbits(raw, axis=1, bitorder="little")[:, :cols * bits]
    weights = (1 << np.arange(bits)).astype(np.uint32)
    return (bitstream.reshape(rows, cols, bits).astype(np.uint32) * weights).sum(axis=2)


def dequantize(w, scales, biases, bits, group):
    cols = scales.shape[1] * group
    q = unpack_codes(w, bits, cols).astype(np.float64)
    s = np.repeat(scales.astype(np.float64), group, axis=1)
    b = np.repeat(biases.astype(np.float64), group, axis=1)
    return s * q + b


class Reference:
    def __init__(self, model_dir, kv_dtype=None):
        """kv_dtype=torch.float16 rounds K (after RoPE) and V to half precision, as an F16 KV
        cache stores them; everything else stays float64."""
        self.kv_dtype = kv_dtype
        with open(os.path.join(model_dir, "config.json")) as f:
            self.cfg = json.load(f)
        c = self.cfg
        self.hidden = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.kv_heads = c.get("num_key_value_heads", self.heads)
        self.head_dim = c.get("head_dim") or self.hidden // self.heads
        self.eps = c.get("rms_norm_eps", 1e-6)
        rp = c.get("rope_parameters") or {}
        self.theta = rp.get("rope_theta", c.get("rope_theta", 10000.0))
        self.layers = c["num_hidden_layers"]
        q = c.get("quantization") or c.get("quantization_config") or {}
        self.q_default = (q.get("bits", 4), q.get("group_size", 64))
        self.q_overrides = {k: v for k, v in q.items() if isinstance(v, dict)}
        self.t = load_tensors(model_dir)

    def matrix(self, path):
        """The float64 weight of module `path`, dequantized when `<path>.scales` exists."""
        dt, w = self.t[path + ".weight"]
        if path + ".scales" not in self.t:
            return torch.from_numpy(st_io.to_f32(dt, w).astype(np.float64))
        sdt, s = self.t[path + ".scales"]
        _, b = self.t[path + ".biases"]
        bits = self.q_overrides.get(path, {}).get("bits", self.q_default[0])
        cols = w.shape[1] * 32 // bits
        group = cols // s.shape[1]
        return torch.from_numpy(dequantize(w, st_io.to_f32(sdt, s), st_io.to_f32(sdt, b), bits, group))

    def vector(self, name):
        dt, v = self.t[name]
        return torch.from_numpy(st_io.to_f32(dt, v).astype(np.float64))

    def rms_norm(self, x, weight):
        var = x.pow(2).mean(-1, keepdim=True)
        return weight * (x * torch.rsqrt(var + self.eps))

    def rope(self, x, positions):
        # x: [heads, T, head_dim]; HF rotate_half convention.
        d = self.head_dim
        inv_freq = 1.0 / (self.theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
        ang = positions[:, None].double() * inv_freq[None, :]
        emb = torch.cat([ang, ang], dim=-1)
        cos, sin = emb.cos(), emb.sin()
        x1, x2 = x[..., : d // 2], x[..., d // 2:]
        rotated = torch.cat([-x2, x1], dim=-1)
        return x * cos + rotated * sin

    def logits(self, ids):
        """Logits [T, vocab] for a whole sequence (causal), float64."""
        ids = torch.tensor(ids, dtype=torch.long)
        T = ids.shape[0]
        emb = self.matrix("model.embed_tokens")
        x = emb[ids]
        pos = torch.arange(T)
        mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
        hd, nh, nkv = self.head_dim, self.heads, self.kv_heads
        for l in range(self.layers):
            p = f"model.layers.{l}."
            h = self.rms_norm(x, self.vector(p + "input_layernorm.weight"))
            def proj(name):
                y = h @ self.matrix(p + "self_attn." + name).T
                if p + "self_attn." + name + ".bias" in self.t:
                    y = y + self.vector(p + "self_attn." + name + ".bias")
                return y
            q = proj("q_proj").view(T, nh, hd).transpose(0, 1)
            k = proj("k_proj").view(T, nkv, hd).transpose(0, 1)
            v = proj("v_proj").view(T, nkv, hd).transpose(0, 1)
            q, k = self.rope(q, pos), self.rope(k, pos)
            if self.kv_dtype is not None:
                k = k.to(self.kv_dtype).to(torch.float64)
                v = v.to(self.kv_dtype).to(torch.float64)
            k = k.repeat_interleave(nh // nkv, dim=0)
            v = v.repeat_interleave(nh // nkv, dim=0)
            att = (q @ k.transpose(1, 2)) / math.sqrt(hd) + mask
            o = torch.softmax(att, dim=-1) @ v
            o = o.transpose(0, 1).reshape(T, nh * hd)
            x = x + o @ self.matrix(p + "self_attn.o_proj").T
            h = self.rms_norm(x, self.vector(p + "post_attention_layernorm.weight"))
            g = h @ self.matrix(p + "mlp.gate_proj").T
            u = h @ self.matrix(p + "mlp.up_proj").T
            x = x + (torch.nn.functional.silu(g) * u) @ self.matrix(p + "mlp.down_proj").T
        x = self.rms_norm(x, self.vector("model.norm.weight"))
        tied = self.cfg.get("tie_word_embeddings", False)
        head = emb if tied else self.matrix("lm_head")
        return x @ head.T

    def score(self, ids):
        """log p(ids[i+1] | ids[:i+1]) for i < len(ids) - 1."""
        lp = torch.log_softmax(self.logits(ids), dim=-1)
        return [lp[i, ids[i + 1]].item() for i in range(len(ids) - 1)]

    def greedy(self, ids, n):
        """n greedy tokens and the smallest top-2 logit margin met on the way."""
        ids = list(ids)
        out, margin = [], float("inf")
        for _ in range(n):
            lg = self.logits(ids)[-1]
            top = torch.topk(lg, 2)
            margin = min(margin, (top.values[0] - top.values[1]).item())
            nxt = int(top.indices[0])
            out.append(nxt)
            ids.append(nxt)
        return out, margin
