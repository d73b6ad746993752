"""Rebuilds a hymba-compile executable from its program part and a checkpoint.

hymba-compile --payload-layout=L.json writes, beside the executable, the
layout of the payload it appended (program size and SHA-256, weight offsets,
shapes and storage types, metadata). With that, the program part (the
executable's first program_bytes bytes, a few MB) and any checkpoint with the
same tensor names and shapes, this writes the complete executable again, byte
for byte what hymba-compile writes. It needs numpy only:
scripts/device-bundle.sh uses it to assemble 1.5B-shaped executables on a GPU
machine that has no LLVM.

  python -m hymba_tools.pack_payload PROGRAM LAYOUT.json CHECKPOINT_DIR OUT
  python -m hymba_tools.pack_payload --program EXE LAYOUT.json OUT
(the second form writes EXE's program part, what travels instead of EXE)

Every input is checked as hymba-compile checks it: the program must be the
one the layout describes (SHA-256), the checkpoint must hold exactly the
layout's tensors with the same shapes, inside its files. OUT is written to a
temporary file (random name, O_EXCL) beside it and renamed over it; on any
error nothing is left behind, and an OUT that is a device, FIFO or socket is
refused rather than replaced.
"""
import hashlib
import json
import os
import stat
import struct
import sys
import tempfile

import numpy as np

from . import quantize
from .safetensors_io import bf16_bits_to_f32, f32_to_bf16_bits

ALIGN = 4096
MAGIC = b"HYMBAPK1"
_BYTES = {"F32": 4, "F16": 2, "BF16": 2}
_MAX_HEADER = 100 << 20


class PackError(Exception):
    pass


def _regular_file(path, what):
    """Opens `path` for reading after checking it is a regular file (a FIFO
    would block, a device never end)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        raise PackError(f"{path}: cannot read {what}: {e.strerror}")
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise PackError(f"{path}: {what} is not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb"), st.st_size


def _load_json(path, what, limit=64 << 20):
    f, size = _regular_file(path, what)
    with f:
        if size > limit:
            raise PackError(f"{path}: {what} is {size} bytes (limit {limit})")
        try:
            return json.loads(f.read())
        except ValueError as e:
            raise PackError(f"{path}: {what} is not valid JSON: {e}")


def _shard_header(path):
    """name -> (dtype, shape, absolute byte range) of one safetensors file,
    checked: header in bounds, known dtypes, sizes that match the shape, data
    inside the file (a truncated shard is refused, not zero-filled)."""
    f, size = _regular_file(path, "the safetensors file")
    with f:
        raw = f.read(8)
        if len(raw) < 8:
            raise PackError(f"{path}: too short for a safetensors header")
        n = struct.unpack("<Q", raw)[0]
        if n > _MAX_HEADER or n > size - 8:
            raise PackError(f"{path}: header length {n} is impossible for a "
                            f"{size}-byte file (truncated?)")
        try:
            header = json.loads(f.read(n))
        except ValueError as e:
            raise PackError(f"{path}: header is not valid JSON: {e}")
    if not isinstance(header, dict):
        raise PackError(f"{path}: header is not a JSON object")
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape = info["dtype"], [int(d) for d in info["shape"]]
            lo, hi = (int(x) for x in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise PackError(f"{path}: tensor '{name}': malformed header entry")
        if dtype not in _BYTES:
            raise PackError(f"{path}: tensor '{name}': unsupported dtype '{dtype}'")
        if any(d < 0 for d in shape) or not 0 <= lo <= hi:
            raise PackError(f"{path}: tensor '{name}': bad shape or data_offsets")
        if hi - lo != int(np.prod(shape, dtype=object)) * _BYTES[dtype]:
            raise PackError(f"{path}: tensor '{name}': {hi - lo} bytes do not "
                            f"match shape {shape} x {dtype}")
        if 8 + n + hi > size:
            raise PackError(f"{path}: tensor '{name}': data_offsets run past "
                            f"the end of the file (truncated?)")
        out[name] = (path, dtype, shape, 8 + n + lo, 8 + n + hi)
    return out


def _tensor_index(ckpt_dir):
    """name -> (file, dtype, shape, absolute byte range) for every tensor."""
    index = os.path.join(ckpt_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        weight_map = _load_json(index, "the shard index").get("weight_map")
        if not isinstance(weight_map, dict):
            raise PackError(f"{index}: missing the 'weight_map' object")
        files = sorted(set(weight_map.values()))
        if any(not isinstance(f, str) or "/" in f for f in files):
            raise PackError(f"{index}: weight_map must name files in the same directory")
    else:
        files = ["model.safetensors"]
    out = {}
    for fn in files:
        for name, entry in _shard_header(os.path.join(ckpt_dir, fn)).items():
            if name in out:
                raise PackError(f"{ckpt_dir}: tensor '{name}' appears twice")
            out[name] = entry
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
    element (r, c) at [r // panel][c // f][r % panel][c % f] for the
    interleave f (f = 1: [r // panel][c][r % panel]), the last panel and
    column group zero-padded (hymba-compile's packPanels)."""
    panel = w.get("panel", 0)
    if not panel:
        return data
    rows, cols, f = w["rows"], w["cols"], int(w.get("interleave", 1))
    dtype = {"F32": np.float32, "I8": np.uint8}.get(w["storage"], np.uint16)
    m = np.frombuffer(data, dtype).reshape(rows, cols)
    panels, groups = -(-rows // panel), -(-cols // f)
    padded = np.zeros((panels * panel, groups * f), dtype)
    padded[:rows, :cols] = m
    # [panels, panel, groups, f] -> [panels, groups, panel, f]
    return padded.reshape(panels, panel, groups, f).transpose(0, 2, 1, 3).tobytes()


def _quantized(raw, src, w):
    """The values or the scales of a quantized weight (hymba-compile's
    encodeWeight): quantize.py's quantizer, then plain or panel layout; i4
    two per byte (plain: row-major elements 2i, 2i + 1 in byte i; panels:
    lanes j and j + W/2 in byte j of a panel row; interleaved by f, byte
    [c // f][j][c % f] of a panel holds input c of lanes j and j + W/2)."""
    rows, cols, panel = w["rows"], w["cols"], w.get("panel", 0)
    m = np.frombuffer(_converted(raw, src, "F32"), np.float32).reshape(rows, cols)
    if not np.isfinite(m).all():
        raise PackError(f"tensor '{w['name']}' holds a non-finite value (inf or NaN), "
                        "which cannot be quantized")
    q, s = quantize.quantize_matrix(m, w["quant_bits"], w["quant_group"])
    a = s if w["scales"] else q
    f = int(w.get("interleave", 1))
    if panel and f > 1 and (w["scales"] or w["quant_bits"] == 8):
        # int8 values in runs of f inputs (--compute=int8)
        return _panels(a.view(np.uint8).tobytes(), {**w, "storage": "I8"})
    if panel and f > 1:  # int4 values in runs of f inputs, lanes paired
        nib = np.frombuffer(_panels((a.astype(np.uint8) & 0xF).tobytes(),
                                    {**w, "storage": "I8"}), np.uint8)
        half = panel // 2
        nib = nib.reshape(-1, -(-cols // f), panel, f)
        return (nib[:, :, :half] | (nib[:, :, half:] << 4)).astype(np.uint8).tobytes()
    if panel:
        panels = -(-rows // panel)
        padded = np.zeros((panels * panel, a.shape[1]), a.dtype)
        padded[:rows] = a
        a = padded.reshape(panels, panel, a.shape[1]).transpose(0, 2, 1)
    if w["scales"] or w["quant_bits"] == 8:
        return np.ascontiguousarray(a).tobytes()
    nib = a.astype(np.uint8) & 0xF
    if panel:
        half = panel // 2
        return (nib[..., :half] | (nib[..., half:] << 4)).astype(np.uint8).tobytes()
    flat = nib.reshape(-1)
    if flat.size % 2:
        flat = np.append(flat, np.uint8(0))
    return (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8).tobytes()


def _storage_bytes(w):
    """Bytes of `w` in the parameter block, panel padding included."""
    if w.get("quant_bits", 0):
        return w["bytes"]
    elements = w["elements"]
    if w.get("panel", 0):
        f = int(w.get("interleave", 1))
        elements = -(-w["rows"] // w["panel"]) * w["panel"] * (-(-w["cols"] // f) * f)
    return elements * (4 if w["storage"] == "F32" else 2)


def _write_output(out, write, mode=0o755):
    """Calls write(file) on a temporary file beside `out`, then renames it over
    `out` (the file a symlink names, never a device or FIFO)."""
    target = out
    if os.path.islink(out):
        target = os.path.realpath(out)
    if os.path.lexists(target):
        st = os.stat(target)
        if stat.S_ISDIR(st.st_mode):
            raise PackError(f"{out}: is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise PackError(f"{out}: is not a regular file (a device, FIFO or "
                            "socket); an executable must be a regular file")
    elif os.path.islink(out):
        raise PackError(f"{out}: is a symlink to a missing file")
    directory, base = os.path.split(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix="." + base + ".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, mode & ~umask)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def _read_program(program, layout):
    n = layout["program_bytes"]
    f, size = _regular_file(program, "the program")
    with f:
        prog = f.read(n)
    if len(prog) != n:
        raise PackError(f"{program} is shorter than the program part ({n} bytes)")
    digest = layout.get("program_sha256")
    if digest is None:
        raise PackError("the layout has no program_sha256 (written by an older "
                        "hymba-compile?): compile it again")
    if hashlib.sha256(prog).hexdigest() != digest:
        raise PackError(f"{program} is not the program this layout describes "
                        "(SHA-256 differs)")
    return prog


def _quantization_ok(w):
    bits = int(w.get("quant_bits", 0))
    if bits == 0:
        return True
    return (bits in (4, 8) and 0 < int(w["quant_group"]) <= 4096
            and isinstance(w["scales"], bool) and int(w["bytes"]) > 0
            and int(w["rows"]) > 0 and int(w["cols"]) > 0
            and w["rows"] * w["cols"] == w["elements"]
            and (bits == 8 or int(w.get("panel", 0)) % 2 == 0))


def _load_layout(layout_path):
    layout = _load_json(layout_path, "the payload layout")
    try:
        ok = (isinstance(layout, dict) and int(layout["program_bytes"]) > 0
              and int(layout["params_bytes"]) >= 0 and int(layout["state_bytes"]) > 0
              and isinstance(layout["metadata"], str) and isinstance(layout["weights"], list)
              and all(isinstance(w["name"], str) and int(w["offset"]) >= 0
                      and int(w["elements"]) > 0 and w["storage"] in ("F32", "BF16")
                      and isinstance(w["shape"], list) and int(w.get("panel", 0)) >= 0
                      and int(w.get("interleave", 1)) >= 1
                      and (int(w.get("interleave", 1)) == 1
                           or (w.get("panel") and not w.get("quant_bits", 0))
                           or (w.get("panel") and w.get("quant_bits") in (4, 8)
                               and not w.get("scales")))
                      and (not w.get("panel") or (int(w["rows"]) > 0 and int(w["cols"]) > 0
                                                  and w["rows"] * w["cols"] == w["elements"]))
                      and _quantization_ok(w)
                      for w in layout["weights"]))
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise PackError(f"{layout_path}: not a payload layout written by hymba-compile")
    return layout


def extract_program(exe, layout_path, out):
    """Writes the program part of `exe` (everything before its payload)."""
    layout = _load_layout(layout_path)
    prog = _read_program(exe, layout)
    _write_output(out, lambda f: f.write(prog))


def _check_config(ckpt_dir, layout):
    """The checkpoint's config.json describes the model of the layout."""
    config = _load_json(os.path.join(ckpt_dir, "config.json"), "config.json", 1 << 20)
    meta = dict(line.split("=", 1) for line in layout["metadata"].splitlines() if "=" in line)
    for meta_key, config_key in [("vocab_size", "vocab_size"), ("hidden_size", "hidden_size"),
                                 ("num_layers", "num_hidden_layers")]:
        if str(config.get(config_key)) != meta.get(meta_key):
            raise PackError(f"{ckpt_dir}/config.json: {config_key} is "
                            f"{config.get(config_key)}, the layout is of a model with "
                            f"{meta.get(meta_key)}")


def pack(program, layout_path, ckpt_dir, out, tokenizer=None):
    layout = _load_layout(layout_path)
    if layout.get("folded_meta"):
        raise PackError("the layout is of a build with folded meta tokens; "
                        "build it with --no-fold-meta (the prefix state depends on the weights)")
    prog = _read_program(program, layout)
    _check_config(ckpt_dir, layout)
    tensors = _tensor_index(ckpt_dir)
    names = {w["name"] for w in layout["weights"]}
    for name in tensors:
        # A tied checkpoint may store lm_head.weight; hymba-compile checks it
        # equals the embedding, which the layout does not list.
        if name not in names and name != "lm_head.weight":
            raise PackError(f"{ckpt_dir}: tensor '{name}' is not part of the layout's model")
    params_bytes = layout["params_bytes"]
    written = 0
    for w in layout["weights"]:
        if w["name"] not in tensors:
            raise PackError(f"{ckpt_dir} has no tensor {w['name']}")
        _, dtype, shape, lo, hi = tensors[w["name"]]
        if shape != w["shape"]:
            raise PackError(f"{ckpt_dir}: tensor '{w['name']}' has shape {shape}, "
                            f"the layout expects {w['shape']}")
        size = _storage_bytes(w)
        if (hi - lo) // _BYTES[dtype] != w["elements"] or w["offset"] < written \
                or w["offset"] + size > params_bytes:
            raise PackError(f"{layout_path}: weight '{w['name']}' does not fit the layout")
        written = w["offset"] + size
    tok = b""
    if tokenizer:
        f, _ = _regular_file(tokenizer, "the tokenizer")
        with f:
            tok = f.read((64 << 20) + 1)
        if len(tok) > 64 << 20:
            raise PackError(f"{tokenizer}: larger than 64 MiB")

    def write(o):
        o.write(prog)
        pos = len(prog)
        pad = -pos % ALIGN
        o.write(b"\0" * pad)
        pos += pad
        params_offset, written = pos, 0
        for w in layout["weights"]:
            path, dtype, _, lo, hi = tensors[w["name"]]
            with open(path, "rb") as f:
                f.seek(lo)
                raw = f.read(hi - lo)
            if len(raw) != hi - lo:
                raise PackError(f"{path}: shorter than its header says (truncated?)")
            if w.get("quant_bits", 0):
                data = _quantized(raw, dtype, w)
            else:
                data = _panels(_converted(raw, dtype, w["storage"]), w)
            if len(data) != _storage_bytes(w):
                raise PackError(f"internal error: '{w['name']}' encodes to {len(data)} bytes, "
                                f"its slot has {_storage_bytes(w)}")
            o.write(b"\0" * (w["offset"] - written))
            o.write(data)
            written = w["offset"] + len(data)
        o.write(b"\0" * (params_bytes - written))
        pos += params_bytes
        tok_offset = pos
        o.write(tok)
        pos += len(tok)
        meta = layout["metadata"].encode()
        o.write(meta)
        o.write(struct.pack("<9Q8s", params_offset, params_bytes, tok_offset,
                            len(tok), pos, len(meta), layout["state_bytes"], 0, 0,
                            MAGIC))

    _write_output(out, write)


def main(argv):
    try:
        if len(argv) == 4 and argv[0] == "--program":
            extract_program(*argv[1:])
        elif len(argv) in (4, 5) and not argv[0].startswith("-"):
            pack(*argv)
        else:
            sys.exit(__doc__)
    except PackError as e:
        sys.exit(f"pack_payload: {e}")


if __name__ == "__main__":
    main(sys.argv[1:])
