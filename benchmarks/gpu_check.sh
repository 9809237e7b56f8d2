#!/usr/bin/env bash
# The GPU checks of issue 6 in one run, for a machine with a CUDA GPU, CuPy and a CUDA
# build of PyTorch (the device machines lent to some sessions have all three, but not
# autograd): the GPU-marked tests (each with and without the fused kernels), then the
# GPU benchmark with the fused kernels and again without them.
#
#   One-time preparation, on a machine with pip (autograd is pure Python):
#     echo /.whl/ >> .git/info/exclude
#     python3 -m pip download --no-deps --only-binary=:all: -d .whl autograd==1.9.1
#   Then, on the GPU machine, from the repository root (about 5-8 minutes):
#     bash benchmarks/gpu_check.sh            # logs in $OUT, or in ./gpu_check_out
#     QUICK=1 bash benchmarks/gpu_check.sh    # a smoke run of the benchmarks (~2 min)
#
# Wheels found in .whl/ are installed into a private folder (nothing is fetched); the
# package itself is used from this checkout through PYTHONPATH, uninstalled.
set -u -o pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu_check_out}"
mkdir -p "$out"
python=python3
export PYTHONUNBUFFERED=1

if compgen -G ".whl/*.whl" >/dev/null; then
    "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --upgrade --target /tmp/pylearn_vae_site .whl/*.whl || exit 1
    export PYTHONPATH="/tmp/pylearn_vae_site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi

{
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    "$python" -c "import importlib.metadata as m, numpy, cupy, torch; print('numpy', \
numpy.__version__, '| cupy', cupy.__version__, '| torch', torch.__version__, 'cuda', \
torch.version.cuda, '| autograd', m.version('autograd'))"
} 2>&1 | tee "$out/versions.txt" || exit 1

status=0
# -p no:cacheprovider: the checkout may be read-only there.
"$python" -m pytest -q -p no:cacheprovider -m gpu tests/test_gpu.py 2>&1 | tee "$out/gpu_tests.log" || status=1

bench=(benchmarks/bench_vae.py --device gpu)
if [ -n "${QUICK:-}" ]; then
    bench+=(--quick)
fi
# Accelerated (the default: fused kernels), then on the reference ops alone, for comparison.
"$python" "${bench[@]}" 2>&1 | tee "$out/bench_gpu.log" || status=1
PYLEARN_VAE_REFERENCE=1 "$python" "${bench[@]}" --no-memory 2>&1 |
    tee "$out/bench_gpu_reference.log" || status=1
exit "$status"
