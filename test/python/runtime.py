"""hymba_mlir.runtime: compiled models from Python, against the float64
reference and the executable.

  runtime.py HYMBA_COMPILE PYBINDINGS PYTOOLS MODELS WORK
"""
import os
import shutil
import subprocess
import sys

import numpy as np

hymba_compile, pybindings, pytools, models, work = sys.argv[1:6]
sys.path.insert(0, pybindings)
sys.path.insert(0, pytools)
import hymba_mlir.runtime as hr  # noqa: E402
from hymba_tools import config as hc  # noqa: E402
from hymba_tools import make_checkpoint, presets  # noqa: E402
from hymba_tools import reference as ref  # noqa: E402
from hymba_tools import safetensors_io as st  # noqa: E402

shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}")
    passed += bool(ok)
    failed += not ok


def raises(fn, status=None):
    try:
        fn()
    except hr.HymbaError as e:
        return (status is None or e.status == status), str(e)
    return False, "no error"


def rel_err(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def compile_(ck, out, *flags):
    subprocess.run([hymba_compile, ck, "-o", out, *flags], check=True)


# 1. A random checkpoint (no tokenizer): logits and greedy decoding through
# the library against the float64 reference.
ck = make_checkpoint.write_checkpoint(presets.preset("tiny"),
                                      os.path.join(work, "tiny"), "f32", seed=3)
d = hc.load_dims(ck)
W = st.read_checkpoint(ck)
compile_(ck, os.path.join(work, "tiny-lib"), "--emit=lib")
compile_(ck, os.path.join(work, "tiny.exe"))
m = hr.load(os.path.join(work, "tiny-lib"))
# CHECK: PASS load a library directory:
check("load a library directory", isinstance(m, hr.LibraryModel),
      f"vocab {m.vocab_size}, max_seq_len {m.max_seq_len}")
prompt = [int(x) for x in np.random.default_rng(5).integers(3, d.vocab, 9)]
got = m.logits(prompt)
want = ref.forward(W, d, prompt)
err = rel_err(got, want)
# CHECK: PASS logits(ids) vs float64 reference:
check("logits(ids) vs float64 reference", got.shape == want.shape and err <= 1e-4,
      f"shape {got.shape}, rel err {err:.2e}")
s = m.session()
row = s.feed(prompt)
seq = list(prompt)
rows = [row]
for _ in range(6):
    tok = s.sample()  # greedy by default
    seq.append(tok)
    rows.append(s.feed([tok]))
want = ref.forward(W, d, seq)
err = rel_err(np.stack(rows), want[len(prompt) - 1:])
greedy_ok = all(seq[len(prompt) + i] == int(np.argmax(want[len(prompt) - 1 + i]))
                for i in range(6))
# CHECK: PASS session decode vs reference:
check("session decode vs reference", err <= 1e-4 and greedy_ok,
      f"rel err {err:.2e}, greedy tokens {seq[len(prompt):]}")
# Two sessions interleaved == separate runs.
a, b = m.session(), m.session()
ra, rb = [a.feed(prompt[:5])], [b.feed(prompt[3:])]
for t in range(4):
    rb.append(b.feed([10 + t]))
    ra.append(a.feed([20 + t]))
alone_a, alone_b = m.session(), m.session()
sa = [alone_a.feed(prompt[:5])] + [alone_a.feed([20 + t]) for t in range(4)]
sb = [alone_b.feed(prompt[3:])] + [alone_b.feed([10 + t]) for t in range(4)]
# CHECK: PASS interleaved sessions == separate:
check("interleaved sessions == separate", np.array_equal(np.stack(ra), np.stack(sa))
      and np.array_equal(np.stack(rb), np.stack(sb)))
a.reset()
# CHECK: PASS reset:
check("reset", len(a) == 0 and np.array_equal(a.feed(prompt[:5]), sa[0]))
exe = hr.load(os.path.join(work, "tiny.exe"))
got_exe = exe.logits(prompt)
# CHECK: PASS executable logits == library logits:
check("executable logits == library logits", isinstance(exe, hr.ExecutableModel)
      and rel_err(got_exe, got) <= 1e-6, f"rel err {rel_err(got_exe, got):.2e}")
ok, msg = raises(lambda: s.feed([d.vocab]), 1)
# CHECK: PASS feed an id outside the vocabulary:
check("feed an id outside the vocabulary", ok, msg)
ok, msg = raises(lambda: m.session().feed([1] * (m.max_seq_len + 1)), 3)
# CHECK: PASS feed past max_seq_len:
check("feed past max_seq_len", ok, msg)
ok, msg = raises(lambda: m.tokenize("hello"), 6)
# CHECK: PASS tokenize without a tokenizer:
check("tokenize without a tokenizer", ok, msg)
ok, msg = raises(lambda: m.session().sample(), 8)
# CHECK: PASS sample before feeding:
check("sample before feeding", ok, msg)
ok, msg = raises(lambda: exe.session())
# CHECK: PASS sessions of an executable:
check("sessions of an executable", ok, msg)
ok, msg = raises(lambda: hr.load(os.path.join(work, "missing")))
# CHECK: PASS load a missing path:
check("load a missing path", ok, msg)
ok, msg = raises(lambda: hr.load(ck + "/config.json"))
# CHECK: PASS load something else:
check("load something else", ok, msg)
m.close()

# 2. The trained model: generate() and perplexity() as the executable.
kjv = os.path.join(models, "hymba-kjv")
compile_(kjv, os.path.join(work, "kjv-lib"), "--emit=lib", "--dtype", "bf16")
compile_(kjv, os.path.join(work, "kjv.exe"), "--dtype", "bf16")
lib = hr.load(os.path.join(work, "kjv-lib", "hymba_kjv.hymba"))
exe = hr.load(os.path.join(work, "kjv.exe"))


def run_exe(*args):
    return subprocess.run([os.path.join(work, "kjv.exe"), *args], check=True,
                          capture_output=True, text=True).stdout


cli = run_exe("--prompt", "And God said", "-n", "24")[:-1]
pieces = list(lib.generate("And God said", max_tokens=24))
# CHECK: PASS generate() == exe --prompt:
check("generate() == exe --prompt", "".join(pieces) == cli and len(pieces) > 5,
      f"{len(pieces)} pieces: {''.join(pieces)!r}")
# CHECK: PASS executable generate() == exe --prompt:
check("executable generate() == exe --prompt",
      "".join(exe.generate("And God said", max_tokens=24)) == cli)
cli_chat = run_exe("--chat", "--system", "Be brief.", "--prompt",
                   "Who made the light?", "-n", "24")[:-1]
# CHECK: PASS generate(chat=True) == exe --chat:
check("generate(chat=True) == exe --chat",
      "".join(lib.generate("Who made the light?", 24, chat=True,
                           system="Be brief.")) == cli_chat)
sampled = ["".join(lib.generate("And God said", 16, temperature=0.8, top_p=0.9,
                                seed=9)) for _ in range(2)]
cli_sampled = run_exe("--prompt", "And God said", "-n", "16", "--temperature",
                      "0.8", "--top-p", "0.9", "--seed", "9")[:-1]
# CHECK: PASS sampling == exe with the same seed:
check("sampling == exe with the same seed",
      sampled[0] == sampled[1] == cli_sampled, repr(sampled[0]))
ids = lib.tokenize("In the beginning God created", add_bos=True)
# CHECK: PASS tokenize/detokenize round trip:
check("tokenize/detokenize round trip",
      ids[0] == lib.bos and lib.detokenize(ids[1:]) == "In the beginning God created",
      str(ids))
with open(os.path.join(kjv, "heldout.txt"), encoding="utf-8") as f:
    text = f.read()[:6000]
with open(os.path.join(work, "heldout-part.txt"), "w", encoding="utf-8") as f:
    f.write(text)
out = run_exe("--perplexity", os.path.join(work, "heldout-part.txt"))
cli_ppl = float(out.strip().splitlines()[-1].split()[1])
ppl = lib.perplexity(text)
# CHECK: PASS perplexity() == exe --perplexity:
check("perplexity() == exe --perplexity", abs(ppl - cli_ppl) <= 1e-5 * cli_ppl,
      f"{ppl:.6f} vs {cli_ppl:.6f}")
# CHECK: PASS executable perplexity():
check("executable perplexity()", abs(exe.perplexity(text) - cli_ppl) <= 1e-6 * cli_ppl)
print(f"{passed} passed, {failed} failed")
# CHECK: 20 passed, 0 failed
sys.exit(1 if failed else 0)
