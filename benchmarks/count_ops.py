"""GPU launches of one training step, counted without a GPU.

On CuPy each array operation is one kernel launch (and one temporary), so at small
batches a step's GPU time follows its number of operations. This script runs the
benchmark's training step (the main job's ``SGD.sgd_update``, batch 200) on the NumPy
stand-in for CuPy (``tests/fake_cupy.py``) and counts, for one step, the operations that
would each be a launch on a GPU: NumPy ufunc calls and reductions on device arrays,
functions of the ``cupy`` module (``dot``, ``zeros``, ...) and fused kernels. It counts
once with the fused kernels of ``pylearn_vae/accel/kernels.py`` and once on the
reference ops alone, and, where
PyTorch is installed, the ATen operations of the same step in PyTorch eager
(``benchmarks/torch_vae.py``, through a ``TorchDispatchMode``; views not counted).

    python benchmarks/count_ops.py            # the two totals and where they come from

Views (``broadcast_to``, ``reshape``) are not counted; a random draw counts as one. Needs
a C++ compiler for the fused count (the stand-in compiles the kernels for the host).
"""

import collections
import sys
from pathlib import Path

import numpy

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import host_kernels  # noqa: E402
from fake_cupy import FakeGPUArray, make_fake_cupy  # noqa: E402

sys.modules["cupy"] = make_fake_cupy()

from benchmarks import bench_vae  # noqa: E402
from pylearn_vae import accel, backend  # noqa: E402


class Counter:
    """Counts operations on device arrays while ``on``."""

    # Functions that make views, not launches.
    VIEWS = {"broadcast_to", "reshape", "expand_dims", "transpose"}

    def __init__(self):
        self.on = False
        self.depth = 0  # inside a counted call: NumPy's own ufunc calls are not launches
        self.counts = collections.Counter()

    def add(self, what):
        if self.on and self.depth == 0:
            self.counts[what] += 1

    def counted(self, what, function):
        def call(*args, **kwargs):
            self.add(what)
            self.depth += 1
            try:
                return function(*args, **kwargs)
            finally:
                self.depth -= 1

        return call

    def install(self, cupy):
        counter = self

        def plain(a):
            return a.view(numpy.ndarray) if isinstance(a, FakeGPUArray) else a

        def array_ufunc(self, ufunc, method, *inputs, out=None, **kwargs):
            counter.add(f"{ufunc.__name__}" + ("" if method == "__call__" else f".{method}"))
            inputs = [plain(i) for i in inputs]
            if out is not None:
                kwargs["out"] = tuple(plain(o) for o in out)
            result = getattr(ufunc, method)(*inputs, **kwargs)
            if out is not None:
                return out[0] if len(out) == 1 else out
            if isinstance(result, numpy.ndarray) or numpy.isscalar(result):
                return numpy.asarray(result).view(FakeGPUArray)
            return result

        FakeGPUArray.__array_ufunc__ = array_ufunc
        module_getattr = cupy.__getattr__

        def counted_function(name):
            function = module_getattr(name)
            return function if name in self.VIEWS else self.counted(f"cupy.{name}", function)

        cupy.__getattr__ = counted_function
        for kernel_class in (host_kernels.ElementwiseKernel, host_kernels.ReductionKernel):
            original = kernel_class.__call__

            def call(kernel, *args, _original=original, **kwargs):
                return self.counted(f"fused {kernel.name}", _original)(kernel, *args, **kwargs)

            kernel_class.__call__ = call
        draws = cupy.random.RandomState  # the class of the stand-in's generators
        for method in ("standard_normal", "random_sample"):
            setattr(draws, method, self.counted(f"random {method}", getattr(draws, method)))


def count_step(counter, fused):
    if fused:
        accel.install()
    else:
        accel.uninstall()
    train = bench_vae.build_train()
    X_host = numpy.ascontiguousarray(backend.to_host(train.dataset.X)[:200], dtype="float32")
    X = backend.asarray(X_host)
    train.algorithm.sgd_update(X, 1)  # warm-up: state arrays, kernels built
    counter.counts.clear()
    counter.on = True
    train.algorithm.sgd_update(X, 2)
    counter.on = False
    return collections.Counter(counter.counts)


def count_torch_step(train):
    """PyTorch eager's operations (non-view ATen ops) in the same step, or None."""
    try:
        import torch
        from torch.utils._python_dispatch import TorchDispatchMode
    except ImportError:
        return None
    counts = collections.Counter()

    class CountOps(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if not func.is_view:
                counts[f"aten.{func.overloadpacket.__name__}"] += 1
            return func(*args, **(kwargs or {}))

    twin = bench_vae.torch_twin(torch, train.model, train.algorithm, "cpu")
    X = numpy.ascontiguousarray(backend.to_host(train.dataset.X)[:200], dtype="float32")
    X = torch.as_tensor(X)
    twin.step(X)  # warm-up
    with CountOps():
        twin.step(X)
    return counts


def main():
    backend.set_device("gpu")
    counter = Counter()
    counter.install(sys.modules["cupy"])
    results = {}
    for fused in (True, False):
        if fused and host_kernels.compiler() is None:
            print("no C++ compiler: the fused count is skipped")
            continue
        results[fused] = count_step(counter, fused)
    backend.set_device("cpu")
    results["torch"] = count_torch_step(bench_vae.build_train())
    print("Array operations (GPU launches) in one training step, batch 200, main job:")
    labels = {
        True: "ours, fused kernels",
        False: "ours, reference ops only (PYLEARN_VAE_REFERENCE=1)",
        "torch": "PyTorch eager (benchmarks/torch_vae.py), ATen operations that are not views",
    }
    for fused, counts in results.items():
        if counts is None:
            print("\nPyTorch: not installed, not counted")
            continue
        label = labels[fused]
        print(f"\n{label}: {sum(counts.values())}")
        for what, n in counts.most_common():
            print(f"  {n:4d}  {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
