"""What hymba-compile makes of a --target-cpu, in its own words.

`hymba-compile --print-target [--target-cpu=CPU]` prints the resolved CPU,
its vector shape, which --compute forms it has and whether this machine
can run its code, as `key: value` lines. The tests and benchmarks ask it
instead of repeating the compiler's rules on /proc/cpuinfo (where "VNNI or
AVX2" and the compiler's "VNNI, or pmaddubsw: AVX2, AVX512BW on 512-bit
vectors" once disagreed).
"""
import os
import subprocess


def describe(hymba_compile, target_cpu="native"):
    """The --print-target facts for `target_cpu`, as a dict of strings."""
    # An instrumented (scripts/sanitize.sh) compiler must not fail on the
    # leaks of its command-line registry.
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    out = subprocess.run(
        [hymba_compile, "--print-target", f"--target-cpu={target_cpu}"],
        check=True, capture_output=True, text=True, env=env).stdout
    facts = {}
    for line in out.splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            facts[key] = value
    return facts


def compute_obstacle(facts, compute):
    """Why executables built with --compute=`compute` for this target
    cannot run here, or None if they can."""
    have = facts.get(f"compute {compute}", "no")
    if not have.startswith("yes"):
        return f"--target-cpu={facts.get('target-cpu', '?')} has no " \
               f"--compute={compute}: {have}"
    runs = facts.get("runs on this machine", "no")
    if not runs.startswith("yes"):
        return f"this machine cannot run code for --target-cpu=" \
               f"{facts.get('target-cpu', '?')}: {runs}"
    return None


def vector_shape(facts):
    """(f32 lanes, vector registers, weight panel) of the target."""
    # "512 bits, 16 f32 lanes, 32 registers; weight panel 32"
    words = facts["vectors"].replace(",", "").replace(";", "").split()
    return int(words[2]), int(words[5]), int(words[-1])
