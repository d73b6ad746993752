#!/usr/bin/env bash
# Long libFuzzer runs of the readers of hostile input, one after another at
# the lowest CPU priority (the test suite runs each for 30 s only).
#   scripts/fuzz.sh [SECONDS] [TARGET...]   default: 1200 s each, all targets
# Targets: safetensors config payload cli. Corpora grow in out/fuzz/TARGET/
# (seeded from test/fuzz/corpus/TARGET), crashes land there as crash-*,
# logs in out/fuzz/TARGET.log; a summary line per target is printed.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-1200}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(safetensors config payload cli)
scripts/build.sh --target hymba-fuzz-safetensors hymba-fuzz-config \
  hymba-fuzz-payload hymba-fuzz-cli >/dev/null || exit 1
status=0
for t in "${targets[@]}"; do
  dir=out/fuzz/$t
  mkdir -p "$dir/corpus"
  log=out/fuzz/$t.log
  dict=(); [[ -f test/fuzz/$t.dict ]] && dict=(-dict="test/fuzz/$t.dict")
  nice -n 19 build/fuzz/hymba-fuzz-$t -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/" "${dict[@]}" \
    "$dir/corpus" "test/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  ((rc == 0)) || status=1
  runs=$(awk '/stat::number_of_executed_units:/ {print $2}' "$log")
  rate=$(awk '/stat::average_exec_per_sec:/ {print $2}' "$log")
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corpus=$(ls "$dir/corpus" | wc -l)
  found=$(ls "$dir" | grep -cE '^(crash|leak|timeout|oom)-')
  echo "fuzz $t: rc=$rc ${secs}s runs=$runs exec/s=$rate cov=$cov ft=$ft corpus=$corpus findings=$found"
done
exit $status
