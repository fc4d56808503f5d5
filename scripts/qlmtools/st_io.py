"""Minimal safetensors reader/writer on numpy, independent of qlm's C++ reader.

BF16 is carried as uint16 bit patterns (numpy has no bfloat16)."""
import json
import struct

import numpy as np

_NP = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "U32": np.uint32,
       "U8": np.uint8, "I8": np.int8, "I32": np.int32, "I64": np.int64, "F64": np.float64}


def f32_to_bf16_bits(x):
    """Round-to-nearest-even float32 -> bfloat16 bit patterns (uint16)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def bf16_bits_to_f32(b):
    return (np.asarray(b, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def read_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n)), 8 + n


def load(path):
    """Returns {name: (dtype_str, numpy array)}; BF16 arrays are uint16 bit patterns."""
    header, base = read_header(path)
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        arr = np.frombuffer(raw[base + b: base + end].tobytes(), dtype=_NP[e["dtype"]])
        out[name] = (e["dtype"], arr.reshape(e["shape"]))
    return out


def to_f32(dtype, arr):
    if dtype == "BF16":
        return bf16_bits_to_f32(arr)
    return np.asarray(arr, dtype=np.float32)


class Writer:
    """Streams tensors into one safetensors file: declare all (name, dtype, shape) first,
    then write each tensor's data in the declared order."""

    def __init__(self, path, specs, metadata=None):
        self.f = open(path, "wb")
        header, off = {}, 0
        if metadata:
            header["__metadata__"] = metadata
        self.order = []
        for name, dtype, shape in specs:
            n = int(np.prod(shape)) * np.dtype(_NP[dtype]).itemsize
            header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + n]}
            self.order.append((name, dtype, tuple(shape), n))
            off += n
        h = json.dumps(header, separators=(",", ":")).encode()
        h += b" " * ((8 - len(h) % 8) % 8)  # align the data section to 8 bytes
        self.f.write(struct.pack("<Q", len(h)))
        self.f.write(h)
        self.i = 0

    def write(self, name, arr):
        want_name, dtype, shape, n = self.order[self.i]
        assert name == want_name, (name, want_name)
        a = np.ascontiguousarray(arr, dtype=_NP[dtype])
        assert a.shape == shape and a.nbytes == n, (name, a.shape, shape)
        self.f.write(a.tobytes())
        self.i += 1

    def close(self):
        assert self.i == len(self.order), "not every declared tensor was written"
        self.f.close()
