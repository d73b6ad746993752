"""exe --perplexity against the PyTorch model on the same text.

The shipped model's held-out text (its first few chapters) is scored by the
compiled executable and by python/hymba_tools/perplexity.py's PyTorch model
with the same chunking; the running and final perplexities must agree to
1e-3 relative (both compute in float32). Bad input gets a clear error.

  perplexity.py HYMBA_COMPILE PYTOOLS WORK CKPT
"""
import os
import re
import shutil
import subprocess
import sys

hymba_compile, pytools, work, ckpt = sys.argv[1:5]
sys.path.insert(0, pytools)
import sentencepiece as spm  # noqa: E402
import torch  # noqa: E402
from hymba_tools import config as hc  # noqa: E402
from hymba_tools import hymba_torch as ht  # noqa: E402
from hymba_tools import perplexity as ppl  # noqa: E402
from hymba_tools import safetensors_io as st  # noqa: E402

TOL = 1e-3
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    print(f"{'PASS' if ok else 'FAIL'} {name} {detail}")
    passed, failed = passed + ok, failed + (not ok)


def run(*args):
    return subprocess.run([exe, *args], capture_output=True, text=True,
                          timeout=600)


exe = os.path.join(work, "model")
subprocess.run([hymba_compile, ckpt, "-o", exe], check=True)
with open(os.path.join(ckpt, "heldout.txt")) as f:
    chapters = f.read().split("\n")[:3]
text = os.path.join(work, "text.txt")
with open(text, "w") as f:
    f.write("\n".join(chapters) + "\n")

d = hc.load_dims(ckpt)
model = ht.Hymba(d, {n: torch.from_numpy(w).float()
                     for n, w in st.read_checkpoint(ckpt).items()})
sp = spm.SentencePieceProcessor(model_file=os.path.join(ckpt, "tokenizer.model"))
with open(text) as f:
    ids = sp.encode(f.read())

# CHECK: PASS ctx 64: runs and prints a final perplexity
# CHECK: PASS ctx 64: scores every token in {{[0-9]+}} chunks
# CHECK: PASS ctx 64: final perplexity == PyTorch
# CHECK: PASS ctx 64: running perplexity == PyTorch
# CHECK: PASS ctx 64: a trained model, not a uniform one
# CHECK: PASS ctx 128: runs and prints a final perplexity
# CHECK: PASS ctx 128: scores every token in {{[0-9]+}} chunks
# CHECK: PASS ctx 128: final perplexity == PyTorch
# CHECK: PASS ctx 128: running perplexity == PyTorch
# CHECK: PASS ctx 128: a trained model, not a uniform one
for ctx in (64, 128):
    args = ["--perplexity", text] + (["--ctx", str(ctx)] if ctx != 128 else [])
    r = run(*args)
    running = [float(m) for m in re.findall(r"^\[\d+\] ([0-9.]+)$", r.stdout, re.M)]
    final = re.search(r"^perplexity: ([0-9.]+) over (\d+) tokens in chunks of (\d+)$",
                      r.stdout, re.M)
    per = ppl.chunk_nlls(model, ids, ctx, sp.bos_id())
    want, total, count = [], 0.0, 0
    for v, n in per:
        total, count = total + v, count + n
        want.append(torch.tensor(total / count, dtype=torch.float64).exp().item())
    ok = r.returncode == 0 and final is not None
    check(f"ctx {ctx}: runs and prints a final perplexity", ok, r.stderr[-300:])
    if not ok:
        continue
    got = float(final.group(1))
    check(f"ctx {ctx}: scores every token in {len(per)} chunks",
          int(final.group(2)) == len(ids) and int(final.group(3)) == ctx
          and len(running) == len(per), f"{final.group(0)}; {len(ids)} tokens")
    rel = abs(got - want[-1]) / want[-1]
    check(f"ctx {ctx}: final perplexity == PyTorch", rel <= TOL,
          f"exe {got:.6f} torch {want[-1]:.6f} rel {rel:.1e} (tol {TOL:g})")
    worst = max(abs(a - b) / b for a, b in zip(running, want))
    check(f"ctx {ctx}: running perplexity == PyTorch", worst <= TOL,
          f"worst rel {worst:.1e}")
    check(f"ctx {ctx}: a trained model, not a uniform one",
          1.0 < got < d.vocab / 4, f"{got:.3f} (uniform would be {d.vocab})")

empty = os.path.join(work, "empty.txt")
open(empty, "w").close()
# CHECK: PASS error: missing file
# CHECK: PASS error: a directory
# CHECK: PASS error: empty file
# CHECK: PASS error: ctx too small
# CHECK: PASS error: ctx over capacity
# CHECK: PASS error: with a prompt too
# CHECK: PASS error: needs a value
for name, args, expect in [
    ("missing file", ["--perplexity", "/nonexistent/t.txt"], "/nonexistent/t.txt"),
    ("a directory", ["--perplexity", work], work),
    ("empty file", ["--perplexity", empty], "no tokens"),
    ("ctx too small", ["--perplexity", text, "--ctx", "1"], "--ctx expects"),
    ("ctx over capacity", ["--perplexity", text, "--ctx", "100000"], "more than"),
    ("with a prompt too", ["--perplexity", text, "--prompt", "x"], "no --prompt"),
    ("needs a value", ["--perplexity"], "--perplexity needs a value"),
]:
    r = run(*args)
    check(f"error: {name}", r.returncode == 1 and expect in r.stderr
          and "Segmentation" not in r.stderr, r.stderr.strip()[:120])

print(f"{passed} passed, {failed} failed")
# CHECK: 17 passed, 0 failed
sys.exit(1 if failed else 0)
