#!/usr/bin/env bash
# Everything the GPU machine should run for issue 10's kernels, in one call (it has nvcc, cmake, PyTorch and
# compute-sanitizer, but no Node): builds native/cuda-tests, runs ctest (CPU references, kernel tests
# against them, compute-sanitizer memcheck), builds the engine itself with CUDA (native/, no addon) and
# runs its transformers fixtures on the GPU in fp32 and bf16, then the side-by-side benchmark against PyTorch.
# With --engine-bench also the engine-vs-PyTorch training and decoding benchmark (bench/cuda/bench_engine.py;
# several minutes: the 10-minute device call may need it alone, `--no-bench --engine-bench`).
# Logs and JSON go to $OUT (or ./cuda-out). Usage: bench/cuda/run-on-device.sh [--quick] [--no-bench] [--engine-bench]
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${OUT:-$root/cuda-out}"
mkdir -p "$out"
quick=""
bench=1
engine_bench=0
for a in "$@"; do
  case "$a" in
    --quick) quick="--quick" ;;
    --no-bench) bench=0 ;;
    --engine-bench) engine_bench=1 ;;
  esac
done
export PYTHONUNBUFFERED=1
status=0

{
  echo "== device"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv || true
  nvcc --version | tail -2
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
} 2>&1 | tee "$out/device.txt"

echo "== build native/cuda-tests"
build=/tmp/siri-cuda-tests
start=$(date +%s)
if cmake -S "$root/native/cuda-tests" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIRI_CUDA_RESOURCE_USAGE=ON >"$out/cmake.log" 2>&1 &&
  cmake --build "$build" -j"$(nproc)" >"$out/build.log" 2>&1; then
  echo "built in $(($(date +%s) - start)) s"
  grep -E "cuBLAS" "$out/cmake.log" || true
  # Registers / shared memory / spills of every kernel, from ptxas.
  grep -E "Compiling entry|Used [0-9]+ registers|spill" "$out/build.log" >"$out/resource-usage.txt" || true
  echo "== ctest"
  (cd "$build" && ctest --output-on-failure --timeout 900 2>&1) | tee "$out/ctest.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  echo "== full kernel test output (verbose)"
  "$build/siri_cuda_tests" -v $quick >"$out/cuda-tests-verbose.log" 2>&1 || status=1
  tail -3 "$out/cuda-tests-verbose.log"
else
  echo "build failed; see $out/build.log"
  tail -30 "$out/cmake.log" "$out/build.log"
  status=1
fi

echo "== build the engine with CUDA (native/, plain cmake: no Node) and run its fixture test"
engine_build=/tmp/siri-engine-cuda
torch_cmake="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')"
start=$(date +%s)
if cmake -S "$root/native" -B "$engine_build" -DCMAKE_BUILD_TYPE=Release -DSIRI_WITH_CUDA=ON \
  -DTorch_DIR="$torch_cmake/Torch" >"$out/engine-cmake.log" 2>&1 &&
  cmake --build "$engine_build" -j"$(nproc)" >"$out/engine-build.log" 2>&1; then
  echo "built in $(($(date +%s) - start)) s"
  for dtype in float32 bfloat16; do
    for device in cpu cuda; do
      echo "-- engine fixtures: $device $dtype"
      "$engine_build/siri_engine_reference" --fixtures "$root/test/fixtures/engine" --device "$device" \
        --compute-dtype "$dtype" 2>&1 | tee "$out/engine-reference-$device-$dtype.log" | grep -E "FAIL|greedy:|passed"
      [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
    done
  done
else
  echo "engine build failed; see $out/engine-build.log"
  tail -30 "$out/engine-cmake.log" "$out/engine-build.log"
  status=1
fi

if [ "$bench" = 1 ]; then
  echo "== benchmark (bench/cuda/bench_kernels.py $quick)"
  python3 "$root/bench/cuda/bench_kernels.py" $quick --out "$out/cuda-bench.json" 2>&1 | tee "$out/bench.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi
if [ "$engine_bench" = 1 ]; then
  echo "== engine vs PyTorch: training step and decoding (bench/cuda/bench_engine.py $quick)"
  python3 "$root/bench/cuda/bench_engine.py" $quick --engine "$engine_build/siri_engine_bench" \
    --out "$out/engine-bench.json" 2>&1 | tee "$out/engine-bench.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi
exit $status
