"""Minimal safetensors reader/writer with BF16 support (numpy has no bf16)."""
import json
import os
import struct

import numpy as np

_NP = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def f32_to_bf16_bits(a):
    """Round-to-nearest-even float32 -> bfloat16, returned as uint16 bits."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounding = ((u >> 16) & 1) + 0x7FFF
    return ((u + rounding) >> 16).astype(np.uint16)


def bf16_bits_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def quantize(a, dtype):
    """The float64 values a tensor has after being stored as `dtype`."""
    if dtype == "BF16":
        return bf16_bits_to_f32(f32_to_bf16_bits(a)).astype(np.float64)
    return np.asarray(a, dtype=_NP[dtype]).astype(np.float64)


def encode(a, dtype):
    if dtype == "BF16":
        return f32_to_bf16_bits(a).tobytes()
    return np.ascontiguousarray(a, dtype=_NP[dtype]).tobytes()


def write(path, tensors, dtype):
    """tensors: dict name -> float array. Writes atomically."""
    header, blobs, off = {}, [], 0
    for name, a in tensors.items():
        data = encode(a, dtype)
        header[name] = {"dtype": dtype, "shape": list(a.shape),
                        "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    hjson = json.dumps(header).encode()
    hjson += b" " * (-len(hjson) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read(path):
    """Returns dict name -> float64 array."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            lo, hi = info["data_offsets"]
            f.seek(base + lo)
            raw = f.read(hi - lo)
            if info["dtype"] == "BF16":
                a = bf16_bits_to_f32(np.frombuffer(raw, dtype=np.uint16))
            else:
                a = np.frombuffer(raw, dtype=_NP[info["dtype"]])
            out[name] = a.astype(np.float64).reshape(info["shape"])
        return out


def read_checkpoint(ckpt_dir):
    index = os.path.join(ckpt_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
        out = {}
        for fn in files:
            out.update(read(os.path.join(ckpt_dir, fn)))
        return out
    return read(os.path.join(ckpt_dir, "model.safetensors"))
