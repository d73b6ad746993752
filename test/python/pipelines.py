"""The driver's stages are one pipeline: what the Python `pipelines` helpers
return, chained, is what `hymba-opt --hymba-cpu-pipeline` runs (the same
builder functions hymba-compile calls), pass for pass and on a model.

  pipelines.py PYBINDINGS_DIR PYTOOLS_DIR HYMBA_OPT WORK_DIR
"""
import os
import subprocess
import sys

sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
import hymba_mlir as hm  # noqa: E402
from hymba_tools import make_checkpoint, presets  # noqa: E402

opt, work = sys.argv[3], sys.argv[4]
# AVX-512 (x86-64-v4): 16 f32 lanes, 32 registers, panels of 32 output
# features, AVX512BW (int8 dot products by pmaddubsw).
registered = "--hymba-cpu-pipeline=vector-width=16 vector-registers=32 maddubs=true"
stages = [hm.pipelines.optimize(weight_panel=32),
          hm.pipelines.lower_to_linalg("cpu", target_cpu="x86-64-v4"),
          hm.pipelines.lower_to_llvm("cpu", target_cpu="x86-64-v4")]
inner = ",".join(s[len("builtin.module("):-1] for s in stages)
chained = f"--pass-pipeline=builtin.module({inner})"


def run(args, stdin=""):
    r = subprocess.run([opt] + args, input=stdin, capture_output=True,
                       text=True)
    if r.returncode != 0:
        sys.exit(f"hymba-opt {' '.join(args)} failed:\n{r.stderr}")
    return r


dump = run([registered, "--dump-pass-pipeline"], "module {}").stderr
print("same passes and options:",
      dump == run([chained, "--dump-pass-pipeline"], "module {}").stderr)
# CHECK: same passes and options: True
print(dump)
# CHECK:      Pass Manager with {{[0-9]+}} passes:
# CHECK-NEXT: builtin.module(
# CHECK:        hymba-fuse-hybrid-heads{scan-tile=16},
# CHECK-NEXT:   hymba-tile-selective-scan{
# CHECK-NEXT:   hymba-pack-weights{int8-interleave=1 interleave=1 panel=32},
# CHECK-NEXT:   hymba-assign-buffer-layout,
# CHECK-NEXT:   hymba-lower-dense-to-linalg{kernel-form=cpu},
# CHECK:        hymba-unshare-fill-inits,
# CHECK-NEXT:   one-shot-bufferize{
# CHECK-NEXT:   hymba-lower-stateful-to-loops{kernel-form=cpu vector-width=16},
# CHECK-NEXT:   expand-realloc
# CHECK:        ownership-based-buffer-deallocation
# CHECK:        convert-bufferization-to-memref,
# CHECK-NEXT:   hymba-vectorize-linear
# CHECK-SAME:   {{.*}} maddubs=true {{.*}} vector-registers=32 vector-width=16 vnni=false x-chunk-bytes=8388608}
# CHECK:        reconcile-unrealized-casts

cuda = run(["--hymba-cuda-pipeline=kernel-form=gpu chip=sm_80",
            "--dump-pass-pipeline"], "module {}").stderr
print(cuda)
# CHECK-NOT:  hymba-tile-selective-scan
# CHECK:      hymba-fold-scan-norms,
# CHECK-NEXT: hymba-lower-dense-to-linalg{kernel-form=gpu}
# CHECK:      one-shot-bufferize{
# CHECK-NEXT: hymba-lower-stateful-to-loops{kernel-form=gpu
# CHECK:      ownership-based-buffer-deallocation
# CHECK-NOT:  one-shot-bufferize
# CHECK:      nvvm-attach-target{{.*}}chip=sm_80
# CHECK:      gpu-module-to-binary{{.*}}format=fatbin

# On a model: the registered pipeline and the helpers give the same IR.
ck = os.path.join(work, "tiny")
make_checkpoint.write_checkpoint(presets.preset("tiny"), ck, "f32")
m = hm.import_checkpoint(ck)
path = os.path.join(work, "tiny.mlir")
with open(path, "w") as f:
    f.write(str(m))
by_opt = run([path, registered]).stdout
for s in stages:
    m.run(s)
print("same IR:", by_opt.strip() == str(m).strip())
# CHECK: same IR: True
print("hymba ops left:", sum(v for k, v in m.op_counts().items()
                             if k.startswith("hymba.")))
# CHECK: hymba ops left: 0
