#!/usr/bin/env python3
"""Assembles the fuzz targets' seed corpora into OUT/<target>/ from ../shared/data (read there,
never copied into the repository), the test suite's files and the small hand-made seeds in
fuzz/seeds/. Large real files are cut down to small valid ones (a 10 MB tokenizer.json makes a
slow, poor seed): the tokenizers keep their pipeline and the first merges, the safetensors
files their real header shapes with tiny data.

Usage: fuzz_seeds.py OUT [--shared DIR]"""
import argparse
import glob
import hashlib
import json
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def byte_level_chars():
    """GPT-2's byte -> unicode table (the vocabulary spelling of each raw byte)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


class Seeds:
    def __init__(self, out):
        self.out = out
        self.count = {}

    def add(self, target, data, name=None):
        if isinstance(data, str):
            data = data.encode()
        d = os.path.join(self.out, target)
        os.makedirs(d, exist_ok=True)
        name = name or hashlib.sha1(data).hexdigest()[:16]
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        self.count[target] = self.count.get(target, 0) + 1


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def small_bpe(vocab, merges, keep_merges, byte_level):
    """A consistent cut of a BPE vocabulary: the base symbols plus what the first merges make,
    renumbered from 0; returns (vocab dict, merges list of 'a b', id map old -> new)."""
    if byte_level:
        base = [c for c in byte_level_chars() if c in vocab]
    else:
        base = [t for t in vocab if len(t) == 1 or (t.startswith("<") and t.endswith(">"))]
    keep = dict.fromkeys(base)
    kept_merges = []
    for m in merges:
        a, b = m.split(" ", 1) if isinstance(m, str) else m
        if a in keep and b in keep and a + b in vocab:
            keep[a + b] = None
            kept_merges.append(f"{a} {b}")
            if len(kept_merges) >= keep_merges:
                break
    new = {t: i for i, t in enumerate(keep)}
    return new, kept_merges


def tokenizer_json_seeds(s, shared):
    for path in sorted(glob.glob(os.path.join(shared, "tokenizers/*/tokenizer.json")) +
                       glob.glob(os.path.join(shared, "models/*/tokenizer.json"))):
        tj = json.loads(read(path, "r"))
        model = tj["model"]
        byte_level = "ByteLevel" in json.dumps(tj.get("pre_tokenizer"))
        if len(model["vocab"]) > 2000:
            vocab, merges = small_bpe(model["vocab"], model["merges"], 300, byte_level)
            tj["model"]["vocab"], tj["model"]["merges"] = vocab, merges
            next_id = len(vocab)
            added = []
            for t in tj.get("added_tokens", [])[:12]:
                t = dict(t, id=next_id)
                next_id += 1
                added.append(t)
            tj["added_tokens"] = added
        text = json.dumps(tj, ensure_ascii=False)
        cfg_path = os.path.join(os.path.dirname(path), "tokenizer_config.json")
        s.add("tokenizer_json", text)
        if os.path.exists(cfg_path):
            cfg = json.loads(read(cfg_path))
            cfg.pop("chat_template", None)
            cfg.pop("added_tokens_decoder", None)
            s.add("tokenizer_json", text.encode() + b"\0" + json.dumps(cfg).encode())


def vocab_merges_seeds(s, shared):
    d = os.path.join(shared, "tokenizers/qwen2.5")
    if not os.path.exists(os.path.join(d, "vocab.json")):
        return
    vocab = json.loads(read(os.path.join(d, "vocab.json")))
    merges = [l for l in read(os.path.join(d, "merges.txt")).split("\n")[1:] if l]
    small, kept = small_bpe(vocab, merges, 300, True)
    cfg = json.loads(read(os.path.join(d, "tokenizer_config.json")))
    cfg.pop("chat_template", None)
    decoder = {}
    for i, (k, v) in enumerate(cfg.get("added_tokens_decoder", {}).items()):
        decoder[str(len(small) + i)] = v
    cfg["added_tokens_decoder"] = decoder
    vtext = json.dumps(small, ensure_ascii=False).encode()
    mtext = ("#version: 0.2\n" + "\n".join(kept) + "\n").encode()
    s.add("vocab_merges", vtext + b"\0" + mtext + b"\0" + json.dumps(cfg).encode())
    added = {v["content"]: int(k) for k, v in decoder.items()}
    specials = read(os.path.join(d, "special_tokens_map.json")).encode()
    s.add("vocab_merges", vtext + b"\0" + mtext + b"\0" + b'{"tokenizer_class": "GPT2Tokenizer"}' + b"\0" +
          json.dumps(added).encode() + b"\0" + specials)


def safetensors_file(header, data):
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


def safetensors_seeds(s, shared):
    sizes = {"F32": 4, "F16": 2, "BF16": 2, "U32": 4, "I8": 1, "U8": 1, "I32": 4, "I64": 8, "F64": 8, "BOOL": 1}
    for path in sorted(glob.glob(os.path.join(shared, "models/*/model.safetensors"))):
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            real = json.loads(f.read(n))
        # The real header's names, dtypes and ranks, shrunk to tiny shapes so the seed stays small.
        header, off = {}, 0
        if "__metadata__" in real:
            header["__metadata__"] = real["__metadata__"]
        for name, t in list((k, v) for k, v in real.items() if k != "__metadata__")[:12]:
            shape = [min(d, 3) for d in t["shape"]]
            nbytes = sizes.get(t["dtype"], 4)
            for d in shape:
                nbytes *= d
            header[name] = {"dtype": t["dtype"], "shape": shape, "data_offsets": [off, off + nbytes]}
            off += nbytes
        s.add("safetensors", safetensors_file(header, bytes(range(256)) * (off // 256) + bytes(off % 256)))
    header, off = {"__metadata__": {"format": "pt"}}, 0
    for dt, size in sizes.items():
        header["t_" + dt.lower()] = {"dtype": dt, "shape": [2, 1], "data_offsets": [off, off + 2 * size]}
        off += 2 * size
    header["empty"] = {"dtype": "F32", "shape": [0, 4], "data_offsets": [off, off]}
    s.add("safetensors", safetensors_file(header, bytes(off)))
    s.add("safetensors", safetensors_file({}, b""))


def index_seeds(s, shared):
    for path in glob.glob(os.path.join(shared, "configs/*/model.safetensors.index.json")):
        s.add("safetensors_index", read(path, "rb"))
    s.add("safetensors_index", json.dumps({"metadata": {"total_size": 10}, "weight_map": {
        "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
        "lm_head.weight": "model-00002-of-00002.safetensors"}}))


def config_seeds(s, shared):
    configs = sorted(glob.glob(os.path.join(shared, "configs/*/config.json")) +
                     glob.glob(os.path.join(shared, "models/*/config.json")))
    for path in configs:
        gen = os.path.join(os.path.dirname(path), "generation_config.json")
        data = read(path, "rb")
        if os.path.exists(gen):
            data += b"\0" + read(gen, "rb")
        s.add("model_config", data)


def chat_seeds(s, shared):
    cases = json.loads(read(os.path.join(ROOT, "tests/chat/golden/chat_cases.json")))["cases"]
    templates = {}
    for c in cases:
        if "source" in c:
            templates[c["source"]] = None
        elif "template_file" in c and os.path.exists(os.path.join(shared, c["template_file"])):
            path = os.path.join(shared, c["template_file"])
            if path.endswith(".json"):
                t = json.loads(read(path)).get(c.get("template_key", "chat_template"))
                if isinstance(t, str):
                    templates[t] = None
            else:
                templates[read(path)] = None
        conv = {"messages": c.get("messages", []), "tools": c.get("tools")}
        conv.update(c.get("extra") or {})
        for pick in (0, 1, 2):
            s.add("chat_messages", bytes([pick | (0x80 if c.get("add_generation_prompt") else 0)]) +
                  json.dumps(conv, ensure_ascii=False).encode())
    for path in glob.glob(os.path.join(shared, "configs/*/chat_template.jinja")):
        templates[read(path)] = None
    for t in templates:
        s.add("chat_template", t)


def text_seeds(s, shared):
    chunks = []
    for name in ("text/tinyshakespeare.txt", "text/wikitext-2-test.raw"):
        path = os.path.join(shared, name)
        if os.path.exists(path):
            text = read(path, "rb")
            chunks += [text[i:i + 400] for i in range(0, 40000, 8000)]
    for path in glob.glob(os.path.join(ROOT, "tests/tokenizer/golden/*.json")):
        for c in json.loads(read(path)).get("plain_cases", []):
            chunks.append(c["text"].encode())
    chunks += ["naïve café 日本語 🙂 \u00e9 e\u0301 \u2581x \r\n\t  ", "<|im_start|>user\nhi<|im_end|>",
               "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>", "<s>[INST] x [/INST]"]
    for i, c in enumerate(chunks):
        c = c.encode() if isinstance(c, str) else c
        s.add("tokenize", bytes([i % 8]) + c)


def copy_hand_seeds(s):
    for path in sorted(glob.glob(os.path.join(ROOT, "fuzz/seeds/*/*"))):
        s.add(os.path.basename(os.path.dirname(path)), read(path, "rb"), "hand-" + os.path.basename(path))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--shared", default=os.environ.get("QLM_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data")))
    a = ap.parse_args()
    s = Seeds(a.out)
    if not os.path.isdir(a.shared):
        print(f"fuzz_seeds: {a.shared} not found; only hand-made seeds", file=sys.stderr)
    else:
        tokenizer_json_seeds(s, a.shared)
        vocab_merges_seeds(s, a.shared)
        safetensors_seeds(s, a.shared)
        index_seeds(s, a.shared)
        config_seeds(s, a.shared)
        chat_seeds(s, a.shared)
        text_seeds(s, a.shared)
    copy_hand_seeds(s)
    print("fuzz seeds: " + ", ".join(f"{t} {n}" for t, n in sorted(s.count.items())))


if __name__ == "__main__":
    main()
