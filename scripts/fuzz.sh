#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, 'fuzz' preset), assembles their seed corpora, replays the
# committed reproducers in fuzz/regressions/<target>/, then fuzzes each target for a bounded time
# and prints executions and coverage per target.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 600 s, every target)
#   scripts/fuzz.sh --smoke                             (30 s per target: what CI runs)
# Targets are the fuzz/<name>.cpp names (safetensors, tokenize, ...). QLM_FUZZ_JOBS sets the
# build parallelism (default: all cores). The corpus grows in build/fuzz/corpus/<target>/;
# crashes land in build/fuzz/artifacts/<target>/ and make the script fail.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=600
seed=0  # libFuzzer picks one
[ "${1:-}" = "--smoke" ] && { seconds=30; seed=1; shift; }  # a fixed seed keeps CI repeatable
[[ "${1:-}" =~ ^[0-9]+$ ]] && { seconds=$1; shift; }
all=(safetensors safetensors_index model_config tokenizer_json vocab_merges tokenize chat_template chat_messages
     yaml_config request_line openai_request)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

start=$(date +%s)
cmake --preset fuzz >/dev/null
nice -n 10 cmake --build --preset fuzz -j "${QLM_FUZZ_JOBS:-$(nproc)}"
echo "fuzz: build took $(( $(date +%s) - start )) s"
work=build/fuzz
rm -rf "$work/seeds"
/usr/bin/python3 scripts/fuzz_seeds.py "$work/seeds"

dict_of() {
  case "$1" in
    chat_template) echo fuzz/dicts/jinja.dict ;;
    yaml_config) echo fuzz/dicts/yaml.dict ;;
    tokenize) echo "" ;;
    *) echo fuzz/dicts/json.dict ;;
  esac
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
summary=()
# A failure's report goes to stdout too, so a CI log alone shows what broke and how to replay it:
# the sanitizer's or libFuzzer's error with its stack, the artifact's path and its Base64.
show_failure() {
  local log=$1 first
  first=$(grep -n -m1 -E '==[0-9]+==ERROR|ERROR: libFuzzer|runtime error:|fuzz property failed|ALARM:|terminat' "$log" |
          cut -d: -f1 || true)
  echo "---- $log (from line ${first:-1}) ----"
  # 40 lines of the report (not the recommended dictionary), then where the reproducer went.
  tail -n "+${first:-1}" "$log" | grep -v -E '^"|^###### ' |
    awk 'NR <= 40 || /^Base64:|Test unit written/'
  echo "---- end of $log ----"
}
shared="${QLM_SHARED_DATA:-$PWD/../shared/data}"
for t in "${targets[@]}"; do
  bin="$work/fuzz/fuzz_$t"
  [ -x "$bin" ] || { echo "fuzz: no target '$t' (have: ${all[*]})"; exit 2; }
  case "$t" in tokenize | chat_messages | request_line | openai_request)  # they load real tokenizers/templates
    if [ ! -d "$shared" ]; then echo "fuzz: $t skipped: shared data not found at $shared"; continue; fi ;;
  esac
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t" "$work/seeds/$t"
  # Every reproducer found so far must now run clean.
  if compgen -G "fuzz/regressions/$t/*" >/dev/null; then
    if ! nice -n 10 "$bin" -runs=1 fuzz/regressions/"$t"/* >"$work/$t.regressions.log" 2>&1; then
      echo "fuzz: $t: a committed reproducer fails again (see $work/$t.regressions.log)"
      show_failure "$work/$t.regressions.log"
      failed+=("$t(regression)")
    fi
  fi
  dict=$(dict_of "$t")
  log="$work/$t.log"
  # -timeout: one input running 10 s is a finding; -rss_limit_mb: so is a 2 GB allocation.
  set +e
  nice -n 10 "$bin" -max_total_time="$seconds" -seed="$seed" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/$t/" ${dict:+-dict=$dict} \
    "$work/corpus/$t" "$work/seeds/$t" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
  corpus=$(find "$work/corpus/$t" -type f | wc -l)
  line=$(printf '%-18s %4ss  execs %-10s %-22s corpus %s' "$t" "$seconds" "${execs:-?}" "${cov:-cov: ?}" "$corpus")
  if [ $rc -ne 0 ]; then
    line="$line  CRASH (see $log, $work/artifacts/$t/)"
    failed+=("$t")
    show_failure "$log"
  fi
  echo "fuzz: $line"
  summary+=("$line")
done
echo "=== fuzz summary ($(( $(date +%s) - start )) s in all) ==="
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
