"""Every malformed-checkpoint case must give exit 1, a message naming the
file and the tensor or key, no crash and no output file.

  bad_checkpoints.py HYMBA_COMPILE PYTOOLS_DIR WORK_DIR
"""
import json
import os
import shutil
import struct
import subprocess
import sys

hymba_compile, pytools, work = sys.argv[1:4]
sys.path.insert(0, pytools)
from hymba_tools import make_checkpoint, presets  # noqa: E402

shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
good = make_checkpoint.write_checkpoint(presets.preset("tiny"),
                                        os.path.join(work, "good"), "bf16")
sharded = make_checkpoint.write_checkpoint(presets.preset("tiny"),
                                           os.path.join(work, "sharded"), "f32",
                                           shards=2)
passed, failed = 0, 0


def clone(name, src=good):
    d = os.path.join(work, name)
    shutil.copytree(src, d)
    return d


def edit_config(d, **changes):
    p = os.path.join(d, "config.json")
    cfg = json.load(open(p))
    for k, v in changes.items():
        if v is DELETE:
            cfg.pop(k, None)
        else:
            cfg[k] = v
    json.dump(cfg, open(p, "w"))


DELETE = object()


def st_parts(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def st_write(path, header, data, header_len=None):
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h) if header_len is None else header_len))
        f.write(h)
        f.write(data)


def edit_header(d, fn, fname="model.safetensors"):
    p = os.path.join(d, fname)
    header, data = st_parts(p)
    fn(header)
    st_write(p, header, data)


def check(name, ckpt, *expect, args=()):
    global passed, failed
    out = os.path.join(work, name + ".mlir")
    try:
        r = subprocess.run([hymba_compile, ckpt, "--emit=hymba", "-o", out, *args],
                           capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        failed += 1
        print(f"FAIL {name}: hangs (killed after 60 s)")
        return
    problems = []
    if r.returncode != 1:
        problems.append(f"exit code {r.returncode}, expected 1")
    for e in expect:
        if e not in r.stderr:
            problems.append(f"stderr lacks {e!r}")
    if "Stack dump" in r.stderr or "PLEASE submit" in r.stderr or "LLVM ERROR" in r.stderr:
        problems.append("crashed")
    leftovers = [f for f in os.listdir(work) if f.startswith(name + ".mlir")]
    if leftovers:
        problems.append(f"left files behind: {leftovers}")
    if problems:
        failed += 1
        print(f"FAIL {name}: {'; '.join(problems)}\n  stderr: {r.stderr.strip()}")
    else:
        passed += 1
        print(f"PASS {name}: {r.stderr.strip()}")


# --- Directory and config.json -------------------------------------------
# CHECK: PASS no_dir:
check("no_dir", os.path.join(work, "nope"), "nope", "not a checkpoint directory")
d = clone("no_config"); os.remove(os.path.join(d, "config.json"))
# CHECK: PASS no_config:
check("no_config", d, "config.json", "missing")
d = clone("empty_config"); open(os.path.join(d, "config.json"), "w").close()
# CHECK: PASS empty_config:
check("empty_config", d, "config.json", "empty")
d = clone("bad_json"); open(os.path.join(d, "config.json"), "w").write("{\"vocab_size\": 3,")
# CHECK: PASS bad_json:
check("bad_json", d, "config.json", "invalid JSON")
d = clone("json_list"); open(os.path.join(d, "config.json"), "w").write("[1, 2]")
# CHECK: PASS json_list:
check("json_list", d, "config.json", "JSON object")
d = clone("wrong_type"); edit_config(d, hidden_size="32")
# CHECK: PASS wrong_type:
check("wrong_type", d, "config.json", "'hidden_size'", "integer")
d = clone("negative"); edit_config(d, num_hidden_layers=-4)
# CHECK: PASS negative:
check("negative", d, "config.json", "'num_hidden_layers'")
d = clone("missing_key"); edit_config(d, vocab_size=DELETE)
# CHECK: PASS missing_key:
check("missing_key", d, "config.json", "'vocab_size'")
d = clone("eps_string"); edit_config(d, rms_norm_eps="tiny")
# CHECK: PASS eps_string:
check("eps_string", d, "config.json", "'rms_norm_eps'")
d = clone("heads_indivisible"); edit_config(d, num_attention_heads=5)
# CHECK: PASS heads_indivisible:
check("heads_indivisible", d, "config.json", "not divisible by num_attention_heads 5")
d = clone("kv_heads"); edit_config(d, num_key_value_heads=3)
# CHECK: PASS kv_heads:
check("kv_heads", d, "config.json", "num_key_value_heads 3 does not divide")
d = clone("group_range"); edit_config(d, kv_reuse_group=[[1, 9]])
# CHECK: PASS group_range:
check("group_range", d, "config.json", "'kv_reuse_group'", "layer 9")
d = clone("group_twice"); edit_config(d, kv_reuse_group=[[1, 2], [2, 3]])
# CHECK: PASS group_twice:
check("group_twice", d, "config.json", "'kv_reuse_group'", "layer 2 twice")
d = clone("group_mixed"); edit_config(d, kv_reuse_group=[[2, 3]])
# CHECK: PASS group_mixed:
check("group_mixed", d, "config.json", "mixes global and sliding-window")
d = clone("group_order"); edit_config(d, kv_reuse_group=[[2, 1]])
# CHECK: PASS group_order:
check("group_order", d, "config.json", "comes before its producer")
d = clone("global_range"); edit_config(d, global_attn_idx=[0, 7])
# CHECK: PASS global_range:
check("global_range", d, "config.json", "'global_attn_idx'", "layer 7")
d = clone("rope_type"); edit_config(d, rope_type="yarn")
# CHECK: PASS rope_type:
check("rope_type", d, "config.json", "'rope_type'", "yarn")
d = clone("experts"); edit_config(d, num_experts=4)
# CHECK: PASS experts:
check("experts", d, "config.json", "'num_experts'")
d = clone("interspersed"); edit_config(d, memory_tokens_interspersed_every=8)
# CHECK: PASS interspersed:
check("interspersed", d, "config.json", "'memory_tokens_interspersed_every'")
d = clone("kq_norm"); edit_config(d, kq_norm="rms")
# CHECK: PASS kq_norm:
check("kq_norm", d, "config.json", "'kq_norm'")
d = clone("window_zero"); edit_config(d, sliding_window=0)
# CHECK: PASS window_zero:
check("window_zero", d, "config.json", "'sliding_window'")

# --- Weights -------------------------------------------------------------
d = clone("no_weights"); os.remove(os.path.join(d, "model.safetensors"))
# CHECK: PASS no_weights:
check("no_weights", d, "no weights", "model.safetensors")
d = clone("tiny_file"); open(os.path.join(d, "model.safetensors"), "wb").write(b"\x01\x02")
# CHECK: PASS tiny_file:
check("tiny_file", d, "model.safetensors", "too short")
d = clone("header_past_end")
header, data = st_parts(os.path.join(d, "model.safetensors"))
st_write(os.path.join(d, "model.safetensors"), header, b"", header_len=10**6)
# CHECK: PASS header_past_end:
check("header_past_end", d, "model.safetensors", "runs past the end")
d = clone("header_absurd")
st_write(os.path.join(d, "model.safetensors"), header, data, header_len=1 << 62)
# CHECK: PASS header_absurd:
check("header_absurd", d, "model.safetensors", "absurd")
d = clone("header_not_json")
p = os.path.join(d, "model.safetensors")
open(p, "wb").write(struct.pack("<Q", 5) + b"{oops" + b"\0" * 64)
# CHECK: PASS header_not_json:
check("header_not_json", d, "model.safetensors", "not valid JSON")
d = clone("unknown_dtype")
edit_header(d, lambda h: h["model.memory_tokens"].update(dtype="Q7"))
# CHECK: PASS unknown_dtype:
check("unknown_dtype", d, "model.safetensors", "'model.memory_tokens'", "dtype 'Q7'")
d = clone("offset_oob")
edit_header(d, lambda h: h["model.final_layernorm.weight"].update(
    data_offsets=[10**9, 10**9 + 64]))
# CHECK: PASS offset_oob:
check("offset_oob", d, "model.safetensors", "'model.final_layernorm.weight'", "run past")
d = clone("offset_reversed")
def rev(h):
    a, b = h["model.final_layernorm.weight"]["data_offsets"]
    h["model.final_layernorm.weight"]["data_offsets"] = [b, a]
edit_header(d, rev)
# CHECK: PASS offset_reversed:
check("offset_reversed", d, "model.safetensors", "'model.final_layernorm.weight'", "reversed")
d = clone("overlap")
def overlap(h):
    a = h["model.layers.0.input_layernorm.weight"]["data_offsets"]
    h["model.layers.0.pre_moe_layernorm.weight"]["data_offsets"] = list(a)
edit_header(d, overlap)
# CHECK: PASS overlap:
check("overlap", d, "model.safetensors", "overlapping")
d = clone("size_mismatch")
edit_header(d, lambda h: h["model.final_layernorm.weight"].update(shape=[33]))
# CHECK: PASS size_mismatch:
check("size_mismatch", d, "model.safetensors", "'model.final_layernorm.weight'", "needs")
d = clone("truncated")
p = os.path.join(d, "model.safetensors")
raw = open(p, "rb").read()
open(p, "wb").write(raw[:len(raw) // 2])
# CHECK: PASS truncated:
check("truncated", d, "model.safetensors", "run past")
d = clone("missing_tensor")
def drop(h):
    h.pop("model.layers.1.mamba.D.0")
edit_header(d, drop)
# CHECK: PASS missing_tensor:
check("missing_tensor", d, "'model.layers.1.mamba.D.0'", "missing")
d = clone("wrong_shape"); edit_config(d, intermediate_size=46)
# CHECK: PASS wrong_shape:
check("wrong_shape", d, "model.safetensors", "'model.layers.0.moe.experts.0.gate_proj.weight'",
      "[45, 32]", "[46, 32]")
d = clone("consumer_shape"); edit_config(d, kv_reuse_group=[])
# CHECK: PASS consumer_shape:
check("consumer_shape", d, "'model.layers.2.mamba.in_proj.weight'", "[160, 32]", "[208, 32]")
d = clone("untied_missing_head"); edit_config(d, tie_word_embeddings=False)
# CHECK: PASS untied_missing_head:
check("untied_missing_head", d, "'lm_head.weight'", "missing")
d = clone("missing_shard", sharded)
os.remove(os.path.join(d, "model-00002-of-00002.safetensors"))
# CHECK: PASS missing_shard:
check("missing_shard", d, "model.safetensors.index.json", "model-00002-of-00002.safetensors",
      "does not exist")
d = clone("index_bad_json", sharded)
open(os.path.join(d, "model.safetensors.index.json"), "w").write("{")
# CHECK: PASS index_bad_json:
check("index_bad_json", d, "model.safetensors.index.json", "invalid JSON")

# --- Hostile values and files (issue 10) ---------------------------------
# Config values beyond any model: a message naming the key and the limit,
# not an out-of-memory abort, a wrapped shape or +inf in the IR.
d = clone("layers_huge"); edit_config(d, num_hidden_layers=10**12)
# CHECK: PASS layers_huge:
check("layers_huge", d, "config.json", "'num_hidden_layers'", "1024")
d = clone("d_state_max"); edit_config(d, mamba_d_state=2**63 - 1)
# CHECK: PASS d_state_max:
check("d_state_max", d, "config.json", "'mamba_d_state'", "more than")
d = clone("rope_theta_inf"); edit_config(d, rope_theta=1e39)
# CHECK: PASS rope_theta_inf:
check("rope_theta_inf", d, "config.json", "'rope_theta'", "more than")
# A double of exactly 2^63 (llvm::json would convert it to int64_t: UB that
# the config fuzz target found; the ASan+UBSan build checks this case).
d = clone("hidden_2pow63"); edit_config(d, hidden_size=9223372036854775807.3)
# CHECK: PASS hidden_2pow63:
check("hidden_2pow63", d, "config.json", "'hidden_size'", "integer")
d = clone("vocab_huge"); edit_config(d, vocab_size=2**40)
# CHECK: PASS vocab_huge:
check("vocab_huge", d, "config.json", "'vocab_size'", "more than")
d = clone("positions_huge"); edit_config(d, max_position_embeddings=2**62)
# CHECK: PASS positions_huge:
check("positions_huge", d, "config.json", "'max_position_embeddings'", "more than")
# max_position_embeddings is the default --max-seq-len: capped like it.
d = clone("positions_over_seq_cap"); edit_config(d, max_position_embeddings=2**21,
                                                  orig_max_position_embeddings=2**20)
# CHECK: PASS positions_over_seq_cap:
check("positions_over_seq_cap", d, "max_position_embeddings", "1048576", "--max-seq-len")
# CHECK: PASS max_seq_len_flag:
check("max_seq_len_flag", good, "--max-seq-len 9223372036854775807", "1048576",
      args=("--max-seq-len", "9223372036854775807"))
# CHECK: PASS max_seq_len_over_cap:
check("max_seq_len_over_cap", good, "--max-seq-len 1048577", "1048576",
      args=("--max-seq-len", "1048577"))

# Safetensors element counts: overflow-checked, no empty tensors.
d = clone("elements_overflow")
edit_header(d, lambda h: h["model.final_layernorm.weight"].update(
    shape=[2**32, 2**32], data_offsets=[0, 0]))
# CHECK: PASS elements_overflow:
check("elements_overflow", d, "model.safetensors", "'model.final_layernorm.weight'",
      "more than")
d = clone("shape_2pow63")
edit_header(d, lambda h: h["model.final_layernorm.weight"].update(shape=[9223372036854775807.3]))
# CHECK: PASS shape_2pow63:
check("shape_2pow63", d, "model.safetensors", "'model.final_layernorm.weight'", "shape entries")
d = clone("empty_tensor")
edit_header(d, lambda h: h["model.final_layernorm.weight"].update(
    shape=[0, 32], data_offsets=[0, 0]))
# CHECK: PASS empty_tensor:
check("empty_tensor", d, "model.safetensors", "'model.final_layernorm.weight'",
      "no elements")

# Special files: FIFOs would block the compiler forever, devices never end.
# CHECK: PASS fifo_config.json:
# CHECK: PASS fifo_model.safetensors:
for fname in ("config.json", "model.safetensors"):
    d = clone("fifo_" + fname)
    os.remove(os.path.join(d, fname)); os.mkfifo(os.path.join(d, fname))
    check("fifo_" + fname, d, fname, "not a regular file")
d = clone("config_dev_zero")
os.remove(os.path.join(d, "config.json")); os.symlink("/dev/zero", os.path.join(d, "config.json"))
# CHECK: PASS config_dev_zero:
check("config_dev_zero", d, "config.json", "not a regular file")
d = clone("config_huge")
with open(os.path.join(d, "config.json"), "a") as f:
    f.write(" " * (2 << 20))
# CHECK: PASS config_huge:
check("config_huge", d, "config.json", "bytes, more than")
d = clone("shard_fifo", sharded)
p = os.path.join(d, "model-00002-of-00002.safetensors")
os.remove(p); os.mkfifo(p)
# CHECK: PASS shard_fifo:
check("shard_fifo", d, "model-00002-of-00002.safetensors", "not a regular file")

# tokenizer.model: loaded and checked at compile time.
d = clone("tokenizer_dir"); os.makedirs(os.path.join(d, "tokenizer.model"))
# CHECK: PASS tokenizer_dir:
check("tokenizer_dir", d, "tokenizer.model", "directory")
d = clone("tokenizer_garbage")
open(os.path.join(d, "tokenizer.model"), "wb").write(b"not a sentencepiece model")
# CHECK: PASS tokenizer_garbage:
check("tokenizer_garbage", d, "tokenizer.model", "not a SentencePiece model")
d = clone("tokenizer_fifo"); os.mkfifo(os.path.join(d, "tokenizer.model"))
# CHECK: PASS tokenizer_fifo:
check("tokenizer_fifo", d, "tokenizer.model", "not a regular file")


def train_tokenizer(pieces):
    import io
    import sentencepiece as spm
    text = ["the quick brown fox jumps over the lazy dog %d times" % i for i in range(200)]
    f = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(text), model_writer=f,
                                   vocab_size=pieces, model_type="bpe", minloglevel=2)
    return f.getvalue()


d = clone("tokenizer_too_big")  # the tiny preset has vocab_size 67
open(os.path.join(d, "tokenizer.model"), "wb").write(train_tokenizer(80))
# CHECK: PASS tokenizer_too_big:
check("tokenizer_too_big", d, "tokenizer.model", "80 pieces", "vocab_size 67")
small_tok = clone("tokenizer_ok")
open(os.path.join(small_tok, "tokenizer.model"), "wb").write(train_tokenizer(60))

# The good checkpoints compile (so the failures above are about the damage).
# CHECK: PASS good: compiles
# CHECK: PASS sharded: compiles
# CHECK: PASS tokenizer_ok: compiles
for name, ck in (("good", good), ("sharded", sharded), ("tokenizer_ok", small_tok)):
    out = os.path.join(work, name + ".mlir")
    r = subprocess.run([hymba_compile, ck, "--emit=hymba", "-o", out],
                       capture_output=True, text=True)
    if r.returncode == 0 and os.path.getsize(out) > 0:
        passed += 1
        print(f"PASS {name}: compiles")
    else:
        failed += 1
        print(f"FAIL {name}: {r.stderr}")

print(f"{passed} passed, {failed} failed")
# CHECK: {{[0-9]+}} passed, 0 failed
sys.exit(1 if failed else 0)
