#!/usr/bin/env bash
# The GPU check, one command on a CUDA machine (from the repository root):
#   bash benchmarks/gpu/run.sh [OUTDIR]
# 1. the environment (nvidia-smi, versions, `fastkernels info`);
# 2. the CUDA test suite on the GPU (tests/cuda against the CPU backend; FK_CUDA_TESTS=1);
# 3. `fastkernels bench --backend cuda` per area (a table and JSON each; the "inputs on GPU" column
#    times the kernels without the host-device copies).
# Results go to OUTDIR (default gpu-results/) and, after each step, to OUTDIR.tgz, so a run cut off
# by a time limit still leaves what it finished. Step limits: TTEST and TBENCH seconds (env);
# TESTS (default tests/cuda), AREAS and FILTER (a bench --filter) narrow a rerun.
# It uses the python3 on the PATH with its own numba/numba-cuda; no install, no network.
set -u
OUTDIR=${1:-gpu-results}
mkdir -p "$OUTDIR"
# shim/: numba-cuda 0.30.4 registers np.row_stack, removed in numpy 2.5 (the H200 image's numpy).
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/benchmarks/gpu/shim:$PWD FK_CUDA_TESTS=1 MPLBACKEND=Agg
export NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-/tmp/fastkernels-gpu-cache}
save() { tar czf "$OUTDIR.tgz" -C "$OUTDIR" . ; }
T0=$SECONDS
{ nvidia-smi; nproc
  python3 -c "import sys, numba, numpy; print(sys.version); print('numba', numba.__version__, 'numpy', numpy.__version__)"
  python3 -m pip list 2>/dev/null | grep -iE "^(numba|numba-cuda|cuda-bindings|numpy|torch) "
  python3 -m fastkernels info; } > "$OUTDIR/env.txt" 2>&1
save
XDIST=$(python3 -c "import xdist" 2>/dev/null && echo "-n 8")
timeout "${TTEST:-300}" python3 -m pytest ${TESTS:-tests/cuda} -q $XDIST -p no:cacheprovider > "$OUTDIR/cuda_tests.log" 2>&1
echo "rc=$? after $((SECONDS - T0)) s" >> "$OUTDIR/cuda_tests.log"; save; tail -3 "$OUTDIR/cuda_tests.log"
for area in ${AREAS:-nn neurons networks word2vec}; do
  timeout "${TBENCH:-300}" python3 -m fastkernels bench --backend cuda --area "$area" --out "$OUTDIR/$area" --no-png \
    ${FILTER:+--filter "$FILTER"} \
    > "$OUTDIR/bench_$area.log" 2>&1
  echo "rc=$? after $((SECONDS - T0)) s" >> "$OUTDIR/bench_$area.log"; save; tail -2 "$OUTDIR/bench_$area.log"
done
echo "GPU check done in $((SECONDS - T0)) s: $OUTDIR.tgz"
