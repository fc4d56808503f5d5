"""MLX's affine quantizer and packing in numpy, written from MLX-FORMAT.md (b5, b6), and a
writer of MLX-layout model folders with the variants real mlx-lm folders have (F16 or BF16
scales, shards, legacy weights.NN names, per-module overrides, unquantized embedding).
Independent of qlm's C++: the oracle for `qlm convert --method rtn` and for loading."""
import json
import os

import numpy as np

from . import st_io

QUANTIZABLE = ("embed_tokens", "lm_head", "q_proj", "k_proj", "v_proj", "o_proj",
               "gate_proj", "up_proj", "down_proj")


def quantize(w, bits, group):
    """w: float32 [rows, cols] -> (codes uint32 [rows, cols], scales f32, biases f32) exactly
    as MLX's CPU quantize computes them in float32."""
    w = np.asarray(w, dtype=np.float32)
    rows, cols = w.shape
    g = w.reshape(rows, cols // group, group)
    n_bins = np.float32((1 << bits) - 1)
    wmax, wmin = g.max(axis=2), g.min(axis=2)
    mask = np.abs(wmin) > np.abs(wmax)
    scale = np.maximum((wmax - wmin) / n_bins, np.float32(1e-7)).astype(np.float32)
    scale = np.where(mask, scale, -scale).astype(np.float32)
    edge = np.where(mask, wmin, wmax).astype(np.float32)
    q0 = np.rint(edge / scale).astype(np.float32)
    nz = q0 != 0
    safe_q0 = np.where(nz, q0, np.float32(1))
    scale = np.where(nz, edge / safe_q0, scale).astype(np.float32)
    bias = np.where(nz, edge, np.float32(0)).astype(np.float32)
    q = np.rint((g - bias[..., None]) / scale[..., None])
    q = np.clip(q, 0, n_bins).astype(np.uint32).reshape(rows, cols)
    return q, scale, bias


def pack(codes, bits):
    """LSB-first packing into uint32 words [rows, cols * bits / 32] (b5); for 3/5/6 bits a
    byte bitstream, which for 2/4/8 bits is the same as codes per little-endian word."""
    rows, cols = codes.shape
    bitplanes = ((codes[..., None] >> np.arange(bits, dtype=np.uint32)) & 1).astype(np.uint8)
    packed = np.packbits(bitplanes.reshape(rows, cols * bits), axis=1, bitorder="little")
    return packed.view(np.uint32).reshape(rows, cols * bits // 32)


def encode_float(x, dtype):
    if dtype == "BF16":
        return st_io.f32_to_bf16_bits(x)
    return np.asarray(x, dtype=np.float16 if dtype == "F16" else np.float32)


def as_model_dtype(x, dtype):
    """Rounds to the model dtype, as mlx-lm casts the model before quantizing."""
    return st_io.to_f32(dtype, encode_float(x, dtype)) if dtype != "F32" else np.asarray(x, np.float32)


def write_mlx_folder(src_dir, out_dir, bits=4, group=64, dtype="BF16", overrides=None,
                     quantize_embedding=True, shards=1, legacy_names=False, skip_modules=()):
    """Quantizes a float checkpoint folder into MLX layout with numpy. overrides: {module: bits}
    (recorded in config "quantization" like mlx-lm's mixed recipes). skip_modules are left
    float without saying so in the config (a broken folder, for inspect's checks)."""
    overrides = overrides or {}
    cfg = json.load(open(os.path.join(src_dir, "config.json")))
    tensors = {}
    for f in sorted(os.listdir(src_dir)):
        if f.endswith(".safetensors"):
            tensors.update(st_io.load(os.path.join(src_dir, f)))
    out = {}
    for name, (dt, arr) in sorted(tensors.items()):
        w = as_model_dtype(st_io.to_f32(dt, arr), dtype)
        module = name[: -len(".weight")] if name.endswith(".weight") else None
        quantizable = (module is not None and w.ndim == 2 and module.split(".")[-1] in QUANTIZABLE
                       and (quantize_embedding or "embed_tokens" not in module)
                       and module not in skip_modules)
        if cfg.get("tie_word_embeddings") and name == "lm_head.weight":
            continue
        b = overrides.get(module, bits)
        if quantizable and w.shape[1] % group == 0:
            q, s, bias = quantize(w, b, group)
            out[module + ".weight"] = ("U32", pack(q, b))
            out[module + ".scales"] = (dtype, encode_float(s, dtype))
            out[module + ".biases"] = (dtype, encode_float(bias, dtype))
        else:
            out[name] = (dtype, encode_float(w, dtype))
    q = {"group_size": group, "bits": bits, "mode": "affine"}
    for module, b in overrides.items():
        q[module] = {"group_size": group, "bits": b, "mode": "affine"}
    cfg["quantization"] = q
    cfg["quantization_config"] = q
    os.makedirs(out_dir, exist_ok=True)
    json.dump(cfg, open(os.path.join(out_dir, "config.json"), "w"), indent=4, sort_keys=True)
    names = sorted(out)
    per = (len(names) + shards - 1) // shards
    weight_map = {}
    for i in range(shards):
        part = names[i * per:(i + 1) * per]
        if legacy_names:
            fname = f"weights.{i:02d}.safetensors"
        else:
            fname = "model.safetensors" if shards == 1 else f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        w = st_io.Writer(os.path.join(out_dir, fname), [(n, out[n][0], out[n][1].shape) for n in part],
                         metadata={"format": "mlx"})
        for n in part:
            w.write(n, out[n][1])
            weight_map[n] = fname
        w.close()
    if not legacy_names:
        json.dump({"metadata": {}, "weight_map": weight_map},
                  open(os.path.join(out_dir, "model.safetensors.index.json"), "w"), indent=4)
    return out
