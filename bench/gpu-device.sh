#!/usr/bin/env bash
# The GPU check (bench/gpu-check.sh's stages) on a bare machine: no node, no node_modules, no network. It runs what
# bench/gpu-pack.sh put in .gpu/ (node, bundles, dawn.node, the image-feature cache) and, where the Vulkan loader is
# missing, the packages in .gl/. Every stage has a time limit and the whole run ends within about 7.5 minutes:
#   adapter (Dawn's adapter; retried with NVIDIA's ICD file named when none is found)
#   bench   ViT-B/32-shaped CoOp step at K = 10, 100, 1000, matmul rates, per-kernel profile (bench/run.ts --node)
#   counts  dispatch counts per step (bench/step-counts.ts)
#   b16     16-shot, 8-class, 200-epoch CoOp on the ViT-B/16-sized stand-in (regenerated here, features from .gpu/)
#   toy-*   the toy model's method, base-to-new and CSC tables (issues 11/12) through the WGSL engine, in parallel
# Output: $OUT (or the first argument) gets summary.md, summary.json, device.log and gpu-device.tar.gz (every log,
# JSON and results table). --quick: tiny shapes, few epochs, Chromium's SwiftShader where no GPU exists (to test
# this script on a machine without one). GPU_DEVICE_SKIP=bench,counts,... skips the stages named;
# GPU_DEVICE_SECONDS sets the overall limit (default 450; 1800 with --quick).
#
#   bash bench/gpu-device.sh [DIR] [--quick]
set -uo pipefail
cd "$(dirname "$0")/.."
QUICK=0
DEST=""
for a in "$@"; do
  case "$a" in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) DEST="$a" ;;
  esac
done
DEST="${DEST:-${OUT:-bench/out/gpu-device-$(date +%Y%m%d-%H%M%S)}}"
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
START=$(date +%s)
# Every stage's limit is cut to end before this (--quick is for software adapters: slow, so more time).
[ $QUICK -eq 1 ] && DEFAULT_SECONDS=1800 || DEFAULT_SECONDS=450
DEADLINE=$(( START + ${GPU_DEVICE_SECONDS:-$DEFAULT_SECONDS} ))
G=/tmp/coop-gpu
R=$G/out          # everything the run writes; packed into $DEST at the end
rm -rf "$R"
mkdir -p "$G/bin" "$R"
exec > >(tee "$R/device.log") 2>&1
say() { echo "[gpu-device $(( $(date +%s) - START )) s] $*"; }
note() { echo "$1" >> "$R/stages.txt"; }   # a file, so the parallel stages' notes are kept too
# The end, whatever happened: the summary and the archive are written even after a failed or skipped stage.
finish() {
  local rc=$1
  say "packing results"
  if [ -x "$G/bin/node" ] && [ -f bench/gpu-summary.mjs ]; then
    timeout 20 "$G/bin/node" bench/gpu-summary.mjs "$R" "$DEST" || echo "summary failed"
  fi
  cp "$R/device.log" "$DEST/device.log" 2>/dev/null
  tar -C "$R" --exclude='standin-*' --exclude='data*' -czf "$DEST/gpu-device.tar.gz" . 2>/dev/null
  [ -f "$R/summary-short.md" ] && cat "$R/summary-short.md"
  say "done in $(( $(date +%s) - START )) s; files: $(ls "$DEST" | tr '\n' ' ')"
  exit "$rc"
}
left() { echo $(( DEADLINE - $(date +%s) )); }
# run NAME LIMIT CMD...: LIMIT is cut to what is left before the deadline (minus 15 s for packing).
run() {
  local name=$1 limit=$2; shift 2
  case ",${GPU_DEVICE_SKIP:-}," in *",$name,"*) say "$name: skipped (GPU_DEVICE_SKIP)"; note "$name skipped (GPU_DEVICE_SKIP)"; return 0 ;; esac
  local l=$(( $(left) - 15 ))
  [ "$limit" -lt "$l" ] || limit=$l
  if [ "$limit" -lt 5 ]; then say "$name: skipped (no time left)"; note "$name skipped (no time left)"; return 124; fi
  say "$name (limit ${limit} s): ${*//$G/\$G}"
  local t0=$(date +%s)
  timeout -k 5 "$limit" "$@" > "$R/$name.log" 2>&1
  local rc=$?
  local dt=$(( $(date +%s) - t0 ))
  tail -n 4 "$R/$name.log" | tr '\r' '\n' | tail -n 4 | sed "s/^/  $name| /"
  if [ $rc -eq 0 ]; then note "$name ok ${dt}s"; else note "$name FAILED rc=$rc ${dt}s (124 = over ${limit}s)"; say "$name FAILED (exit $rc after ${dt} s; 124 = over its ${limit} s)"; fi
  return $rc
}
unxz_to() { # FILE.xz OUT
  if command -v xz > /dev/null; then xz -dc "$1" > "$2"; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}

say "output: $DEST; work: $R; $(uname -m), $(nproc) cores"
[ -s .gpu/node.xz ] && [ -s .gpu/payload.tar.xz ] || { say "no .gpu/node.xz or .gpu/payload.tar.xz: run bench/gpu-pack.sh on a machine with node_modules and carry .gpu"; exit 2; }
unxz_to .gpu/node.xz "$G/bin/node" && chmod +x "$G/bin/node"
unxz_to .gpu/payload.tar.xz "$G/payload.tar" && tar -xf "$G/payload.tar" -C "$G" && rm -f "$G/payload.tar"
if ! "$G/bin/node" -v > /dev/null 2>&1; then
  say "node does not start as is ($("$G/bin/node" -v 2>&1 | head -1)); using the carried libstdc++/libgcc_s"
  export LD_LIBRARY_PATH=$G/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
export PATH=$G/bin:$PATH COOP_NO_REEXEC=1
say "node: $(command -v node) $(node -v 2>&1)"
command -v node | grep -q "^$G/bin/node$" || { say "the unpacked node is not first on PATH"; exit 2; }
B=$G/bundle
# bench/run finds the toy model under its root (the folder above the bundle's bench/): the checkout's public/.
ln -sfn "$(pwd)/public" "$B/public"
F=$(pwd)/.gpu/features

# Vulkan: the loader from .gl where the system has none; NVIDIA's libraries on the linker path.
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/nvidia-smi: /' || say "no nvidia-smi"
# The device notes' recipe: the Vulkan loader and glvnd (NVIDIA's ICD library links libGLdispatch) unpacked into /,
# whether or not a loader is there already (the glvnd parts may be missing), but only on a machine with an NVIDIA
# driver: elsewhere (--quick on a workstation) / is left alone.
if true; then
  if ls .gl/*.deb > /dev/null 2>&1 && [ "$(id -u)" = 0 ] && { [ -e /dev/nvidiactl ] || command -v nvidia-smi > /dev/null; }; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
    say "installed the Vulkan loader and glvnd from .gl: $(ldconfig -p | grep -c 'libvulkan.so.1') libvulkan.so.1, $(ldconfig -p | grep -c 'libGLdispatch.so.0') libGLdispatch.so.0 entries"
  else
    say "note: .gl/*.deb not installed (none there, not root, or no NVIDIA driver); libvulkan.so.1 entries: $(ldconfig -p 2>/dev/null | grep -c 'libvulkan.so.1')"
  fi
fi
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d; done

# The adapter: plain first; then with NVIDIA's ICD file named (the loader's search paths may not include it).
real_adapter() { grep -q '"vendor"' "$1" 2>/dev/null && ! grep -q '"software": true' "$1" 2>/dev/null; }
run adapter 30 node "$B/bench/adapter-check.mjs" --out "$R/adapter.json"
if ! real_adapter "$R/adapter.json"; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    [ -f "$icd" ] || continue
    say "no real adapter; retrying with VK_DRIVER_FILES=VK_ICD_FILENAMES=$icd"
    export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
    run adapter-nvidia 30 node "$B/bench/adapter-check.mjs" --out "$R/adapter.json"
    real_adapter "$R/adapter.json" && break
    unset VK_DRIVER_FILES VK_ICD_FILENAMES
  done
fi
cat "$R/adapter.json" 2>/dev/null | head -c 1500; echo
if ! real_adapter "$R/adapter.json"; then
  if [ $QUICK -eq 0 ]; then
    say "Dawn found no real GPU (above): the timings would be the CPU's, so the GPU stages are skipped."
    note "GPU stages skipped: no hardware adapter"
    finish 3
  fi
  if [ -e /usr/lib/chromium/vk_swiftshader_icd.json ]; then
    say "--quick: no hardware adapter; using Chromium's SwiftShader (software)"
    export LD_LIBRARY_PATH=/usr/lib/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
    run adapter-swiftshader 30 node "$B/bench/adapter-check.mjs" --out "$R/adapter.json"
  fi
fi

if [ $QUICK -eq 1 ]; then
  run bench 600 node "$B/bench/run.mjs" --node --shape toy --k 2 --extra-k 0 --reps 1 --naive-max-k 2 --no-image --no-matmul --plan-k 10,100,1000 --budget 120 --out "$R/bench.json"
  run counts 300 node "$B/bench/step-counts.mjs" --k 10 --structures toy
  SHAPE=tiny; EPOCHS=2; SHOTS=1; SEEDS=1; SEED3=1; TOY="--epochs 1"; LIMIT=900
else
  # ViT-B/32 shape: fast at 10, 100, 1000; naive at 10 and 100; matmul; profile at 10 and 100.
  run bench 150 node "$B/bench/run.mjs" --node --shape vit-b32 --k 10,100,1000 --extra-k 10 --reps 3 --naive-max-k 100 --no-image --profile --profile-k 10,100 --budget 120 --out "$R/bench.json"
  run counts 45 node "$B/bench/step-counts.mjs" --k 10,100,1000
  SHAPE=vit-b16; EPOCHS=200; SHOTS=16; SEEDS=1,2,3; SEED3=3; TOY=""; LIMIT=${GPU_DEVICE_STAGE_SECONDS:-150}
fi

# The stand-in: regenerated with the packed generator (synthetic vocabulary, as gpu-pack.sh made it), checked against
# the packed vision tower's sha256 so the cached features are the ones this model gives.
DATA=$G/data
node bench/demo-folder.mjs "$DATA" > /dev/null && node bench/demo-folder.mjs "$G/data-b16" --small > /dev/null
STANDIN=$G/standin-$SHAPE
if run standin 60 node "$B/tools/clip-standin/cli.mjs" --shape $SHAPE --synthetic-vocab --out "$STANDIN"; then
  if [ -f "$STANDIN/onnx/vision_model.onnx" ]; then
    want=$(node -e 'console.log(require("./.gpu/manifest.json").standin_vision_sha256[process.argv[1]] || "")' $SHAPE)
    have=$(sha256sum "$STANDIN/onnx/vision_model.onnx" | cut -d' ' -f1)
    if [ "$want" = "$have" ]; then say "stand-in $SHAPE: vision tower matches the packed one ($have)"; else say "WARNING: stand-in $SHAPE vision sha256 $have differs from the packed $want: its features are not cached and the run will stop"; note "standin sha256 MISMATCH"; fi
  fi
  # The views encoded per image (gpu-pack.sh's choice, in the manifest): the training time does not depend on it.
  VIEWS=$(node -e 'console.log(require("./.gpu/manifest.json").standin_views || 1)')
  run b16 $LIMIT node "$B/scripts/coop.mjs" train --model "$STANDIN" --data "$G/data-b16" --shots $SHOTS --seeds 1 --views $VIEWS --epochs $EPOCHS --engine wgsl --cache "$F" --out "$R/coop-$SHAPE"
fi

# The toy tables, four commands at once on a GPU (each has its own Dawn device; a step is latency-bound, so they
# overlap); one after another with --quick, where the software adapter already takes every core.
COOP="node $B/scripts/coop.mjs train --model public/models/toy-clip --data $DATA --engine wgsl --cache $F"
pids=()
toy() {
  if [ $QUICK -eq 1 ]; then run "$@"; else run "$@" & pids+=($!); fi
}
toy toy-methods $LIMIT $COOP --shots $SHOTS --seeds $SEEDS --method coop,kgcoop,prograd,tip,tip-f $TOY --out "$R/toy-methods"
toy toy-b2n $LIMIT $COOP --base-to-new --base 4 --shots $SHOTS --seeds $SEEDS --method coop,kgcoop,prograd,tip,tip-f $TOY --out "$R/toy-b2n"
toy toy-csc8 $LIMIT $COOP --shots $(( SHOTS < 8 ? SHOTS : 8 )) --seeds $SEEDS --csc both $TOY --out "$R/toy-csc8"
toy toy-csc16s3 $LIMIT $COOP --shots $SHOTS --seeds $SEED3 --csc $TOY --out "$R/toy-csc16s3"
# The command line issue's whole sweep (1/2/4/8/16 shots × seeds × unified and CSC) in one command, for its wall time.
toy toy-sweep $LIMIT $COOP --shots $([ $QUICK -eq 1 ] && echo 1 || echo 1,2,4,8,16) --seeds $SEEDS --csc both $TOY --out "$R/toy-sweep"
# Only these: a bare `wait` would also wait for the tee behind this script's output, which never ends.
[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
FAILED=0
grep -q FAILED "$R/stages.txt" && FAILED=1
finish $FAILED
