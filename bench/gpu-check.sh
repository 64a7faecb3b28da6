#!/usr/bin/env bash
# One command for a machine with a real GPU (bench/README.md, "GPU check"): prints the adapter Dawn finds, then in
# Node through Dawn: the ViT-B/32-shaped CoOp step at K = 10, 100, 1000 (fast; naive at K = 10 and 100), the
# successors' steps beside CoOp's (bench/tower-step.ts: CoCoOp, deep prompts, TCP, DePT at K = 10 and 100), the
# matmul rates, the per-kernel profile (K = 10 and 100), the dispatch counts, and, when the command-line trainer and
# the stand-in generator are on this branch, the full 16-shot, 10-class, 200-epoch CoOp run on a ViT-B/16-sized
# stand-in. Everything is written as JSON under $OUT (or the folder given as the first argument).
#
# It needs only the checkout and its node_modules (no registry, no Chromium). It sets no Vulkan variables: Dawn
# must find the GPU driver's own Vulkan ICD. `--quick` runs a reduced version (toy shape, small K) that fits a
# software adapter; with it, and only with it, Chromium's SwiftShader is used when no other adapter exists.
#
#   bench/gpu-check.sh [DIR] [--quick]          # default DIR: $OUT, else bench/out/gpu-check-<time>
set -uo pipefail
cd "$(dirname "$0")/.."
QUICK=0
DIR=""
for a in "$@"; do
  case "$a" in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) DIR="$a" ;;
  esac
done
DIR="${DIR:-${OUT:-bench/out/gpu-check-$(date +%Y%m%d-%H%M%S)}}"
mkdir -p "$DIR"
TSX=node_modules/.bin/tsx
[ -x "$TSX" ] || { echo "gpu-check: $TSX is missing: run from a checkout with its node_modules installed"; exit 2; }
START=$(date +%s)
say() { echo "[gpu-check $(( $(date +%s) - START )) s] $*"; }
FAILED=0
run() { # name, timeout seconds, command...
  local name=$1 limit=$2; shift 2
  say "$name: $*"
  timeout "$limit" "$@" > >(tee "$DIR/$name.log") 2>&1
  local rc=$?
  [ $rc -eq 0 ] || { say "$name FAILED (exit $rc; 124 = over its ${limit} s)"; FAILED=1; }
}

say "output: $DIR"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/nvidia-smi: /' || true
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' || say "note: no libvulkan.so.1 in the linker cache (Dawn needs the Vulkan loader)"
run adapter 60 "$TSX" bench/adapter-check.ts --out "$DIR/adapter.json"
if grep -q '"software": true' "$DIR/adapter.json" 2>/dev/null || ! grep -q '"vendor"' "$DIR/adapter.json" 2>/dev/null; then
  if [ $QUICK -eq 0 ]; then
    say "Dawn found no real GPU (see above): the timings would be the CPU's. Stopping; --quick runs the reduced check anyway."
    exit 3
  fi
  if [ -e /usr/lib/chromium/vk_swiftshader_icd.json ] && ! grep -q '"vendor"' "$DIR/adapter.json"; then
    say "--quick: no adapter; using Chromium's SwiftShader (software)"
    export LD_LIBRARY_PATH=/usr/lib/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
    run adapter-swiftshader 60 "$TSX" bench/adapter-check.ts --out "$DIR/adapter-swiftshader.json"
  fi
fi

if [ $QUICK -eq 1 ]; then
  run bench 900 "$TSX" bench/run.ts --node --shape toy --k 2 --extra-k 0 --reps 1 --naive-max-k 2 --no-image --profile --profile-k 2 --plan-k 10,100,1000 --budget 600 --out "$DIR/bench.json"
  run counts 600 "$TSX" bench/step-counts.ts --k 10 --structures toy
  run tower 300 "$TSX" bench/tower-step.ts --engine wgsl --shape toy --k 4 --reps 1 --out "$DIR/tower-step.json"
else
  # The successors' steps (CoCoOp, deep prompts, TCP, DePT) next to CoOp's on the WGSL engine, K = 10 and 100.
  run tower 420 "$TSX" bench/tower-step.ts --engine wgsl --shape vit-b32 --k 10,100 --reps 3 --out "$DIR/tower-step.json"
  # ViT-B/32 shape: fast at 10, 100, 1000; naive at 10 and 100; matmul; profile at 10 and 100.
  run bench 420 "$TSX" bench/run.ts --node --shape vit-b32 --k 10,100,1000 --extra-k 10 --reps 3 --naive-max-k 100 --no-image --profile --profile-k 10,100 --budget 360 --out "$DIR/bench.json"
  run counts 120 "$TSX" bench/step-counts.ts --k 10,100,1000
fi
cp "$DIR/counts.log" "$DIR/counts.txt" 2>/dev/null

# The full CoOp run: the command-line trainer (`npm run coop -- train`, src/cli) on a ViT-B/16-sized stand-in
# (`npm run models:standin`, random weights of the real shape) and the bundled demo's images as an image-folder
# tree (8 classes, 16 shots each: the bundled set has 8, not 10). Its JSON gives training time apart from encoding.
if node -e 'const s=require("./package.json").scripts||{};process.exit(s.coop&&s["models:standin"]?0:1)'; then
  if [ $QUICK -eq 1 ]; then EPOCHS=2; SHAPE=tiny; else EPOCHS=200; SHAPE=vit-b16; fi
  STANDIN="$DIR/standin-$SHAPE"
  DATA="$DIR/data"
  node -e '
    const fs = require("fs"), path = require("path");
    const [dir] = process.argv.slice(1);
    const idx = JSON.parse(fs.readFileSync("public/samples/index.json", "utf8"));
    for (const [split, items] of Object.entries(idx.splits)) for (const it of items) {
      const cls = idx.classes[it.label]; const name = typeof cls === "string" ? cls : cls.name;
      const to = path.join(dir, split, name); fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(path.join("public/samples", it.file), path.join(to, path.basename(it.file)));
    }' "$DATA"
  run standin 600 npm run -s models:standin -- --shape $SHAPE --out "$STANDIN"
  run coop 900 npm run -s coop -- train --model "$STANDIN" --data "$DATA" --shots 16 --seeds 1 --epochs $EPOCHS --engine wgsl --out "$DIR/coop-run"
  cp "$DIR"/coop-run/*.json "$DIR/" 2>/dev/null
else
  say "full CoOp run skipped: this checkout has no 'coop' and 'models:standin' npm scripts"
  echo '{"skipped":"no npm run coop / models:standin in this checkout"}' > "$DIR/coop-run.json"
fi
say "done in $(( $(date +%s) - START )) s; JSON: $(ls "$DIR"/*.json | tr '\n' ' ')"
exit $FAILED
