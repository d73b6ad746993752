"""The compiled executable as a user meets it: self-contained, clear errors.

  executable_cli.py HYMBA_COMPILE PYTOOLS WORK TOKENIZER_MODEL
"""
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
check("runs without its checkpoint, moved", r.returncode == 0 and r.stdout.strip() != "",
      repr(r.stdout[:60]))
r2 = run(moved, "--prompt", "The tensor compiler", "-n", "8", "--ignore-eos")
check("greedy is deterministic", r.stdout == r2.stdout)
ldd = subprocess.run(["ldd", moved], capture_output=True, text=True).stdout
check("no LLVM/MLIR libraries at run time",
      "libLLVM" not in ldd and "libMLIR" not in ldd and "mlir" not in ldd, "")
r = run(moved, "--prompt", "Hi", "-n", "4", "--temperature", "0.8", "--top-k", "20",
        "--top-p", "0.9", "--seed", "7", "--ignore-eos")
r2 = run(moved, "--prompt", "Hi", "-n", "4", "--temperature", "0.8", "--top-k", "20",
         "--top-p", "0.9", "--seed", "7", "--ignore-eos")
check("sampling with a seed is reproducible", r.returncode == 0 and r.stdout == r2.stdout)
r = run(moved, "--prompt", "Hi", "--chat", "--system", "Be brief.", "-n", "3", "--ids",
        "--ignore-eos")
check("chat template", r.returncode == 0 and len(r.stdout.split()) == 3, r.stdout.strip())
r = run(moved, "--prompt", "Hi", "-n", "2", "--stats")
check("--stats", r.returncode == 0 and "decode:" in r.stderr and "peak RSS" in r.stderr)
r = run(moved, "--help")
check("--help", r.returncode == 0 and "--logits-out" in r.stdout)

# Bad input: a clear message, exit 1.
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
check("stops at capacity", r.returncode == 0 and "compiled capacity" in r.stderr
      and len(r.stdout.split()) == 3, r.stdout.strip())

# Without a tokenizer: ids only, and --prompt is refused clearly.
ck2 = make_checkpoint.write_checkpoint(presets.preset("tiny"), os.path.join(work, "ck2"), "f32")
exe2 = os.path.join(work, "model-ids")
subprocess.run([hymba_compile, ck2, "-o", exe2], check=True)
r = run(exe2, "--prompt", "hello")
check("no tokenizer: --prompt refused", r.returncode == 1 and "--tokens" in r.stderr)
r = run(exe2, "--tokens", "1,2,3", "-n", "4", "--ignore-eos")
check("no tokenizer: prints ids", r.returncode == 0 and len(r.stdout.split()) == 4)
r = run(exe2, "--perplexity", tokenizer)
check("no tokenizer: --perplexity refused",
      r.returncode == 1 and "needs the tokenizer" in r.stderr, r.stderr.strip())

# The driver refuses bad flags without leaving output behind.
for name, args, expect in [
    ("bad dtype", ["--dtype", "int4"], "--dtype must be f32 or bf16"),
    ("exe to stdout", ["-o", "-"], "cannot be written to stdout"),
]:
    out = os.path.join(work, "never")
    r = subprocess.run([hymba_compile, ck2, *args] + ([] if "-o" in args else ["-o", out]),
                       capture_output=True, text=True)
    check(f"driver: {name}", r.returncode == 1 and expect in r.stderr
          and not os.path.exists(out), r.stderr.strip()[:100])

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
