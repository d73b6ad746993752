"""The compiled executable as a user meets it: self-contained, clear errors.

  executable_cli.py HYMBA_COMPILE PYTOOLS WORK TOKENIZER_MODEL
"""
# The CHECK lines (FileCheck reads this file, with --implicit-check-not=FAIL):
# every check by name, beside it, in the order the checks run. The PLAIN
# lines are for a normal build only, the ASAN lines for a sanitizer build
# only (lit feature sanitizers), which skips the RLIMIT_AS cases, saying why.
import os
import shutil
import subprocess
import sys

hymba_compile, pytools, work, tokenizer = sys.argv[1:5]
sys.path.insert(0, pytools)
from hymba_tools import make_checkpoint, presets  # noqa: E402

shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    print(f"{'PASS' if ok else 'FAIL'} {name} {detail}")
    passed, failed = passed + ok, failed + (not ok)


def run(exe, *args):
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=300)


# A random model with the project's tokenizer (that of models/hymba-kjv),
# compiled with a small capacity (64: the chat template takes 48 tokens).
import sentencepiece as spm  # noqa: E402
cfg = presets.preset("demo")
cfg.update(num_hidden_layers=2, global_attn_idx=[0], kv_reuse_group=[],
           vocab_size=spm.SentencePieceProcessor(model_file=tokenizer).vocab_size())
ck = make_checkpoint.write_checkpoint(cfg, os.path.join(work, "ck"), "bf16",
                                      tokenizer=tokenizer)
exe = os.path.join(work, "model")
subprocess.run([hymba_compile, ck, "-o", exe, "--max-seq-len", "64"], check=True)

# Self-contained: runs after the checkpoint is deleted and the file moved.
shutil.rmtree(ck)
moved_dir = os.path.join(work, "elsewhere")
os.makedirs(moved_dir)
moved = os.path.join(moved_dir, "renamed-model")
shutil.move(exe, moved)
r = run(moved, "--prompt", "The tensor compiler", "-n", "8", "--ignore-eos")
# CHECK: PASS runs without its checkpoint, moved
check("runs without its checkpoint, moved", r.returncode == 0 and r.stdout.strip() != "",
      repr(r.stdout[:60]))
r2 = run(moved, "--prompt", "The tensor compiler", "-n", "8", "--ignore-eos")
# CHECK: PASS greedy is deterministic
check("greedy is deterministic", r.stdout == r2.stdout)
ldd = subprocess.run(["ldd", moved], capture_output=True, text=True).stdout
# CHECK: PASS no LLVM/MLIR libraries at run time
check("no LLVM/MLIR libraries at run time",
      "libLLVM" not in ldd and "libMLIR" not in ldd and "mlir" not in ldd, "")
r = run(moved, "--prompt", "Hi", "-n", "4", "--temperature", "0.8", "--top-k", "20",
        "--top-p", "0.9", "--seed", "7", "--ignore-eos")
r2 = run(moved, "--prompt", "Hi", "-n", "4", "--temperature", "0.8", "--top-k", "20",
         "--top-p", "0.9", "--seed", "7", "--ignore-eos")
# CHECK: PASS sampling with a seed is reproducible
check("sampling with a seed is reproducible", r.returncode == 0 and r.stdout == r2.stdout)
r = run(moved, "--prompt", "Hi", "--chat", "--system", "Be brief.", "-n", "3", "--ids",
        "--ignore-eos")
# CHECK: PASS chat template
check("chat template", r.returncode == 0 and len(r.stdout.split()) == 3, r.stdout.strip())
r = run(moved, "--prompt", "Hi", "-n", "2", "--stats")
# CHECK: PASS --stats
check("--stats", r.returncode == 0 and "decode:" in r.stderr and "peak RSS" in r.stderr)
r = run(moved, "--help")
# CHECK: PASS --help
check("--help", r.returncode == 0 and "--logits-out" in r.stdout)

# Bad input: a clear message, exit 1.
# CHECK: PASS error: unknown flag
# CHECK: PASS error: missing value
# CHECK: PASS error: bad number
# CHECK: PASS error: negative temperature
# CHECK: PASS error: top-p out of range
# CHECK: PASS error: nothing to do
# CHECK: PASS error: both inputs
# CHECK: PASS error: token id out of vocab
# CHECK: PASS error: malformed ids
# CHECK: PASS error: prompt too long
# CHECK: PASS error: logits to a missing dir
for name, args, expect in [
    ("unknown flag", ["--bogus"], "unknown argument '--bogus'"),
    ("missing value", ["--prompt"], "--prompt needs a value"),
    ("bad number", ["--prompt", "x", "-n", "many"], "-n expects an integer"),
    ("negative temperature", ["--prompt", "x", "--temperature", "-1"], "--temperature"),
    ("top-p out of range", ["--prompt", "x", "--top-p", "1.5"], "--top-p"),
    ("nothing to do", [], "nothing to do"),
    ("both inputs", ["--prompt", "x", "--tokens", "1"], "not both"),
    ("token id out of vocab", ["--tokens", "1,99999"], "token id 99999 is outside"),
    ("malformed ids", ["--tokens", "1,,2"], "--tokens expects an integer"),
    ("prompt too long", ["--tokens", ",".join(["5"] * 65)], "at most 64"),
    ("logits to a missing dir", ["--tokens", "1,2", "-n", "1", "--logits-out",
                                 "/nonexistent/x.npy"], "/nonexistent/x.npy"),
]:
    r = run(moved, *args)
    ok = r.returncode == 1 and expect in r.stderr and "Segmentation" not in r.stderr
    check(f"error: {name}", ok, r.stderr.strip()[:100])

# Generation stops at the capacity with a note rather than overflowing.
r = run(moved, "--tokens", ",".join(["5"] * 62), "-n", "10", "--ids", "--ignore-eos")
# CHECK: PASS stops at capacity
check("stops at capacity", r.returncode == 0 and "compiled capacity" in r.stderr
      and len(r.stdout.split()) == 3, r.stdout.strip())

# Without a tokenizer: ids only, and --prompt is refused clearly.
ck2 = make_checkpoint.write_checkpoint(presets.preset("tiny"), os.path.join(work, "ck2"), "f32")
exe2 = os.path.join(work, "model-ids")
subprocess.run([hymba_compile, ck2, "-o", exe2], check=True)
r = run(exe2, "--prompt", "hello")
# CHECK: PASS no tokenizer: --prompt refused
check("no tokenizer: --prompt refused", r.returncode == 1 and "--tokens" in r.stderr)
r = run(exe2, "--tokens", "1,2,3", "-n", "4", "--ignore-eos")
# CHECK: PASS no tokenizer: prints ids
check("no tokenizer: prints ids", r.returncode == 0 and len(r.stdout.split()) == 4)
r = run(exe2, "--perplexity", tokenizer)
# CHECK: PASS no tokenizer: --perplexity refused
check("no tokenizer: --perplexity refused",
      r.returncode == 1 and "needs the tokenizer" in r.stderr, r.stderr.strip())

# --- Hostile input (issue 10) ----------------------------------------------
# Numbers out of range are errors, never truncated.
# CHECK: PASS range: token id past int32
# CHECK: PASS range: top-k past int
# CHECK: PASS range: negative seed
# CHECK: PASS range: -n with exponent
# CHECK: PASS range: -n past int64
# CHECK: PASS range: temperature nan
# CHECK: PASS range: empty --tokens
for name, args, expect in [
    ("token id past int32", ["--tokens", "4294967297"], "--tokens expects an integer in"),
    ("top-k past int", ["--tokens", "1", "--top-k", "4294967297"], "--top-k expects an integer in"),
    ("negative seed", ["--tokens", "1", "--seed", "-1"], "--seed expects an integer"),
    ("-n with exponent", ["--tokens", "1", "-n", "1e3"], "-n expects an integer"),
    ("-n past int64", ["--tokens", "1", "-n", "99999999999999999999"], "-n expects an integer"),
    ("temperature nan", ["--tokens", "1", "--temperature", "nan"], "--temperature"),
    ("empty --tokens", ["--tokens", ""], "--tokens expects an integer"),
]:
    r = run(moved, *args)
    check(f"range: {name}", r.returncode == 1 and expect in r.stderr, r.stderr.strip()[:100])

# A failed write on stdout is an error.
with open("/dev/full", "w") as full:
    r = subprocess.run([moved, "--tokens", "1,2", "-n", "4", "--ids"], stdout=full,
                       stderr=subprocess.PIPE, text=True, timeout=120)
# CHECK: PASS stdout to /dev/full: exit 1 with a message
check("stdout to /dev/full: exit 1 with a message", r.returncode == 1
      and "standard output" in r.stderr, r.stderr.strip()[:100])

# Streamed text: characters spelt with byte tokens, emoji and CJK, then words.
# A one-layer model whose layers add nothing (zero weights) maps the last
# token to the next through one-hot embeddings and head rows, so greedy
# decoding follows a chain chosen here.
import numpy as np  # noqa: E402
import sentencepiece as spm  # noqa: E402
from hymba_tools import safetensors_io as st  # noqa: E402
sp = spm.SentencePieceProcessor(model_file=tokenizer)
chain = ["▁the", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>", "<0xE5>", "<0x82>", "<0x85>",
         "▁world"]
ids = [sp.piece_to_id(p) for p in chain]
cfg = presets.preset("demo")
cfg.update(num_hidden_layers=1, global_attn_idx=[0], kv_reuse_group=[],
           tie_word_embeddings=False)
ck3 = make_checkpoint.write_checkpoint(cfg, os.path.join(work, "ck3"), "f32",
                                       tokenizer=tokenizer)
tensors = st.read(os.path.join(ck3, "model.safetensors"))
tensors = {k: np.zeros_like(v) for k, v in tensors.items()}
tensors["model.final_layernorm.weight"][:] = 1.0
for k, (a, b) in enumerate(zip(ids, ids[1:] + ids[-1:])):
    tensors["model.embed_tokens.weight"][a, k] = 1.0
    tensors["lm_head.weight"][b, k] = 1.0
st.write(os.path.join(ck3, "model.safetensors"), tensors, "F32")
exe3 = os.path.join(work, "model-chain")
subprocess.run([hymba_compile, ck3, "-o", exe3, "--max-seq-len", "32"], check=True)
r = subprocess.run([exe3, "--tokens", f"1,{ids[0]}", "-n", "10", "--ignore-eos"],
                   capture_output=True, timeout=120)
ids_out = run(exe3, "--tokens", f"1,{ids[0]}", "-n", "10", "--ignore-eos", "--ids").stdout.split()
# CHECK: PASS chain model generates the chain
check("chain model generates the chain", ids_out == [str(i) for i in ids[1:] + [ids[-1]] * 2],
      " ".join(ids_out))
want = "\U0001F600\u5085 world world world\n".encode()
# CHECK: PASS streamed text: emoji and CJK from byte tokens, then words
check("streamed text: emoji and CJK from byte tokens, then words", r.stdout == want,
      repr(r.stdout))

# Out-of-memory cases run under RLIMIT_AS, which an ASan process cannot
# (its shadow memory reserves terabytes of address space).
if os.environ.get("HYMBA_SANITIZED") == "1":
    # ASAN: SKIP state and model-code allocation failures: RLIMIT_AS cannot
    print("SKIP state and model-code allocation failures: RLIMIT_AS cannot "
          "limit an ASan build (scripts/sanitize.sh); the normal build runs them")
else:
    # Allocation failure: a clear message with the bytes needed, exit 1.
    import resource  # noqa: E402
    big = os.path.join(work, "model-big")
    subprocess.run([hymba_compile, ck2, "-o", big, "--max-seq-len", "1048576", "--no-fold-meta"],
                   check=True)
    r = subprocess.run([big, "--tokens", "1,2", "-n", "2", "--ids"], capture_output=True,
                       text=True, timeout=120, preexec_fn=lambda: resource.setrlimit(
                           resource.RLIMIT_AS, (300 << 20, 300 << 20)))
    # PLAIN: PASS state does not fit: exit 1 with the bytes needed
    check("state does not fit: exit 1 with the bytes needed", r.returncode == 1
          and "cannot allocate" in r.stderr and "bytes" in r.stderr, r.stderr.strip()[:160])

    # The logits of every row of a 6000-token prompt, which --logits-out
    # asks for (6000 x 32001 floats, 768 MB; generation alone computes only
    # the last row's), are refused with a message, not an exception: in 600
    # MB the runtime's own copy does not fit...
    exe4 = os.path.join(work, "model-long")
    subprocess.run([hymba_compile, ck3, "-o", exe4, "--max-seq-len", "8192", "--no-fold-meta"],
                   check=True)
    def long_prompt(limit_mb):
        return subprocess.run(
            [exe4, "--tokens", ",".join(["5"] * 6000), "-n", "1", "--ids",
             "--logits-out", os.path.join(work, "long-logits.npy")],
            capture_output=True, text=True, timeout=300,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS,
                                                  (limit_mb << 20, limit_mb << 20)))
    r = long_prompt(600)
    # PLAIN: PASS kept logits out of memory: exit 1 with the bytes
    check("kept logits out of memory: exit 1 with the bytes", r.returncode == 1
          and "out of memory" in r.stderr and "768024000 bytes" in r.stderr
          and not os.path.exists(os.path.join(work, "long-logits.npy")),
          r.stderr.strip()[:160])
    # ... and in 1200 MB it does, and the model code's own allocation of
    # them fails (the model code checks its allocations too).
    r = long_prompt(1200)
    # PLAIN: PASS model code out of memory: exit 1 with the bytes
    check("model code out of memory: exit 1 with the bytes", r.returncode == 1
          and "out of memory" in r.stderr and "768" in r.stderr
          and "--logits-out keeps" not in r.stderr, r.stderr.strip()[:160])

# A tampered or truncated executable is refused with a message, never run.
import struct  # noqa: E402
TRAILER = struct.Struct("<9Q8s")
original = open(exe2, "rb").read()
fields = list(TRAILER.unpack(original[-TRAILER.size:]))


def tampered(name, data, expect):
    path = os.path.join(work, "tampered-" + name)
    open(path, "wb").write(data)
    os.chmod(path, 0o755)
    r = run(path, "--tokens", "1,2", "-n", "2", "--ids")
    check(f"tampered: {name}", r.returncode == 1 and expect in r.stderr
          and "Segmentation" not in r.stderr, f"rc={r.returncode} " + r.stderr.strip()[:120])


def with_fields(**changes):
    f = list(fields)
    names = ["params_offset", "params_bytes", "tok_offset", "tok_bytes", "meta_offset",
             "meta_bytes", "state_bytes", "snap_offset", "snap_bytes"]
    for k, v in changes.items():
        f[names.index(k)] = v
    return original[:-TRAILER.size] + TRAILER.pack(*f)


# (The program part must stay whole: the loader runs before any of our code.)
# CHECK: PASS tampered: truncated payload
tampered("truncated payload", original[:fields[0] + 100], "no model payload")
# CHECK: PASS tampered: no trailer
tampered("no trailer", original[:-1], "no model payload")
# CHECK: PASS tampered: metadata past the end
tampered("metadata past the end", with_fields(meta_bytes=2**63), "outside the file")
# CHECK: PASS tampered: offset + size wraps
tampered("offset + size wraps", with_fields(meta_offset=2**64 - 8, meta_bytes=16),
         "outside the file")
# CHECK: PASS tampered: tokenizer huge
tampered("tokenizer huge", with_fields(tok_bytes=len(original)), "outside the file")
# CHECK: PASS tampered: state_bytes 0
tampered("state_bytes 0", with_fields(state_bytes=0), "the model code expects")
# CHECK: PASS tampered: params_bytes 4096
tampered("params_bytes 4096", with_fields(params_bytes=4096), "the model code expects")
meta_at, meta_len = fields[4], fields[5]
meta = original[meta_at:meta_at + meta_len]
raised = meta.replace(b"max_seq_len=", b"max_seq_len=9")
# CHECK: PASS tampered: max_seq_len raised
tampered("max_seq_len raised", original[:meta_at] + raised + original[meta_at + meta_len:-TRAILER.size]
         + TRAILER.pack(*fields[:5], len(raised), *fields[6:]), "metadata differs")
# CHECK: PASS tampered: metadata not a number
tampered("metadata not a number", original[:meta_at] + meta.replace(b"vocab_size=", b"vocab_size=x")
         + original[meta_at + meta_len + 0:-TRAILER.size]
         + TRAILER.pack(*fields[:5], meta_len + 1, *fields[6:]), "metadata differs")
# Another model's payload behind this program.
other = open(moved, "rb").read()
of = TRAILER.unpack(other[-TRAILER.size:])
sections = [other[of[0]:of[0] + of[1]], other[of[2]:of[2] + of[3]], other[of[4]:of[4] + of[5]],
            other[of[7]:of[7] + of[8]]]
pos, offsets = fields[0], []
for sec in sections:
    offsets.append(pos)
    pos += len(sec)
spliced = original[:fields[0]] + b"".join(sections) + TRAILER.pack(
    offsets[0], of[1], offsets[1], of[3], offsets[2], of[5], of[6], offsets[3], of[8], of[9])
# CHECK: PASS tampered: another model's payload
tampered("another model's payload", spliced, "the model code expects")
# A folded executable (the default) without its prefix state snapshot.
folded = open(moved, "rb").read()
ff = list(TRAILER.unpack(folded[-TRAILER.size:]))
ff[7] = ff[8] = 0
# CHECK: PASS tampered: folded without its snapshot
tampered("folded without its snapshot", folded[:-TRAILER.size] + TRAILER.pack(*ff),
         "prefix state snapshot")

# The driver refuses bad flags without leaving output behind.
# CHECK: PASS driver: bad dtype
# CHECK: PASS driver: bad quant group
# CHECK: PASS driver: bad decode streams
# CHECK: PASS driver: bad weight prefetch distance
# CHECK: PASS driver: exe to stdout
for name, args, expect in [
    ("bad dtype", ["--dtype", "int3"], "--dtype must be f32, bf16, int8 or int4"),
    ("bad quant group", ["--dtype", "int8", "--quant-group", "0"],
     "--quant-group must be between 1 and 4096"),
    ("bad decode streams", ["--decode-streams", "0"],
     "--decode-streams must be between 1 and 8"),
    ("bad weight prefetch distance", ["--weight-prefetch-distance", "-64"],
     "--weight-prefetch-distance must be between 0 and 1048576"),
    ("exe to stdout", ["-o", "-"], "cannot be written to stdout"),
]:
    out = os.path.join(work, "never")
    r = subprocess.run([hymba_compile, ck2, *args] + ([] if "-o" in args else ["-o", out]),
                       capture_output=True, text=True)
    check(f"driver: {name}", r.returncode == 1 and expect in r.stderr
          and not os.path.exists(out), r.stderr.strip()[:100])

print(f"{passed} passed, {failed} failed")
# PLAIN: 51 passed, 0 failed
# ASAN: 48 passed, 0 failed
sys.exit(1 if failed else 0)
