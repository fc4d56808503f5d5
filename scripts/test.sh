#!/usr/bin/env bash
# The whole test suite: installs dependencies, then for the optimised build and the
# AddressSanitizer+UBSan build runs the C++ unit tests (ctest) and the oracle tests (pytest).
# QLM_TEST_PRESETS="release" limits it to one build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
for preset in ${QLM_TEST_PRESETS:-release asan}; do
  echo "=== qlm tests: $preset build ==="
  bash scripts/build.sh "$preset"
  ctest --preset "$preset" --timeout 600
  # The sanitizer build is several times slower: it skips the slow quality-target checks.
  marks=""
  [ "$preset" = asan ] && marks="not slow"
  QLM_BIN="$PWD/build/$preset/apps/qlm/qlm" /usr/bin/python3 -m pytest -q tests/python -m "$marks"
done
