#!/usr/bin/env bash
# The main job: installs dependencies, builds qlm, then runs it on MODEL_DIR if given, or on a
# built-in default: a random-weight Qwen2-architecture checkpoint made by
# scripts/make_random_model.py (plus the trained stories260K model when ../shared/data exists).
# Usage: scripts/demo.sh [MODEL_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh release
QLM=build/release/apps/qlm/qlm

if [ $# -ge 1 ]; then
  model="$1"
  echo "== qlm generate on $model (greedy, 64 tokens from BOS)"
  bos=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]+'/config.json')).get('bos_token_id') or 0)" "$model")
  "$QLM" generate -m "$model" --ids "$bos" --max-tokens 64
  exit 0
fi

demo=qlm-demo
if [ ! -f "$demo/random-qwen2/config.json" ]; then
  echo "== making a random-weight Qwen2 checkpoint (hidden 512, 8 layers, vocab 32000) in $demo/random-qwen2"
  /usr/bin/python3 scripts/make_random_model.py --out "$demo/random-qwen2" --preset tiny-qwen2 \
    --hidden 512 --intermediate 1536 --layers 8 --heads 8 --kv-heads 2 --vocab 32000 --dtype bf16
fi
echo "== qlm generate (greedy, 64 tokens) on the random model: the weights are random, so the"
echo "   ids are meaningless; the speed line on stderr is real"
"$QLM" generate -m "$demo/random-qwen2" --ids 1,2,3 --max-tokens 64 --ignore-eos
echo "== qlm score (teacher-forced log-probs) on the same model"
"$QLM" score -m "$demo/random-qwen2" --ids 1,2,3,4,5,6,7,8
stories=../shared/data/models/stories260K
if [ -d "$stories" ]; then
  echo "== qlm generate on the trained stories260K model (greedy from BOS, 64 tokens)"
  "$QLM" generate -m "$stories" --ids 1 --max-tokens 64
fi
