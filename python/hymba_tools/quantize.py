"""Weight-only group quantization, as hymba-compile --dtype=int8/int4 does it.

An independent numpy mirror of lib/Codegen/WeightEncoding.cpp (quantizeMatrix),
bit for bit: per row of an [out, in] matrix, per group of `group` inputs (the
last group may be shorter):

  int8 (Q8_0-like): d = amax / 127,           values in [-127, 127]
  int4 (Q4_0-like): d = m / -8 (m: the value of largest magnitude, the first
                    on ties),                 values in [-8, 7]

d is rounded to bf16 away from zero first, and the values are rounded to
nearest (ties to even) against that stored scale in float64, then clamped. An
all-zero group has scale 0. `dequantize` gives the float64 weights the
executable computes with (float(q) * float(scale) is exact in float32).
"""
import numpy as np

from .safetensors_io import bf16_bits_to_f32

BITS = {"int8": 8, "int4": 4}

# The [out, in] tensors whose only readers are projections or embedding
# lookups (lib/Import/ModelBuilder.cpp: projectionWeight).
PROJECTION_SUFFIXES = (
    "mamba.in_proj.weight", "mamba.x_proj.0.weight", "mamba.dt_proj.0.weight",
    "mamba.out_proj.weight", "gate_proj.weight", "up_proj.weight",
    "down_proj.weight", "model.embed_tokens.weight", "lm_head.weight",
)


def is_projection(name):
    return name.endswith(PROJECTION_SUFFIXES)


def bf16_away_from_zero(d):
    """The bf16 (as uint16 bits) of least magnitude >= |d|, with d's sign."""
    d = np.asarray(d, np.float64)
    mag = np.abs(d)
    bits = mag.astype(np.float32).view(np.uint32) & np.uint32(0xFFFF0000)
    below = bf16_bits_to_f32((bits >> 16).astype(np.uint16)).astype(np.float64) < mag
    bits = bits + np.where(below, np.uint32(0x10000), np.uint32(0))
    sign = np.where(d < 0, np.uint16(0x8000), np.uint16(0))
    return ((bits >> 16).astype(np.uint16) | sign).astype(np.uint16)


def quantize_matrix(w, bits, group):
    """(values int8 [rows, cols], scales bf16 bits uint16 [rows, groups])."""
    w = np.asarray(w, np.float32).astype(np.float64)
    rows, cols = w.shape
    groups = -(-cols // group)
    pad = groups * group - cols
    g = np.pad(w, ((0, 0), (0, pad))).reshape(rows, groups, group)
    # First index of the largest magnitude (padding zeros never win a tie
    # against a real value: they come last and argmax takes the first).
    idx = np.argmax(np.abs(g), axis=2)
    extreme = np.take_along_axis(g, idx[..., None], axis=2)[..., 0]
    d = extreme / -8.0 if bits == 4 else np.abs(extreme) / 127.0
    scales = bf16_away_from_zero(d)
    s = bf16_bits_to_f32(scales).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(s[..., None] == 0, 0.0, np.rint(g / s[..., None]))
    lo, hi = (-8, 7) if bits == 4 else (-127, 127)
    q = np.clip(q, lo, hi).reshape(rows, groups * group)[:, :cols]
    return q.astype(np.int8), scales


def dequantize(values, scales, group):
    s = bf16_bits_to_f32(scales).astype(np.float64)
    return values.astype(np.float64) * np.repeat(s, group, axis=1)[:, :values.shape[1]]


def quantize_weights(W, dtype, group=32):
    """The checkpoint `W` (name -> array) as an executable built with
    --dtype=`dtype` computes with: projections quantized and dequantized in
    float64, every other tensor unchanged."""
    bits = BITS[dtype]
    out = {}
    for name, a in W.items():
        if is_projection(name):
            q, s = quantize_matrix(a, bits, group)
            out[name] = dequantize(q, s, group)
        else:
            out[name] = a
    return out


# Quantization steps per group amax of --compute=int8's inputs.
ACT_STEPS = 127.0 - 1.0 / 64.0


def quantize_activations(x, group):
    """x as the integer dot-product kernels (hymba-compile --compute=int8)
    multiply it: each row, per group of `group` inputs (the weight's groups),
    quantized to int8 exactly as the generated code does

      amax = max |x|                         (x in float32)
      q = clamp(roundeven(x * C / amax), -127, 127)   (float64: exact
                                              numerator, one rounding)
      scale = amax / C                       (float32; an all-zero group has
                                              q = 0, scale = 0)

    with C = 127 - 1/64, whose rounding boundaries bf16-derived values never
    hit exactly (passes/ActivationQuantization.h says why).

    and returned dequantized, scale * q, in float64: a projection of it
    with the dequantized weights is the sum over groups of
    scale_x * scale_w * dot(q_x, q_w) that the kernel computes."""
    x = np.asarray(x, np.float64).astype(np.float32)
    rows, cols = x.shape
    groups = -(-cols // group)
    g = np.pad(x, ((0, 0), (0, groups * group - cols))).reshape(rows, groups, group)
    amax = np.abs(g).max(axis=2)
    a64 = amax.astype(np.float64)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(a64 == 0, 0.0, g.astype(np.float64) * ACT_STEPS / a64)
    q = np.clip(np.rint(ratio), -127, 127)
    scale = (amax / np.float32(ACT_STEPS)).astype(np.float32)
    out = q * scale[..., None].astype(np.float64)
    return out.reshape(rows, groups * group)[:, :cols]
