#!/usr/bin/env bash
# The main job: installs dependencies, builds qlm, then `qlm bench` — q4 vs q8 vs bf16 side by
# side (speed, memory, quality), as a table, qlm-demo/bench.json and the chart qlm-demo/bench.svg.
# Usage: scripts/demo.sh [MODEL_DIR]
#   no argument: a Qwen2.5-0.5B-shaped random-weight checkpoint (cached in ./qlm-demo/)
#   MODEL_DIR:   a Hugging Face float checkpoint is converted to q4, q8, bf16 (temporary) and all
#                three are benched; an already quantized qlm/MLX folder is benched as is.
# QLM_BIN=path skips the install and build steps and uses that binary.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${QLM_BIN:-}" ]; then
  bash scripts/install_deps.sh
  bash scripts/build.sh release
fi
QLM="${QLM_BIN:-build/release/apps/qlm/qlm}"
demo=qlm-demo
mkdir -p "$demo"
# Short runs: two cores, three models; enough tokens that the figures are stable to a few %.
speed=(--reps 2 --prompt-tokens 64 --gen-tokens 16 --batch 1,8 --quality-ctx 64 --quality-windows 2)
out=(--json "$demo/bench.json" --markdown "$demo/bench.md" --plot "$demo/bench.svg")
start=$(date +%s)

if [ $# -ge 1 ]; then
  model="$1"
  quantized=$(/usr/bin/python3 -c "import json,sys; c=json.load(open(sys.argv[1]+'/config.json')); \
print(1 if (c.get('quantization') or c.get('quantization_config')) else 0)" "$model")
  if [ "$quantized" = 0 ]; then
    echo "== $model is a float checkpoint: converting it to q4, q8 and bf16 (temporary) and benching all three"
    "$QLM" bench --models-from-hf "$model" --quantize q4,q8,bf16 "${speed[@]}" "${out[@]}"
  else
    echo "== $model is already quantized: benching it alone (no quality base to compare with)"
    "$QLM" bench -m "$model" "${speed[@]}" "${out[@]}"
  fi
else
  hf="$demo/random-qwen2.5-0.5b-bf16-hf"
  if [ ! -f "$hf/config.json" ]; then
    echo "== making a random-weight Qwen2.5-0.5B-shaped BF16 checkpoint in $hf (about 1 GB, once)"
    /usr/bin/python3 scripts/make_random_model.py --preset qwen2.5-0.5b --dtype bf16 --out "$hf.tmp"
    mv "$hf.tmp" "$hf"
  fi
  models=()
  for q in q4 q8 bf16; do
    dir="$demo/qwen2.5-0.5b-random-$q"
    if [ ! -f "$dir/config.json" ]; then
      echo "== converting to $q (round-to-nearest; cached in $dir)"
      "$QLM" convert --hf-path "$hf" --out "$dir" -q "$q" --method rtn --force
    fi
    models+=(-m "$dir")
  done
  note="RANDOM WEIGHTS: speed and memory are real; quality (PPL, KL) is not meaningful. For quality use ../shared/data/models/stories260K or your own model: scripts/demo.sh MODEL_DIR"
  echo "== qlm bench: q4 vs q8 vs bf16 on a Qwen2.5-0.5B-shaped model with RANDOM weights"
  echo "   (speed and memory are real; quality numbers are not meaningful on random weights)"
  "$QLM" bench "${models[@]}" "${speed[@]}" "${out[@]}" --note "$note"
fi
echo "== wrote $demo/bench.json, $demo/bench.md and the chart $demo/bench.svg (open it in a browser)"
echo "== demo took $(( $(date +%s) - start )) s"
