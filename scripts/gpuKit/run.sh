#!/bin/sh
# The GPU check kit's runner (`npm run gpu-kit` copies it into the kit): on a Linux x86-64 machine without Node or
# a network it unpacks the kit into a temporary folder and prints, within 8 minutes, the WebGPU adapter, the loss of
# the same CorDA steps on wasm and on WebGPU, and each preset's WebGPU step and inference times next to PyTorch's.
#   sh run.sh           the full check (tiny, small and paper at 512x256, 3 timed steps; 20 loss steps at 256x128, batch 2)
#   sh run.sh --quick   the check on a software adapter: tiny and small at 32x16, one timed step, 3 loss steps
# Environment: KIT_PRESETS, KIT_SIZES, KIT_STEPS (the bench), KIT_LOSS_CROP, KIT_LOSS_BATCH, KIT_LOSS_STEPS (the loss
# check), KIT_PYTHON (default python3), KIT_BUDGET_S (default 470: every stage is cut off so the whole ends by then),
# VK_DRIVER_FILES / VK_ICD_FILENAMES (otherwise the kit looks for NVIDIA's Vulkan driver file itself).
set -u
started=$(date +%s)
kit=$(cd "$(dirname "$0")" && pwd)
quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    *) echo "gpu-kit: unknown option \"$arg\" (run.sh takes --quick only)." >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then
  presets=${KIT_PRESETS:-tiny,small} sizes=${KIT_SIZES:-32x16} steps=${KIT_STEPS:-1}
  loss_crop=${KIT_LOSS_CROP:-32x16} loss_batch=${KIT_LOSS_BATCH:-1} loss_steps=${KIT_LOSS_STEPS:-3}
  torch_device=""
else
  presets=${KIT_PRESETS:-tiny,small,paper} sizes=${KIT_SIZES:-512x256} steps=${KIT_STEPS:-3}
  loss_crop=${KIT_LOSS_CROP:-256x128} loss_batch=${KIT_LOSS_BATCH:-2} loss_steps=${KIT_LOSS_STEPS:-20}
  # PyTorch on the GPU even where WebGPU found none (the table then still shows PyTorch's side).
  torch_device="--torch-device cuda"
fi
python=${KIT_PYTHON:-python3}
budget=${KIT_BUDGET_S:-470}

if [ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]; then
  echo "gpu-kit: this kit runs on Linux x86-64 only, not $(uname -s)/$(uname -m)." >&2
  exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/corda-gpu-kit.XXXXXX") || { echo "gpu-kit: no temporary folder could be made." >&2; exit 1; }
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# xz where it is installed, else Python's lzma module (stdlib).
unxz_to() {
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$1" >"$2"
  elif command -v "$python" >/dev/null 2>&1; then
    "$python" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
  else
    echo "gpu-kit: unpacking needs xz or $python, and this machine has neither." >&2
    return 1
  fi
}
cp -R "$kit/app" "$work/app" &&
  unxz_to "$kit/node.xz" "$work/node" &&
  unxz_to "$kit/dawn.node.xz" "$work/app/node_modules/webgpu/dist/linux-x64/dawn.node" &&
  chmod +x "$work/node" || { echo "gpu-kit: the kit could not be unpacked into $work." >&2; exit 1; }
node="$work/node"
app="$work/app"
echo "gpu-kit: $(cat "$kit/VERSION" 2>/dev/null), unpacked in $(($(date +%s) - started)) s; node $("$node" --version)"

# The Vulkan loader and the libraries NVIDIA's Vulkan driver loads, from the kit, only where this machine lacks them.
has_lib() {
  { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q "[[:space:]]$1 ("
}
mkdir -p "$work/lib"
added=""
for lib in "$kit"/lib/*.so*; do
  name=$(basename "$lib")
  if ! has_lib "$name"; then
    ln -s "$lib" "$work/lib/$name"
    added="$added $name"
  fi
done
[ -d /usr/local/nvidia/lib64 ] && LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/usr/local/nvidia/lib64"
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$work/lib"
echo "gpu-kit: libraries from the kit:${added:- none (this machine has them all)}"
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  for dir in /etc/vulkan/icd.d /usr/share/vulkan/icd.d /usr/local/share/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d /usr/local/nvidia/icd.d; do
    if [ -f "$dir/nvidia_icd.json" ]; then
      export VK_DRIVER_FILES="$dir/nvidia_icd.json" VK_ICD_FILENAMES="$dir/nvidia_icd.json"
      break
    fi
  done
fi
echo "gpu-kit: Vulkan driver file: ${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-none named (the loader searches its own folders)}}"

left() { echo $((budget - ($(date +%s) - started))); }
# Runs "$@" for at most $1 seconds (where coreutils' timeout exists); says so when it was cut off.
capped() {
  limit=$1
  shift
  if [ "$limit" -lt 5 ]; then
    echo "gpu-kit: skipped, the ${budget} s budget is spent."
    return 1
  fi
  if command -v timeout >/dev/null 2>&1; then
    timeout "$limit" "$@"
    status=$?
    [ "$status" = 124 ] && echo "gpu-kit: cut off after $limit s (budget ${budget} s)."
    return $status
  fi
  "$@"
}
# A stage's cap: its share of the default 470 s budget, scaled with KIT_BUDGET_S, and never past the budget's end.
cap() {
  want=$(($1 * budget / 470))
  l=$(left)
  [ "$l" -gt "$want" ] && echo "$want" || echo "$l"
}

echo "== adapter"
adapter=0
if ! capped "$(cap 90)" "$node" "$app/gpu-check.cjs" adapter; then
  adapter=1
  # The usual causes on a GPU machine: no driver file, or a library the driver needs is missing (named by ldd).
  found=0
  for json in ${VK_DRIVER_FILES:-} /etc/vulkan/icd.d/*.json /usr/share/vulkan/icd.d/*.json; do
    [ -f "$json" ] || continue
    found=1
    driver=$(sed -n 's/.*"library_path"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$json")
    path=$driver
    case "$driver" in
      /*) ;;
      *) path=$({ ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | sed -n "s/.*[[:space:]]$driver (.*=> \(.*\)/\1/p" | head -n 1)
        for d in $(echo "$LD_LIBRARY_PATH" | tr ':' ' '); do [ -z "$path" ] && [ -f "$d/$driver" ] && path="$d/$driver"; done ;;
    esac
    if [ -z "$path" ]; then
      echo "gpu-kit: $json names $driver, which is not on this machine."
    elif command -v ldd >/dev/null 2>&1; then
      missing=$(ldd "$path" 2>/dev/null | sed -n 's/^[[:space:]]*\([^ ]*\) => not found.*/\1/p' | tr '\n' ' ')
      echo "gpu-kit: $json: $path${missing:+ lacks $missing}"
    fi
  done
  [ "$found" = 0 ] && echo "gpu-kit: no Vulkan driver file (icd.d/*.json) was found; name one with VK_DRIVER_FILES."
fi

echo "== loss check: $loss_steps CorDA steps on wasm and on WebGPU"
if [ "$adapter" = 0 ]; then
  capped "$(cap 150)" "$node" "$app/gpu-check.cjs" loss-check --crop "$loss_crop" --batch "$loss_batch" --steps "$loss_steps"
  loss_status=$?
else
  echo "gpu-kit: skipped, WebGPU found no adapter."
  loss_status=1
fi

echo "== speed: WebGPU against PyTorch ($presets at $sizes, timed steps: $steps)"
# Every engine process and the PyTorch run get a share of what is left, so the table always prints.
runs=$(( $(echo "$presets" | tr ',' ' ' | wc -w) * $(echo "$sizes" | tr ',' ' ' | wc -w) + 1 ))
share=$(( ($(left) - 10) / runs ))
if [ "$share" -lt 5 ]; then
  echo "gpu-kit: skipped, the ${budget} s budget is spent."
else
  CORDA_CLI="$app/gpu-check.cjs" "$node" "$app/scripts/bench.mjs" --only engine --backend webgpu --presets "$presets" \
    --sizes "$sizes" --steps "$steps" --python "$python" --timeout "$share" $torch_device
fi

echo "== done in $(($(date +%s) - started)) s; loss check: $([ "$loss_status" = 0 ] && echo pass || echo 'FAIL or not run')"
exit "$loss_status"
