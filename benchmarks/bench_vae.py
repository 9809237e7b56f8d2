"""Our VAE against the same VAE in PyTorch eager mode: time, GFLOP/s and memory (issue 6).

Command line (from the repository root)::

    python benchmarks/bench_vae.py [--device cpu|gpu] [--repeats N] [--threads N]
                                   [--quick] [--no-torch] [--no-memory] [--profile N]

What is measured
    - training step: ``SGD._sgd_update`` of the ``Train`` built from
      ``yaml_examples/vae_mnist10k.yaml`` (``VAECriterion(num_samples=1)``,
      ``Momentum(0.05)``, float32) on a fixed batch, against :class:`TorchVAE.step`;
      batch 200 (and 20,000 on the GPU);
    - epoch: ``SGD.train`` over MNIST10k's 8,000 training digits (40 batches of 200),
      for context;
    - NLL: ``VAE.log_likelihood_approximation(X, k=1000)`` over 1,000 test digits, a
      few digits per call, against :meth:`TorchVAE.log_likelihood` under ``no_grad``;
    - GFLOP/s of our step (matmul FLOPs only) against the rate NumPy's (CuPy's) matmul
      reaches on the same shapes, measured in the same loop;
    - peak resident memory of ``bin/train.py`` on the main job (a few epochs) and of
      ``bin/vae_nll.py -k 1000`` on its result, each in its own subprocess.

Method
    Both frameworks in this process with the same number of threads (PyTorch's set to
    NumPy's BLAS threads), a warm-up, then repetitions that alternate ours and theirs
    (and swap which goes first); the table gives medians and the median of the pairwise
    ratios ours / PyTorch. Both models start from the same parameters, and a first check
    confirms they compute the same loss and update on the same noise.

PyTorch is optional (``pip install '.[bench]'``): without it (or with ``--no-torch``)
only our side is measured.
"""

import argparse
import contextlib
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from pylearn_vae import backend, kernels  # noqa: E402
from pylearn_vae.config import yaml_parse  # noqa: E402

MAIN_JOB = ROOT / "yaml_examples" / "vae_mnist10k.yaml"
TARGETS = {"step_cpu": 0.9, "nll_cpu": 0.9, "step_gpu": 1.0, "memory_mb": 400.0}
# (inputs, outputs) of the six matrix products of a step: encoder, the two posterior
# heads, the decoder's two hidden layers and its output layer.
LAYERS = ((784, 200), (200, 200), (200, 200), (200, 200), (200, 200), (200, 784))


# -- threads, device, clocks -------------------------------------------------------------
class Threads:
    """NumPy's BLAS threads (read and optionally limited with threadpoolctl)."""

    def __init__(self, requested=None):
        self._limit = None
        try:
            import threadpoolctl
        except ImportError:
            self.count = requested or int(os.environ.get("OMP_NUM_THREADS", os.cpu_count()))
            self.how = "threadpoolctl not installed: assumed, not read"
            return
        if requested:
            self._limit = threadpoolctl.threadpool_limits(requested, user_api="blas")
        blas = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
        self.count = blas[0]["num_threads"] if blas else (requested or os.cpu_count())
        self.how = f"{blas[0]['internal_api']} {blas[0]['version']}" if blas else "no BLAS found"


def load_torch(wanted, device):
    """The ``torch`` module, or None (with the reason printed) when it is not used."""
    if not wanted:
        print("PyTorch: skipped (--no-torch)")
        return None
    try:
        import torch
    except ImportError:
        print("PyTorch: not installed (pip install '.[bench]'); measuring ours only")
        return None
    if device == "gpu" and not torch.cuda.is_available():
        raise SystemExit(
            "bench_vae.py --device gpu: this PyTorch has no CUDA; install a CUDA build "
            "of torch or run with --no-torch"
        )
    return torch


def make_sync(device, torch):
    """A function that waits for both frameworks' queued GPU work (no-op on the CPU)."""
    if device != "gpu":
        return lambda: None
    stream_owner = backend.xp().cuda.Device()  # CuPy, reached through the backend seam

    def sync():
        stream_owner.synchronize()
        if torch is not None:
            torch.cuda.synchronize()

    return sync


# Seconds of rest before each timed block. OpenBLAS's worker threads busy-wait for about
# 0.1 s after a call (PyTorch's briefly too): without a rest, the framework timed next
# shares the cores with the last one's spinning threads (measured on 2 cores: PyTorch's
# step went from 3.5 ms to 6-900 ms right after NumPy work).
PAUSE = 0.25


def timed(fn, sync, inner=1):
    """Milliseconds per call of ``fn``, over ``inner`` calls, after a rest of ``PAUSE``."""
    sync()
    time.sleep(PAUSE)
    sync()
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    sync()
    return (time.perf_counter() - start) * 1e3 / inner


def alternate(ours, theirs, repeats, sync, inner=1, extra=None):
    """Times of ``ours``, ``theirs`` (and ``extra``) in alternating repetitions."""
    times = {"ours": [], "theirs": [], "extra": []}
    for r in range(repeats):
        order = [("ours", ours), ("theirs", theirs)]
        if r % 2:
            order.reverse()
        if extra is not None:
            order.append(("extra", extra))
        for key, fn in order:
            if fn is not None:
                times[key].append(timed(fn, sync, inner))
    return times


class Row:
    """One line of the table: medians and the median of the pairwise ratios."""

    def __init__(self, what, times, target=None):
        self.what, self.target = what, target
        self.ours = statistics.median(times["ours"])
        self.theirs = statistics.median(times["theirs"]) if times["theirs"] else None
        self.ratio = (
            statistics.median(o / t for o, t in zip(times["ours"], times["theirs"], strict=True))
            if times["theirs"]
            else None
        )

    def cells(self):
        theirs = "—" if self.theirs is None else f"{self.theirs:.2f}"
        ratio = "—" if self.ratio is None else f"{self.ratio:.2f}"
        target = "—" if self.target is None else f"≤ {self.target}"
        if self.target is None or self.ratio is None:
            met = "—"
        else:
            met = "yes" if self.ratio <= self.target else "no"
        return [self.what, f"{self.ours:.2f}", theirs, ratio, target, met]


# -- the two models ----------------------------------------------------------------------
def build_train(batch_size=200):
    """The main job's ``Train``, set up, its saves pointed at a temporary directory."""
    stem = os.path.join(tempfile.gettempdir(), "bench_vae_unused")
    train = yaml_parse.load_path(MAIN_JOB, environ={"PYLEARN2_TRAIN_FILE_FULL_STEM": stem})
    algorithm = train.algorithm
    cost, rule = algorithm.cost, algorithm.learning_rule
    found = (
        type(cost).__name__,
        cost.num_samples,
        algorithm.batch_size,
        type(rule).__name__,
        round(float(backend.to_host(rule.momentum.get_value())), 6),
    )
    if found != ("VAECriterion", 1, batch_size, "Momentum", 0.05):
        raise SystemExit(
            f"{MAIN_JOB} changed: expected VAECriterion(1), batch 200, "
            f"Momentum(0.05); found {found}"
        )
    train.setup()
    return train


def torch_twin(torch, model, algorithm, device):
    """A :class:`TorchVAE` holding a copy of ``model``'s current parameters."""
    from benchmarks.torch_vae import TorchVAE

    values = {p.name: backend.to_host(p.get_value()) for p in model.get_params()}
    return TorchVAE(
        values,
        device="cuda" if device == "gpu" else "cpu",
        momentum=float(backend.to_host(algorithm.learning_rule.momentum.get_value())),
        learning_rate=float(backend.to_host(algorithm.learning_rate.get_value())),
    )


class FixedNoise:
    """Stands in for a component's noise stream: always returns ``epsilon``."""

    def __init__(self, epsilon):
        self.epsilon = epsilon

    def normal(self, shape, dtype=None):
        return self.epsilon.reshape(tuple(shape))


def check_twins(torch, train, twin, X, X_torch):
    """Same noise, same loss and same updated parameters in both; prints the gaps."""
    model, algorithm = train.model, train.algorithm
    epsilon = numpy.random.RandomState(0).standard_normal((X.shape[0], model.nhid))
    epsilon = epsilon.astype("float32")
    noise = model.posterior.noise
    model.posterior.noise = FixedNoise(backend.asarray(epsilon))
    try:
        ours = float(backend.to_host(algorithm.cost.expr(model, X)))
        algorithm._sgd_update(X, 0)
    finally:
        model.posterior.noise = noise
    theirs = float(twin.step(X_torch, torch.as_tensor(epsilon, device=X_torch.device)))
    gap = max(
        float(
            numpy.abs(
                backend.to_host(p.get_value()) - twin.params[p.name].detach().cpu().numpy()
            ).max()
        )
        for p in model.get_params()
    )
    print(
        f"check: loss ours {ours:.4f}, PyTorch {theirs:.4f}; after one step on the same "
        f"noise the parameters differ by at most {gap:.2e}"
    )
    if not math.isclose(ours, theirs, rel_tol=1e-4) or gap > 1e-4:
        raise SystemExit("bench_vae.py: the PyTorch model does not compute what ours does")


# -- measurements ------------------------------------------------------------------------
def step_flops(batch):
    """Matmul FLOPs of one training step: 2*B*in*out per product, backward ~ 2x forward."""
    return 3 * sum(2 * batch * n_in * n_out for n_in, n_out in LAYERS)


def matmul_reference(xp, batch):
    """A function doing the forward and backward products of a step in plain ``xp``."""
    rng = numpy.random.RandomState(1)
    arrays = [
        tuple(
            xp.asarray(rng.standard_normal(s).astype("float32"))
            for s in ((batch, n_in), (n_in, n_out), (batch, n_out))
        )
        for n_in, n_out in LAYERS
    ]

    def products():
        for x, W, g in arrays:
            x @ W
            g @ W.T
            x.T @ g

    return products


def bench_step(train, twin, X, X_torch, repeats, inner, sync, what, target):
    algorithm = train.algorithm
    counter = iter(range(1, 10**9))

    def ours():
        algorithm._sgd_update(X, next(counter))

    theirs = None if twin is None else (lambda: twin.step(X_torch))
    products = matmul_reference(backend.xp(), X.shape[0])
    alternate(ours, theirs, 3, sync, inner, products)  # warm-up
    times = alternate(ours, theirs, repeats, sync, inner, products)
    flops = step_flops(X.shape[0])
    rates = {
        "ours": flops / statistics.median(times["ours"]) / 1e6,
        "matmul": flops / statistics.median(times["extra"]) / 1e6,
    }
    if times["theirs"]:
        rates["theirs"] = flops / statistics.median(times["theirs"]) / 1e6
    return Row(what, times, target), rates


def torch_epoch(torch, twin, X_train, batch_size, generator):
    """One epoch of :meth:`TorchVAE.step` over shuffled batches of ``X_train``."""
    n = X_train.shape[0]
    order = torch.randperm(n, generator=generator).to(X_train.device)
    for start in range(0, n - batch_size + 1, batch_size):
        twin.step(X_train[order[start : start + batch_size]])


def bench_epoch(torch, train, twin, repeats, sync, what):
    dataset, algorithm = train.dataset, train.algorithm
    ours = lambda: algorithm.train(dataset)  # noqa: E731
    theirs = None
    if twin is not None:
        X_train = torch.as_tensor(backend.to_host(dataset.X), device=twin.device)
        generator = torch.Generator().manual_seed(0)
        theirs = lambda: torch_epoch(torch, twin, X_train, algorithm.batch_size, generator)  # noqa: E731
    alternate(ours, theirs, 1, sync)
    return Row(what, alternate(ours, theirs, repeats, sync))


def bench_nll(torch, model, twin, X_eval, k, chunk, repeats, sync, what, target):
    X_dev = backend.asarray(X_eval)
    n = X_eval.shape[0]

    def ours():
        for start in range(0, n, chunk):
            backend.to_host(model.log_likelihood_approximation(X_dev[start : start + chunk], k))

    theirs = None
    if twin is not None:
        X_torch = torch.as_tensor(X_eval, device=twin.device)

        def theirs():
            for start in range(0, n, chunk):
                twin.log_likelihood(X_torch[start : start + chunk], k).cpu()

    values = backend.to_host(model.log_likelihood_approximation(X_dev[:chunk], k))
    if twin is not None:
        other = twin.log_likelihood(X_torch[:chunk], k).cpu().numpy()
        print(
            f"check: IS log-likelihood of the first {chunk} digits, mean ours "
            f"{values.mean():.3f}, PyTorch {other.mean():.3f} (different noise)"
        )
    return Row(what, alternate(ours, theirs, repeats, sync), target)


# Run from a fresh, small interpreter: a child forked straight from this process would
# count this process's own pages (PyTorch and all) in its peak RSS.
_LAUNCHER = (
    "import resource, subprocess, sys; "
    "code = subprocess.call(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
    "sys.exit(code)"
)


def peak_rss_mb(command, env, log_path):
    """Peak resident memory (10^6 bytes) of ``command``, run in a subprocess."""
    with open(log_path, "w") as log:
        done = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, *command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    if done.returncode:
        tail = (done.stdout + Path(log_path).read_text())[-2000:]
        raise SystemExit(f"bench_vae.py: {' '.join(command)} failed:\n{tail}")
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, else KiB
    return int(done.stdout.split()[-1]) * scale / 1e6


def bench_memory(device, epochs, k, limit):
    """Peak RSS of the main job (``epochs`` epochs) and of the NLL evaluation of it."""
    env = dict(os.environ, PYLEARN_VAE_DEVICE=device)
    with tempfile.TemporaryDirectory(prefix="bench_vae_") as tmp:
        text = MAIN_JOB.read_text(encoding="utf-8")
        text, count = re.subn(r"max_epochs:\s*\d+", f"max_epochs: {epochs}", text)
        if count != 1:
            raise SystemExit(f"{MAIN_JOB}: expected one max_epochs to shorten, found {count}")
        config = Path(tmp) / "vae_mnist10k.yaml"
        config.write_text(text, encoding="utf-8")
        train_cmd = [sys.executable, str(ROOT / "bin" / "train.py"), str(config)]
        train_mb = peak_rss_mb(train_cmd, env, Path(tmp) / "train.log")
        nll_cmd = [
            sys.executable,
            str(ROOT / "bin" / "vae_nll.py"),
            str(Path(tmp) / "vae_mnist10k.pkl"),
            "-k",
            str(k),
        ]
        if limit:
            nll_cmd += ["--limit", str(limit)]
        nll_mb = peak_rss_mb(nll_cmd, env, Path(tmp) / "nll.log")
    return [
        (
            f"main job: `bin/train.py` vae_mnist10k.yaml, {epochs} epoch(s)",
            train_mb,
            TARGETS["memory_mb"],
        ),
        (
            f"NLL: `bin/vae_nll.py -k {k}` on the test set"
            + (f" (first {limit})" if limit else ""),
            nll_mb,
            None,
        ),
    ]


def profile_steps(train, X, steps):
    """cProfile of ``steps`` training steps, top functions by cumulative time."""
    import cProfile
    import pstats

    algorithm = train.algorithm
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(steps):
        algorithm._sgd_update(X, i + 1)
    profiler.disable()
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(30)


# -- report ------------------------------------------------------------------------------
def markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def describe_machine(device, threads, torch):
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        others = subprocess.run(
            ["pgrep", "-f", "bin/train.py"], capture_output=True, text=True
        ).stdout.split()
        busy = f"{len(others)} other `bin/train.py` process(es) running at start"
        busy += f", load average {os.getloadavg()[0]:.2f}"
    except OSError:
        busy = "pgrep unavailable: other jobs unknown"
    lines = [
        f"machine: {cpu}, {os.cpu_count()} logical CPUs, {platform.system()}; {busy}",
        f"python {platform.python_version()}, numpy {numpy.__version__} (BLAS: {threads.how}), "
        f"threads: {threads.count} (NumPy BLAS = torch.set_num_threads)",
        f"PyTorch: {torch.__version__ if torch is not None else 'not measured'}",
    ]
    if device == "gpu":
        card = backend.xp().cuda.runtime.getDeviceProperties(0)["name"]
        card = card.decode() if isinstance(card, bytes) else card
        fused = "on" if kernels.fused() else "off (PYLEARN_VAE_FUSED=0)"
        lines.append(f"GPU (CuPy): {card}; fused kernels {fused}")
        if torch is not None:
            lines.append(f"GPU (PyTorch): {torch.cuda.get_device_name()}")
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="bench_vae.py", description="Our VAE against PyTorch eager: time and memory."
    )
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="alternating repetitions of the step (default 30; 3 with --quick)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS and PyTorch threads (default: NumPy's BLAS setting)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run of a few seconds (tiny NLL, 1-epoch memory job)",
    )
    parser.add_argument("--no-torch", action="store_true", help="measure ours only")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument(
        "--pause",
        type=float,
        default=None,
        help=f"seconds of rest before each timed block (default {PAUSE}; 0 with --quick)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="STEPS",
        help="print a cProfile of this many of our steps, then exit",
    )
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 30
    if args.pause is None:
        args.pause = 0.0 if args.quick else PAUSE
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    return args


def main(argv=None):
    global PAUSE
    args = parse_args(argv)
    PAUSE = args.pause
    threads = Threads(args.threads)  # before torch is imported: NumPy's own BLAS
    if args.device == "gpu":
        backend.set_device("gpu")
    train = build_train()
    model, dataset = train.model, train.dataset
    X_train = numpy.ascontiguousarray(backend.to_host(dataset.X), dtype="float32")
    X_host = X_train[:200]
    X = backend.asarray(X_host)
    if args.profile:
        profile_steps(train, X, args.profile)
        return 0

    torch = load_torch(not args.no_torch, args.device)
    if torch is not None:
        torch.set_num_threads(threads.count)
        torch.manual_seed(0)
    sync = make_sync(args.device, torch)
    print("\n".join(describe_machine(args.device, threads, torch)))

    twin = X_torch = None
    if torch is not None:
        twin = torch_twin(torch, model, train.algorithm, args.device)
        X_torch = torch.as_tensor(X_host, device=twin.device)
        check_twins(torch, train, twin, X, X_torch)

    device, quick = args.device.upper(), args.quick
    inner = 2 if quick else 20
    step_target = TARGETS["step_gpu" if args.device == "gpu" else "step_cpu"]
    rows, rates = [], []
    row, rate = bench_step(
        train,
        twin,
        X,
        X_torch,
        args.repeats,
        inner,
        sync,
        f"training step, {device}, batch 200",
        step_target,
    )
    rows.append(row)
    rates.append((200, rate))
    if args.device == "gpu":
        big = numpy.resize(X_train, (2000 if quick else 20000, X_train.shape[1]))
        big = big.astype("float32")
        big_torch = None if torch is None else torch.as_tensor(big, device=twin.device)
        # A separate pair of models, so the batch-200 parameters are not disturbed.
        big_train = build_train()
        big_twin = (
            None
            if torch is None
            else torch_twin(torch, big_train.model, big_train.algorithm, args.device)
        )
        row, rate = bench_step(
            big_train,
            big_twin,
            backend.asarray(big),
            big_torch,
            args.repeats,
            inner,
            sync,
            f"training step, GPU, batch {big.shape[0]:,}",
            step_target,
        )
        rows.append(row)
        rates.append((big.shape[0], rate))
    epochs = 1 if quick else max(3, args.repeats // 8)
    rows.append(
        bench_epoch(
            torch, train, twin, epochs, sync, f"epoch, {device} (40 batches of 200, `SGD.train`)"
        )
    )

    k, n_eval = (20, 20) if quick else (1000, 1000)
    chunk = min(10 if args.device == "cpu" else 100, n_eval)
    X_test = backend.to_host(train.algorithm.monitoring_dataset["test"].X)
    X_eval = numpy.ascontiguousarray(X_test[:n_eval], dtype="float32")
    rows.append(
        bench_nll(
            torch,
            model,
            twin,
            X_eval,
            k,
            chunk,
            1 if quick else 3,
            sync,
            f"NLL k={k}, {n_eval:,} test digits, {device} ({chunk} per call)",
            TARGETS["nll_cpu"] if args.device == "cpu" else None,
        )
    )

    print()
    header = ["what", "ours (ms)", "PyTorch (ms)", "ratio ours/PyTorch (median)", "target", "met?"]
    print(markdown(header, [r.cells() for r in rows]))
    print()
    for batch, rate in rates:
        line = (
            f"GFLOP/s of the step at batch {batch:,} (matmul FLOPs, backward = 2x forward):"
            f" ours {rate['ours']:.1f}"
        )
        if "theirs" in rate:
            line += f", PyTorch {rate['theirs']:.1f}"
        line += (
            f"; {'CuPy' if args.device == 'gpu' else 'NumPy'} matmul on the same shapes "
            f"{rate['matmul']:.1f} (ours reaches {rate['ours'] / rate['matmul']:.0%})"
        )
        print(line)

    if not args.no_memory:
        memory = bench_memory(
            args.device, 1 if quick else 3, 10 if quick else 1000, 20 if quick else None
        )
        print()
        mem_rows = [
            [
                what,
                f"{mb:.0f}",
                "—" if target is None else f"≤ {target:.0f}",
                "—" if target is None else ("yes" if mb <= target else "no"),
            ]
            for what, mb, target in memory
        ]
        print(markdown(["peak resident memory", "MB (10^6 B)", "target", "met?"], mem_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
