#!/usr/bin/env bash
# Packs what bench/gpu-device.sh needs on a bare GPU machine (no node, no node_modules, no network) into .gpu/
# (ignored; carried to the device as one path), from this checkout with its node_modules:
#   .gpu/node.xz            this machine's node binary (x86-64), xz-compressed
#   .gpu/payload.tar.xz     esbuild bundles of the entry points (bench/adapter-check, bench/run, bench/step-counts,
#                           tools/clip-standin/cli, scripts/coop), a minimal node_modules/webgpu (its loader and the
#                           linux-x64 dawn.node only), and libstdc++/libgcc_s as a fallback for node
#   .gpu/features/          the command line's image-feature cache (src/cli/image-features.ts) for every device run:
#                           onnxruntime-node and sharp are too big to carry, so images are encoded here, once
#   .gpu/manifest.json      versions, sha256 of each stand-in's vision tower (the device regenerates the stand-ins
#                           and checks they match), sizes
# The stand-ins' ONNX files (~600 MB for ViT-B/16) are not carried: the bundled generator rebuilds them on the
# device, deterministically, with the synthetic vocabulary (forced here too, so both sides make the same bytes).
#
#   bench/gpu-pack.sh            # a few minutes the first time (ViT-B/16 encoding on the CPU); reruns reuse the cache
#   bench/gpu-pack.sh --no-encode  # node, bundles and stand-in checksums only (the feature cache as it is)
set -euo pipefail
cd "$(dirname "$0")/.."
ENCODE=1
[ "${1:-}" = --no-encode ] && ENCODE=0
START=$(date +%s)
say() { echo "[gpu-pack $(( $(date +%s) - START )) s] $*"; }
[ "$(uname -m)" = x86_64 ] || { echo "gpu-pack: this machine is $(uname -m); the device is x86-64, so its node and dawn.node must come from an x86-64 machine"; exit 2; }
ESBUILD=node_modules/.bin/esbuild
TSX=node_modules/.bin/tsx
DAWN=node_modules/webgpu/dist/linux-x64/dawn.node
for f in "$ESBUILD" "$TSX" "$DAWN"; do [ -e "$f" ] || { echo "gpu-pack: $f is missing: run from a checkout with its node_modules installed"; exit 2; }; done
NODE=$(command -v node)
NODE=$(readlink -f "$NODE")
G=.gpu
W=.cache/gpu-pack
mkdir -p "$G" "$W"

# 1. node, compressed (about 99 MB → 24 MB; a minute on two cores). Rebuilt only when the binary changed.
NODE_SUM=$(sha256sum "$NODE" | cut -d' ' -f1)
if [ ! -s "$G/node.xz" ] || [ "$(cat "$G/node.sha256" 2>/dev/null)" != "$NODE_SUM" ]; then
  say "compressing $NODE ($(node -v))"
  nice xz -T2 -6 -c "$NODE" > "$G/node.xz.tmp" && mv "$G/node.xz.tmp" "$G/node.xz"
  echo "$NODE_SUM" > "$G/node.sha256"
fi

# 2. Bundles: everything but the native modules inlined. ESM (bench/run.ts and bench/step-counts.ts await at top
# level), with a `require` for the CommonJS parts. webgpu is resolved at run time from node_modules/webgpu beside the
# bundle folder; onnxruntime-node and sharp are absent on the device (the feature cache makes them unneeded).
P=$W/payload
rm -rf "$P"
mkdir -p "$P/bundle" "$P/node_modules/webgpu/dist/linux-x64" "$P/lib"
# One build with code splitting: a dynamic import stays a separate chunk, loaded only when reached, so bench/run's
# browser host (Playwright, external) is never loaded by --node.
nice "$ESBUILD" bench/adapter-check.ts bench/run.ts bench/step-counts.ts tools/clip-standin/cli.ts scripts/coop.ts \
  --bundle --splitting --platform=node --format=esm --target=node20 --log-level=warning \
  --outdir="$P/bundle" --outbase=. --out-extension:.js=.mjs --chunk-names='chunks/[name]-[hash]' \
  --external:webgpu --external:onnxruntime-node --external:sharp --external:'playwright*' --external:'@playwright/*' --external:vite \
  --banner:js="import { createRequire as __gpuPackRequire } from 'node:module'; const require = __gpuPackRequire(import.meta.url);"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$P/node_modules/webgpu/"
cp "$DAWN" "$P/node_modules/webgpu/dist/linux-x64/"
# node and dawn.node need only libc, libm, libstdc++ and libgcc_s; the last two ride along in case the device lacks them.
for l in libstdc++.so.6 libgcc_s.so.1; do cp -L "$(ldconfig -p | awk -v l="$l" '$1 == l && /x86-64/ { print $NF; exit }')" "$P/lib/$l"; done
say "bundles: $(du -sh "$P/bundle" | cut -f1); payload before compression $(du -sh "$P" | cut -f1)"
tar -C "$P" -cf - . | nice xz -T2 -6 > "$G/payload.tar.xz.tmp" && mv "$G/payload.tar.xz.tmp" "$G/payload.tar.xz"

# 3. Stand-ins, made as the device makes them (synthetic vocabulary forced), and the demo as image-folder trees.
node bench/demo-folder.mjs "$W/data" > /dev/null
node bench/demo-folder.mjs "$W/data-b16" --small > /dev/null
for shape in vit-b16 tiny; do
  v=$W/standin-$shape/onnx/vision_model.onnx
  # Remade when the generator changed since (the device checks the result against this one's sha256).
  if [ ! -s "$v" ] || [ -n "$(find tools/clip-standin src/tokenizer -newer "$v" -type f | head -1)" ]; then
    nice "$TSX" tools/clip-standin/cli.ts --shape $shape --synthetic-vocab --out "$W/standin-$shape" > /dev/null
  fi
done

# 4. The feature cache: the device's commands with Tip-Adapter only (it uses the same views and trains no prompt, so
# no CPU training of a ViT-B/16 text tower here); the command line encodes only what its cache lacks, so a rerun
# costs only the model loading and zero-shot text. The views and seeds must match bench/gpu-device.sh.
F=$G/features
# Views per image for the ViT-B/16 run: 1, since encoding a view costs seconds on a 2-core machine, and the training
# time measured on the device does not depend on it (one view is drawn per image per epoch either way).
B16_VIEWS=1
enc() { # name, args...
  local name=$1; shift
  say "features: $name"
  COOP_NO_REEXEC=1 nice -n 10 "$TSX" scripts/coop.ts train "$@" --method tip --epochs 1 --engine cpu --cache "$F" --out "$W/enc-$name" --quiet > "$W/enc-$name.log" 2>&1 \
    || { tail -20 "$W/enc-$name.log"; echo "gpu-pack: encoding $name failed (log: $W/enc-$name.log)"; exit 1; }
}
[ $ENCODE -eq 1 ] && enc vit-b16 --model "$W/standin-vit-b16" --data "$W/data-b16" --shots 16 --seeds 1 --views $B16_VIEWS
[ $ENCODE -eq 1 ] && enc tiny --model "$W/standin-tiny" --data "$W/data-b16" --shots 16 --seeds 1 --views $B16_VIEWS
[ $ENCODE -eq 1 ] && enc toy --model public/models/toy-clip --data "$W/data" --shots 16 --seeds 1,2,3

# 5. What the device checks its regenerated stand-ins against, and the sizes.
node -e '
  const fs = require("fs"), crypto = require("crypto");
  const [w, nodeV, views] = process.argv.slice(1);
  const sha = (f) => crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex");
  const m = { node: nodeV, made: new Date().toISOString(), standin_views: Number(views), standin_vision_sha256: {} };
  for (const s of ["vit-b16", "tiny"]) m.standin_vision_sha256[s] = sha(`${w}/standin-${s}/onnx/vision_model.onnx`);
  fs.writeFileSync(".gpu/manifest.json", JSON.stringify(m, null, 1) + "\n");
' "$W" "$(node -v)" "$B16_VIEWS"
say "features: $(find "$F" -name '*.f32' | wc -l) cached views, $(du -sh "$F" | cut -f1)"
ls -la "$G"
TOTAL=$(du -sb "$G" .gl 2>/dev/null | awk '{ s += $1 } END { print s }')
TREE=$(git ls-files -co --exclude-standard -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
say "done: .gpu + .gl = $(( TOTAL / 1048576 )) MiB; with the working tree ($(( TREE / 1048576 )) MiB) $(( (TOTAL + TREE) / 1048576 )) MiB of the 64 MiB a device call may carry"
[ -d .gl ] || say "note: .gl (the Vulkan loader package) is missing; see bench/README.md, GPU check on a bare machine"
