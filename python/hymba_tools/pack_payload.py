"""Rebuilds a hymba-compile executable from its program part and a checkpoint.

hymba-compile --payload-layout=L.json writes, beside the executable, the
layout of the payload it appended (program size, weight offsets and storage
types, metadata). With that, the program part (the executable's first
program_bytes bytes, a few MB) and any checkpoint with the same tensor names
and shapes, this writes the complete executable again, byte for byte what
hymba-compile writes. It needs numpy only: scripts/device-bundle.sh uses it
to assemble 1.5B-shaped executables on a GPU machine that has no LLVM.

  python -m hymba_tools.pack_payload PROGRAM LAYOUT.json CHECKPOINT_DIR OUT
  python -m hymba_tools.pack_payload --program EXE LAYOUT.json OUT
(the second form writes EXE's program part, what travels instead of EXE)
"""
import json
import os
import struct
import sys

import numpy as np

from .safetensors_io import bf16_bits_to_f32, f32_to_bf16_bits

ALIGN = 4096
MAGIC = b"HYMBAPK1"
_BYTES = {"F32": 4, "F16": 2, "BF16": 2}


def _tensor_index(ckpt_dir):
    """name -> (file, dtype, absolute byte range) for every tensor."""
    index = os.path.join(ckpt_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    out = {}
    for fn in files:
        path = os.path.join(ckpt_dir, fn)
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
        for name, info in header.items():
            if name != "__metadata__":
                lo, hi = info["data_offsets"]
                out[name] = (path, info["dtype"], 8 + n + lo, 8 + n + hi)
    return out


def _converted(raw, src, dst):
    if src == dst:
        return raw
    if src == "BF16":
        f32 = bf16_bits_to_f32(np.frombuffer(raw, np.uint16))
    elif src == "F16":
        f32 = np.frombuffer(raw, np.float16).astype(np.float32)
    else:
        f32 = np.frombuffer(raw, np.float32)
    return f32.tobytes() if dst == "F32" else f32_to_bf16_bits(f32).tobytes()


def _panels(data, w):
    """Panel-major storage (#hymba.panels) of a [rows, cols] matrix:
    element (r, c) at [r // panel][c][r % panel], the last panel zero-padded
    (hymba-compile's packPanels)."""
    panel = w.get("panel", 0)
    if not panel:
        return data
    rows, cols = w["rows"], w["cols"]
    dtype = np.float32 if w["storage"] == "F32" else np.uint16
    m = np.frombuffer(data, dtype).reshape(rows, cols)
    panels = -(-rows // panel)
    padded = np.zeros((panels * panel, cols), dtype)
    padded[:rows] = m
    return padded.reshape(panels, panel, cols).transpose(0, 2, 1).tobytes()


def extract_program(exe, layout_path, out):
    """Writes the program part of `exe` (everything before its payload)."""
    with open(layout_path) as f:
        n = json.load(f)["program_bytes"]
    with open(exe, "rb") as f:
        prog = f.read(n)
    with open(out, "wb") as f:
        f.write(prog)


def pack(program, layout_path, ckpt_dir, out, tokenizer=None):
    with open(layout_path) as f:
        layout = json.load(f)
    if layout["folded_meta"]:
        sys.exit("pack_payload: the layout is of a build with folded meta tokens; "
                 "build it with --no-fold-meta (the prefix state depends on the weights)")
    tensors = _tensor_index(ckpt_dir)
    tmp = out + ".tmp"
    with open(program, "rb") as f:
        prog = f.read(layout["program_bytes"])
    if len(prog) != layout["program_bytes"]:
        sys.exit(f"pack_payload: {program} is shorter than the program part")
    with open(tmp, "wb") as o:
        o.write(prog)
        pos = len(prog)
        pad = -pos % ALIGN
        o.write(b"\0" * pad)
        pos += pad
        params_offset, written = pos, 0
        for w in layout["weights"]:
            if w["name"] not in tensors:
                sys.exit(f"pack_payload: {ckpt_dir} has no tensor {w['name']}")
            path, dtype, lo, hi = tensors[w["name"]]
            if (hi - lo) // _BYTES[dtype] != w["elements"]:
                sys.exit(f"pack_payload: {w['name']} has {(hi - lo) // _BYTES[dtype]} "
                         f"elements, the layout expects {w['elements']}")
            with open(path, "rb") as f:
                f.seek(lo)
                data = _panels(_converted(f.read(hi - lo), dtype, w["storage"]), w)
            o.write(b"\0" * (w["offset"] - written))
            o.write(data)
            written = w["offset"] + len(data)
        o.write(b"\0" * (layout["params_bytes"] - written))
        pos += layout["params_bytes"]
        tok_offset, tok_bytes = pos, 0
        if tokenizer:
            with open(tokenizer, "rb") as f:
                tok = f.read()
            o.write(tok)
            tok_bytes = len(tok)
            pos += tok_bytes
        meta = layout["metadata"].encode()
        o.write(meta)
        o.write(struct.pack("<9Q8s", params_offset, layout["params_bytes"], tok_offset,
                            tok_bytes, pos, len(meta), layout["state_bytes"], 0, 0,
                            MAGIC))
    os.chmod(tmp, 0o755)
    os.replace(tmp, out)


def main(argv):
    if len(argv) == 4 and argv[0] == "--program":
        extract_program(*argv[1:])
    elif len(argv) in (4, 5) and not argv[0].startswith("-"):
        pack(*argv)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
