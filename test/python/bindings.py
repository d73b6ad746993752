"""Checks the hymba_mlir Python module end to end on a random checkpoint.

  bindings.py PYBINDINGS_DIR PYTOOLS_DIR WORK_DIR
"""
import os
import sys

sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
import hymba_mlir as hm  # noqa: E402
from hymba_tools import make_checkpoint, presets  # noqa: E402

work = sys.argv[3]
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")


def raises(fn, exc, text):
    try:
        fn()
    except exc as e:
        return text in str(e), str(e).splitlines()[0]
    return False, "no exception"


ck = os.path.join(work, "tiny")
make_checkpoint.write_checkpoint(presets.preset("tiny"), ck, "f32")
cfg = presets.preset("tiny")
layers = cfg["num_hidden_layers"]

m = hm.import_checkpoint(ck, dtype="bf16", max_seq_len=32)
ops = m.op_counts()
check("import: one scan per layer", ops.get("hymba.selective_scan") == layers,
      str(ops.get("hymba.selective_scan")))
# CHECK: PASS import: one scan per layer
check("import: weights stored as bf16", "bf16" in str(m))
# CHECK: PASS import: weights stored as bf16

again = hm.parse(str(m))
again.verify()
check("print/parse round trip", str(again) == str(m))
# CHECK: PASS print/parse round trip

m.run(hm.pipelines.optimize())
attrs = m.int_attributes()
check("optimize: buffer layout assigned",
      attrs.get("hymba.params_bytes", 0) > 0 and attrs.get("hymba.state_bytes", 0) > 0,
      str(attrs))
# CHECK: PASS optimize: buffer layout assigned
check("optimize: hybrid heads fused", "hymba.parallel_branches" in str(m))
# CHECK: PASS optimize: hybrid heads fused

gpu = hm.parse(str(m))
gpu.run(hm.pipelines.lower_to_linalg("gpu"))
left = [k for k in gpu.op_counts() if k.startswith("hymba.")]
check("GPU form: no Hymba op left, norms folded", not left, str(left))
# CHECK: PASS GPU form: no Hymba op left, norms folded

m.run(hm.pipelines.lower_to_linalg("cpu"))
m.run(hm.pipelines.lower_to_llvm("cpu"))
check("CPU lowering reaches the LLVM dialect",
      "llvm.func" in str(m) and not [k for k in m.op_counts() if k.startswith(("hymba.", "linalg."))])
# CHECK: PASS CPU lowering reaches the LLVM dialect

ok, msg = raises(lambda: hm.parse("func.func @f( {"), RuntimeError, "cannot parse")
check("bad IR raises RuntimeError", ok, msg)
# CHECK: PASS bad IR raises RuntimeError
missing = os.path.join(work, "missing")
ok, msg = raises(lambda: hm.import_checkpoint(missing), RuntimeError,
                 missing + ": not a checkpoint directory")
check("a missing checkpoint is named", ok, msg)
# CHECK: PASS a missing checkpoint is named
ok, msg = raises(lambda: hm.parse(str(again)).run("no-such-pass"), ValueError,
                 "no-such-pass")
check("unknown pass raises ValueError", ok, msg)
# CHECK: PASS unknown pass raises ValueError
bad = hm.parse(str(again))
ok, msg = raises(lambda: bad.run("hymba-lower-dense-to-linalg"), RuntimeError,
                 "run -hymba-assign-buffer-layout first")
check("a failing pass raises with its diagnostic", ok, msg)
# CHECK: PASS a failing pass raises with its diagnostic

q = hm.import_checkpoint(ck, dtype="int4", max_seq_len=32, quant_group=16)
qops = q.op_counts()
check("import int4: quantized projections read through hymba.dequantize",
      # 7 projections per layer, the tied table in each entry point
      qops.get("hymba.dequantize", 0) == 7 * layers + 2 and "xi4>" in str(q)
      and "{scales}" in str(q), str(qops.get("hymba.dequantize")))
# CHECK: PASS import int4: quantized projections read through hymba.dequantize
ok, msg = raises(lambda: hm.import_checkpoint(ck, dtype="int3"), ValueError,
                 "dtype must be 'f32', 'bf16', 'int8' or 'int4'")
check("an unknown dtype raises ValueError", ok, msg)
# CHECK: PASS an unknown dtype raises ValueError

print(f"{results.count(True)} passed, {results.count(False)} failed")
# CHECK: {{[0-9]+}} passed, 0 failed
