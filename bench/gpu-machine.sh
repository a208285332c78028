#!/usr/bin/env bash
# The GPU checks and training figures on a machine with a real GPU but no Node.js (the project's
# lent H200 machine): `sigmtl check` on the GPU's Vulkan driver, two bundled sets trained on WebGPU,
# and the training comparison (each contestant in its own fresh process, interleaved over rounds):
# sigmtl WebGPU vs PyTorch CUDA on the same GPU, and sigmtl's CPU engine vs PyTorch CPU on all cores.
#
# It expects, beside the checkout: dist/ and dist-bench/ (built), .devrun/node.xz (this machine's
# node binary, xz-compressed), .devrun/dawn.node.xz (webgpu's linux-x64 dawn.node), .devrun/node_modules
# (webgpu's package.json and index.js, cli-progress, hyparquet, papaparse and their dependencies),
# and .gl/ holding the .debs of libvulkan1 and libglvnd (libglvnd0 libegl1 libgl1 libglx0 libopengl0
# libgles2). GPU_ONLY=1 leaves out the CPU contestants; PARSE_ONLY=1 runs only `npm run bench --
# --stream-parse` (no GPU needed). Everything goes to stdout and to $OUT/gpu-machine.log.
set -u
OUT=${OUT:-/tmp/gpu-machine-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-machine.log") 2>&1

# The Vulkan loader and libglvnd (the NVIDIA ICD, libGLX_nvidia.so.0, needs libGLdispatch).
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
mkdir -p /tmp/nodebin
[ -x /tmp/nodebin/node ] || { xz -dc .devrun/node.xz > /tmp/nodebin/node && chmod +x /tmp/nodebin/node; }
export PATH=/tmp/nodebin:$PATH
if [ ! -f node_modules/webgpu/dist/linux-x64/dawn.node ]; then
  mkdir -p node_modules && cp -r .devrun/node_modules/. node_modules/
  mkdir -p node_modules/webgpu/dist/linux-x64
  xz -dc .devrun/dawn.node.xz > node_modules/webgpu/dist/linux-x64/dawn.node
fi
PY=${PYTHON:-python3}

if [ -n "${PARSE_ONLY:-}" ]; then
  # Only the CSV parse comparison (CPU): the numeric reader on one thread and on worker threads.
  echo "cores: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg); node $(node --version)"
  node dist-bench/bench.js --stream-parse
  exit
fi

echo "== machine"
date -u
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
echo "cores: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "node $(node --version); $($PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>&1 | tail -1)"

echo "== sigmtl check (every kernel against the float64 reference, on the GPU)"
timeout 180 node dist/cli.js check --json > "$OUT/check.json"
echo "check exit: $?"
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
console.log("adapter:", JSON.stringify(r.adapter ?? r.device ?? null));
const rows = r.rows ?? [];
console.log(`rows: ${rows.length}, failing: ${rows.filter((x) => !x.ok).length}`);
for (const x of rows.filter((x) => !x.ok)) console.log("FAIL", JSON.stringify(x));
' "$OUT/check.json"

echo "== bundled sets trained on WebGPU"
for set in enb2012 sarcos-arm; do
  timeout 150 node dist/cli.js train --data $set --backend webgpu --quiet --json --out "$OUT/$set.safetensors" > "$OUT/train-$set.json"
  echo "$set exit: $?"
  node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const pick = (o, ks) => Object.fromEntries(ks.filter((k) => k in o).map((k) => [k, o[k]]));
console.log(JSON.stringify({ ...pick(r, ["backend", "adapter", "epochs", "seconds", "stepsPerSecond", "maxAbsDiffVsCpu"]), overall: r.metrics?.overall }));
' "$OUT/train-$set.json"
done

echo "== training throughput: steps/s, each contestant a fresh process, 2 rounds"
# size: d T N, GPU steps per run, CPU steps per run
sizes=("10 5 100 2000 400" "256 16 4096 1000 40" "1024 64 8192 400 6" "1024 64 65536 100 2")
[ -n "${QUICK:-}" ] && sizes=("10 5 100 50 50")
threads=$(nproc)
for round in 1 2; do
  for size in "${sizes[@]}"; do
    set -- $size
    d=$1 T=$2 N=$3 gsteps=$4 csteps=$5
    tag="round=$round d=$d T=$T N=$N"
    echo "$tag sigmtl-webgpu $(timeout 90 node dist-bench/contestant.js --impl webgpu --d $d --T $T --N $N --steps $gsteps --runs 3 2>&1 | tail -1)"
    echo "$tag torch-cuda $(timeout 90 $PY bench/torch_peer.py $d $T $N $gsteps 1 3 cuda 2>&1 | tail -1)"
    [ -n "${GPU_ONLY:-}" ] && continue
    echo "$tag sigmtl-wasm-$threads $(timeout 90 node dist-bench/contestant.js --impl wasm --threads $threads --d $d --T $T --N $N --steps $csteps --runs 3 2>&1 | tail -1)"
    echo "$tag torch-cpu-$threads $(timeout 90 $PY bench/torch_peer.py $d $T $N $csteps $threads 3 cpu 2>&1 | tail -1)"
  done
done
echo "== done $(date -u)"
