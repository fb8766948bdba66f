#!/bin/bash
# Device call 2 (run from the repository root there, carrying .gpu): node and Dawn; the training
# data (call 1's part and this call's); `webgpu-check`; a probe of the step time; S trained by
# four seeds side by side; the bench on Node WebGPU in the time left. Writes $OUT/log.txt,
# train.txt, seed<N>.tgz (S's weights), bench.txt, bench.json.
# Environment: END / LIMIT (seconds after the start by which the trainers have saved / all has
# ended), SEEDS, PROBES (empty: no probe), PROBE_STEPS, STEPS_OVERRIDE, EXTRA (trainer options,
# after the recipe's, so they override it: the probe runs them too).
CALL_T0=$(date +%s); export T0=$CALL_T0
set -u
END=${END:-460}
LIMIT=${LIMIT:-575}
PROBE_STEPS=${PROBE_STEPS:-40}
SEEDS=${SEEDS:-"11 12 13 14"}
PROBES=${PROBES-"1 2 3 4"}
EXTRA=${EXTRA:-}
RECIPE="--stages segdet --segdet-from models/segdet --segdet-parts backbone,decoder,det,seg --segdet-backbone-lr-scale 0.1 --segdet-lr 2e-4 --segdet-batch 8 --segdet-dice 0.5 --segdet-focus 0.5"
K=src/bench/gpu
el() { echo $(( $(date +%s) - CALL_T0 )); }
G=/root/gpu; D=/root/data/msrs/train; mkdir -p $G $D
cp -r .gpu/. $G/
xz -dc $G/node.xz > $G/node && chmod +x $G/node
xz -dc $G/dawn.node.xz > $G/node_modules/webgpu/dist/linux-x64/dawn.node
for b in train bench webgpu-check; do xz -dc $G/bin/$b.mjs.xz > $G/bin/$b.mjs; done
source $K/setup.sh
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; node -v; nproc; echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"; } 2>&1 | tee $OUT/log.txt

# 0. A WebGPU adapter, or the reasons there is none.
cat > /root/adapter.mjs <<'JS'
import { create } from '/root/gpu/node_modules/webgpu/index.js';
const a = await create([]).requestAdapter({ powerPreference: 'high-performance' });
console.log('adapter:', a ? `${a.info.vendor} ${a.info.architecture} ${a.info.description}` : null);
process.exit(a ? 0 : 9);
JS
if ! VK_LOADER_DEBUG=error,warn node /root/adapter.mjs 2>&1 | tee -a $OUT/log.txt; then
  echo "no WebGPU adapter"; cat "${VK_DRIVER_FILES:-/dev/null}"; ls /usr/local/nvidia/lib* 2>&1 | head -30; exit 9
fi

python3 $K/webp2png.py $G/webp $D 2>&1 | tee -a $OUT/log.txt
if [ -d /root/stash/webp ]; then python3 $K/webp2png.py /root/stash/webp $D 2>&1 | tee -a $OUT/log.txt
else echo "WARNING: call 1's data is not on this machine" | tee -a $OUT/log.txt; fi
cp -r $G/label $D/ && cp $G/detection.json $D/
N=$(ls $D/ir | wc -l)
echo "data: $N pairs, $(ls $D/label | wc -l) labels; at $(el) s" | tee -a $OUT/log.txt

# 1. S's gradients on this GPU against WASM.
timeout 60 node $G/bin/webgpu-check.mjs 2>&1 | stamp check | tee -a $OUT/log.txt

# 2. Probe: the trainers side by side on 24 pairs, to size the real run.
rm -rf /root/probe; mkdir -p /root/probe
export T0=$(date +%s)
for s in $PROBES; do
  mkdir -p /root/probe/s$s && cp -r models/fusion /root/probe/s$s/
  ( timeout 150 node $G/bin/train.mjs --backend webgpu --data /root/data --limit 24 $RECIPE --segdet-steps $PROBE_STEPS \
      --seed $s --checkpoint-every 1000 --out /root/probe/s$s --checkpoints /root/probe/ck$s $EXTRA 2>&1 | stamp p$s > /root/probe/log$s.txt ) &
done
wait
cat /root/probe/log*.txt >> $OUT/log.txt 2>/dev/null
python3 $K/probe.py /root/probe/log*.txt 24 2>/dev/null | tee -a $OUT/log.txt > /root/probe.json
export T0=$CALL_T0
STEPS=$(python3 -c "
import json
try: p = json.load(open('/root/probe.json'))
except Exception: p = {}
ms = p.get('msPerStepMedian') or 8000.0
# Loading and fusing all pairs took about 20 s on an H200, not 24 pairs' share scaled up.
load = min(45, (max(p['firstStepAtS']) if p.get('firstStepAtS') else 60) * $N / 24)
avail = $END - $(el) - load - 15
print(max(20, min(8000, int(avail * 1000 / ms / 1.1) // 10 * 10)))")
STEPS=${STEPS_OVERRIDE:-$STEPS}
echo "training: $STEPS steps per seed ($RECIPE $EXTRA), seeds $SEEDS, from $(el) s" | tee -a $OUT/log.txt

# 3. S from the shipped weights, phase 7's recipe at batch 8 (or as EXTRA says), one trainer per seed.
for s in $SEEDS; do
  mkdir -p /root/run/s$s && cp -r models/fusion /root/run/s$s/
  ( timeout $(( END + 40 - $(el) )) node $G/bin/train.mjs --backend webgpu --data /root/data $RECIPE --segdet-steps $STEPS \
      --seed $s --checkpoint-every 50 --out /root/run/s$s --checkpoints /root/run/ck$s $EXTRA 2>&1 | stamp s$s > /root/run/log$s.txt ) &
done
wait
cat /root/run/log*.txt > $OUT/train.txt
for s in $SEEDS; do
  if [ -f /root/run/s$s/segdet/weights.bin ]; then tar czf $OUT/seed$s.tgz -C /root/run/s$s segdet
  elif [ -d /root/run/ck$s/segdet/params ]; then tar czf $OUT/seed$s-ckpt.tgz -C /root/run/ck$s/segdet params state.json; fi
done
echo "trainers done at $(el) s" | tee -a $OUT/log.txt

# 4. The bench on Node WebGPU, in the time left.
left=$(( LIMIT - $(el) - 5 ))
if [ $left -gt 20 ]; then
  timeout $left node $G/bin/bench.mjs --backends node-webgpu --cases F,S,pipeline,bdl,td --budget 5 --no-build --out $OUT/bench.json 2>&1 | stamp bench > $OUT/bench.txt
fi
echo "all done at $(el) s" | tee -a $OUT/log.txt
