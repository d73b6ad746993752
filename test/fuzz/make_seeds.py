"""Writes the seed corpora of the fuzz targets into test/fuzz/corpus/ (the
files are committed; run this again only to change them).

  /usr/bin/python3 test/fuzz/make_seeds.py
"""
import json
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "python"))
from hymba_tools import presets  # noqa: E402

out = os.path.join(here, "corpus")


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors):
    """tensors: name -> (dtype, shape); data is zeros."""
    header, off = {}, 0
    sizes = {"F32": 4, "F16": 2, "BF16": 2}
    for name, (dt, shape) in tensors.items():
        n = sizes[dt]
        for d in shape:
            n *= d
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + n]}
        off += n
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + b"\0" * off


# Safetensors: valid files of each dtype, shared/empty/odd shapes.
put("safetensors", "f32", safetensors({"a": ("F32", [2, 3]), "b": ("F32", [4])}))
put("safetensors", "bf16", safetensors({"w": ("BF16", [3, 1, 4]), "x": ("F16", [5])}))
put("safetensors", "scalar", safetensors({"s": ("F32", [])}))
put("safetensors", "empty", safetensors({}))

# config.json: every preset.
for name in presets.PRESETS:
    put("config", name, json.dumps(presets.preset(name), indent=1))

# Payloads: a fake program, parameters, metadata and a trailer, with and
# without a prefix snapshot.
def payload(meta, snapshot=b""):
    prog = b"\x7fELF" + b"\0" * 60
    pos = len(prog)
    pad = -pos % 4096
    params = b"\1" * 64
    params_off = pos + pad
    body = prog + b"\0" * pad + params
    tok_off = len(body)
    meta_b = meta.encode()
    snap_off = len(body)
    body += snapshot
    meta_off = len(body)
    body += meta_b
    return body + struct.pack("<9Q8s", params_off, len(params), tok_off, 0, meta_off,
                               len(meta_b), 32, snap_off if snapshot else 0,
                               len(snapshot), b"HYMBAPK1")


meta = ("vocab_size=67\nhidden_size=32\nnum_layers=4\nnum_meta_tokens=5\n"
        "max_seq_len=64\nbos_token_id=1\neos_token_id=2\nweight_dtype=f32\n")
put("payload", "plain", b"\0" + payload(meta)[1:])
put("payload", "folded", b"\1" + payload(meta, b"\0" * 32)[1:])
put("payload", "bad-meta", b"\0" + payload(meta.replace("64", "x"))[1:])

# Command lines, NUL-separated.
for i, args in enumerate([
    ["--tokens", "1,2,3", "-n", "4", "--ids"],
    ["--prompt", "hi", "--temperature", "0.7", "--top-k", "20", "--top-p", "0.9",
     "--seed", "7"],
    ["-p", "x", "--chat", "--system", "s", "--prefill-chunk", "2", "--stats",
     "--ignore-eos", "--logits-out", "o.npy"],
    ["--help"],
    ["--hymba-internal-prefix-state", "f"],
]):
    put("cli", f"args{i}", "\0".join(args))
