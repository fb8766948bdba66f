#!/bin/bash
# Here, not on the device machine: packs what src/bench/gpu/go.sh needs there into .gpu/ (node,
# Dawn, the bundled CLIs, libraries, labels, a first part of the training data) and .gpu2/ (the
# rest of the data, for stash.sh). Each, with the repository, must stay under the device
# tool's 64 MiB; the device machine has no Node and reaches no network.
# Needs: npm ci done, strip, xz, apt-get (Debian bookworm), cwebp and dwebp (Debian 'webp').
set -euo pipefail
cd "$(dirname "$0")/../../.."
DATA=${DATA:-../shared/data/msrs/train}
FIRST_PART_BYTES=${FIRST_PART_BYTES:-16000000}
rm -rf .gpu .gpu2
mkdir -p .gpu/bin .gpu/deb .gpu/label .gpu/webp/ir .gpu/webp/vi .gpu2/webp/ir .gpu2/webp/vi \
  .gpu/node_modules/webgpu/dist/linux-x64 .gpu/node_modules/@tensorflow/tfjs-backend-wasm/dist

echo "== node and Dawn"
strip -o .gpu/node "$(command -v node)" && xz -T2 -9e .gpu/node
xz -T2 -9e -c node_modules/webgpu/dist/linux-x64/dawn.node > .gpu/dawn.node.xz
cp node_modules/webgpu/index.js node_modules/webgpu/package.json .gpu/node_modules/webgpu/
cp node_modules/@tensorflow/tfjs-backend-wasm/package.json .gpu/node_modules/@tensorflow/tfjs-backend-wasm/
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm .gpu/node_modules/@tensorflow/tfjs-backend-wasm/dist/

echo "== the CLIs, bundled (ESM; 'webgpu' stays a package, the browser bench's imports are not needed)"
BANNER="import { createRequire as __cr } from 'module'; import { fileURLToPath as __fu } from 'url'; import { dirname as __dn } from 'path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
for e in train bench webgpu-check; do
  npx esbuild src/cli/$e.ts --bundle --platform=node --format=esm --target=node20 --minify --outfile=.gpu/bin/$e.mjs \
    --external:webgpu --external:vite --external:playwright-core --external:@playwright/test --log-level=error --banner:js="$BANNER"
  xz -T2 -9 .gpu/bin/$e.mjs
done

echo "== the Vulkan loader and libglvnd"
(cd .gpu/deb && apt-get download libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2 2>&1 | grep -v '^W:' || true)

echo "== S's training pairs (not its held-out ones), lossless WebP"
node -e "
const fs = require('fs');
const held = new Set(JSON.parse(fs.readFileSync('models/segdet/card.json', 'utf8')).data.heldOut);
const stems = fs.readdirSync('$DATA/ir').map((f) => f.replace(/\.png$/, '')).filter((s) => !held.has(s)).sort();
fs.writeFileSync('.gpu/train-stems.txt', stems.join('\n') + '\n');
console.log(stems.length + ' training pairs, ' + held.size + ' held out');"
for s in $(cat .gpu/train-stems.txt); do cp "$DATA/label/$s.png" .gpu/label/; done
cp "$DATA/detection.json" .gpu/
xargs -P 2 -I{} sh -c "cwebp -quiet -lossless -z 7 -exact '$DATA/ir/{}.png' -o .gpu/webp/ir/{}.webp && cwebp -quiet -lossless -z 7 -exact '$DATA/vi/{}.png' -o .gpu/webp/vi/{}.webp" < .gpu/train-stems.txt
for f in .gpu/webp/*/*.webp; do dwebp -quiet "$f" -o /dev/null || { echo "broken: $f"; exit 1; }; done
# The first pairs travel with go.sh's call, the rest with stash.sh's.
total=0
for s in $(cat .gpu/train-stems.txt); do
  n=$(( $(stat -c %s .gpu/webp/ir/$s.webp) + $(stat -c %s .gpu/webp/vi/$s.webp) ))
  if [ $((total + n)) -le "$FIRST_PART_BYTES" ]; then total=$((total + n)); else mv .gpu/webp/ir/$s.webp .gpu2/webp/ir/; mv .gpu/webp/vi/$s.webp .gpu2/webp/vi/; fi
done

repo=$(git ls-files -co --exclude-standard -z | du -cb --files0-from=- | tail -1 | cut -f1)
for d in .gpu .gpu2; do
  sz=$(du -sb $d | cut -f1)
  echo "$d: $(ls $d/webp/ir | wc -l) pairs; with the repository $(( (repo + sz) / 1048576 )) MiB of 64"
  [ $((repo + sz)) -lt $((64 * 1048576)) ] || { echo "$d is too big for one device call"; exit 1; }
done
