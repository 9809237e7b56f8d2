"""Our VAE against the same VAE in PyTorch eager, torch.compile and JAX jit (issues 6, 13).

Command line (from the repository root)::

    python benchmarks/bench_vae.py [--device cpu|gpu] [--peers eager,compile,jax]
                                   [--isa native|avx2] [--threads N] [--repeats N]
                                   [--nll-repeats N] [--quick] [--no-torch] [--no-memory]
                                   [--no-main-job] [--json PATH] [--profile N] [--matrix]

What is measured
    - training step: ``SGD.sgd_update`` of the ``Train`` built from
      ``yaml_examples/vae_mnist10k.yaml`` (``VAECriterion(num_samples=1)``,
      ``Momentum(0.05)``, float32) on a fixed batch, against each peer's step
      (:class:`TorchVAE.step`, :class:`CompiledTorchVAE.step`, :class:`JaxVAE.step`);
      batch 200 (and 20,000 on the GPU);
    - epoch: ``SGD.train`` over MNIST10k's 8,000 training digits (40 batches of 200),
      for context;
    - NLL: ``VAE.log_likelihood_approximation(X, k=1000)`` over 1,000 test digits, a
      few digits per call, against each peer's ``log_likelihood``;
    - the main job's epoch (training and the monitoring round) with a competing CPU-bound
      process, ours against PyTorch eager, each in its own subprocess with its default
      threads; and the monitoring round's share of a training epoch, ours alone;
    - GFLOP/s of our step (matmul FLOPs only) against the rate NumPy's (CuPy's) matmul
      reaches on the same shapes, measured in the same loop;
    - peak resident memory of ``bin/train.py`` on the main job (a few epochs) and of
      ``bin/vae_nll.py -k 1000`` on its result, each in its own subprocess.

Method
    Every framework in this process with the same number of threads (PyTorch's set to
    ours, XLA's to one thread with ``--threads 1``), a warm-up that
    includes compilation, then repetitions that time ours and each peer in turn (rotating
    which goes first), each after a rest; the table gives medians, the median of the
    pairwise ratios ours / peer and ours / the fastest peer of the same repetition. All
    models start from the same parameters, and a first check confirms each peer computes
    our loss and update on the same noise.

    ``--isa avx2`` re-runs the benchmark in a subprocess whose environment makes NumPy,
    OpenBLAS, PyTorch and XLA use AVX2 code only (see ``AVX2_ENV``), and stops unless the
    setting took; ``--isa native`` (the default) re-runs it with those variables unset.
    ``--matrix`` (``benchmarks/matrix.py``) runs {native, avx2} x {1, 2 threads} and
    prints one table.

PyTorch and JAX are optional (``pip install '.[bench]'``): the peers that are not
installed are left out, and with ``--no-torch`` only our side is measured.
"""

import argparse
import contextlib
import functools
import json
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

from benchmarks.tables import PEERS, ROW_HEADER, markdown, row_cells  # noqa: E402
from pylearn_vae import backend, ops  # noqa: E402
from pylearn_vae import threads as our_threads  # noqa: E402
from pylearn_vae.accel.memory import retain_freed_memory  # noqa: E402
from pylearn_vae.config import yaml_parse  # noqa: E402

MAIN_JOB = ROOT / "yaml_examples" / "vae_mnist10k.yaml"
TARGETS = {
    "step_cpu": 0.9,
    "nll_cpu": 0.9,
    "step_gpu": 1.0,
    "fastest": 1.0,
    "busy_epoch": 1.0,
    "monitor_share": 0.5,
    "memory_mb": 400.0,
}
# The peers, in the order of the table's columns, and what each is.
PEER_LABELS = {"eager": "PyTorch eager", "compile": "torch.compile", "jax": "JAX jit"}
# An AVX2 machine imitated per process (issue 13): NumPy's SIMD dispatch, OpenBLAS's
# kernels, ATen's kernels, MKL and oneDNN; XLA's through XLA_FLAGS (XLA_ISA_FLAG).
AVX2_ENV = {
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    "OPENBLAS_CORETYPE": "Haswell",
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
}
XLA_ISA_FLAG = "--xla_cpu_max_isa=AVX2"
XLA_ONE_THREAD = ("--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1")
# Set in the re-executed child to the machine class it runs as.
ISA_CHILD = "BENCH_VAE_ISA"
# (inputs, outputs) of the six matrix products of a step: encoder, the two posterior
# heads, the decoder's two hidden layers and its output layer.
LAYERS = ((784, 200), (200, 200), (200, 200), (200, 200), (200, 200), (200, 784))


# -- machine classes ---------------------------------------------------------------------
def isa_environment(isa, environ, threads=None):
    """The environment of the child that runs as machine class ``isa``.

    ``native`` unsets every variable of :data:`AVX2_ENV` and ``OPENBLAS_L2_SIZE`` (this
    machine's image sets ``OPENBLAS_CORETYPE=Haswell`` for old OpenBLAS builds, which
    slows the current one); ``avx2`` sets :data:`AVX2_ENV` and :data:`XLA_ISA_FLAG`.
    With ``threads == 1`` XLA is given one thread (its flags are read when JAX starts).
    """
    env = dict(environ)
    for name in (*AVX2_ENV, "OPENBLAS_L2_SIZE"):
        env.pop(name, None)
    ours = (XLA_ISA_FLAG, *XLA_ONE_THREAD)
    flags = [f for f in env.get("XLA_FLAGS", "").split() if f not in ours]
    if isa == "avx2":
        env.update(AVX2_ENV)
        flags.append(XLA_ISA_FLAG)
    if threads == 1:
        flags.extend(XLA_ONE_THREAD)
    env.pop("XLA_FLAGS", None)
    if flags:
        env["XLA_FLAGS"] = " ".join(flags)
    env[ISA_CHILD] = isa
    return env


def runtime_info(torch):
    """What NumPy, OpenBLAS and PyTorch found at run time (for :func:`isa_problems`)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_features__
    try:
        import threadpoolctl

        openblas = [
            i.get("architecture")
            for i in threadpoolctl.threadpool_info()
            if i["internal_api"] == "openblas"
        ]
    except ImportError:
        openblas = None
    return {
        "numpy_features": sorted(name for name, found in __cpu_features__.items() if found),
        "openblas_architectures": openblas,
        "torch_capability": None if torch is None else torch.backends.cpu.get_cpu_capability(),
    }


def isa_problems(isa, info):
    """What of machine class ``isa`` did not take, given :func:`runtime_info`'s ``info``."""
    if isa != "avx2":
        return []
    problems = []
    if "X86_V4" in info["numpy_features"]:
        problems.append(
            "NumPy still finds X86_V4 (NPY_DISABLE_CPU_FEATURES="
            f"{AVX2_ENV['NPY_DISABLE_CPU_FEATURES']!r} was not applied)"
        )
    architectures = info["openblas_architectures"]
    if architectures is None:
        problems.append("OpenBLAS's kernels cannot be read: threadpoolctl is not installed")
    elif any(a != "Haswell" for a in architectures):
        problems.append(
            f"OpenBLAS uses {', '.join(map(str, architectures))} kernels, not Haswell "
            "(OPENBLAS_CORETYPE=Haswell was not applied)"
        )
    capability = info["torch_capability"]
    if capability is not None and capability != "AVX2":
        problems.append(
            f"PyTorch's CPU capability is {capability}, not AVX2 "
            "(ATEN_CPU_CAPABILITY=avx2 was not applied)"
        )
    return problems


def check_isa(isa, torch):
    """Stop unless this process runs as machine class ``isa``; a line saying what took."""
    info = runtime_info(torch)
    problems = isa_problems(isa, info)
    if problems:
        raise SystemExit(
            f"bench_vae.py --isa {isa}: the imitation did not take, so the results would "
            "not be an AVX2 machine's: " + "; ".join(problems)
        )
    numpy_top = "X86_V4" if "X86_V4" in info["numpy_features"] else "X86_V3 (no X86_V4)"
    return (
        f"machine class: {isa}; NumPy SIMD up to {numpy_top}, OpenBLAS kernels "
        f"{info['openblas_architectures']}, PyTorch capability {info['torch_capability']}, "
        f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}"
    )


# -- threads, device, clocks -------------------------------------------------------------
class Threads:
    """Our threads (BLAS and blocks, :mod:`pylearn_vae.threads`), optionally fixed.

    With ``requested`` the number is the user's choice, so training keeps it (no
    adaptation to the machine's load); without, it is our default.
    """

    def __init__(self, requested=None):
        if requested:
            our_threads.set_num_threads(requested)
        self.count = our_threads.get_num_threads()
        try:
            import threadpoolctl
        except ImportError:
            self.how = "threadpoolctl not installed: BLAS not read"
            return
        blas = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
        self.how = f"{blas[0]['internal_api']} {blas[0]['version']}" if blas else "no BLAS found"


class Peer:
    """A peer framework's model behind one interface.

    Parameters
    ----------
    name : str
        One of :data:`PEERS`.
    model : TorchVAE, CompiledTorchVAE or JaxVAE
        Has ``step(x, epsilon=None)``, ``log_likelihood(x, k)`` and ``params``.
    to_array, to_host : callable
        Host array -> the framework's array on its device; and back.
    """

    def __init__(self, name, model, to_array, to_host):
        self.name, self.model = name, model
        self.to_array, self.to_host = to_array, to_host
        self.first_call = {}  # seconds of the first call of each function, compiling

    def host_params(self):
        return {name: self.to_host(value) for name, value in self.model.params.items()}

    def first(self, what, fn, *args):
        """``fn(*args)``, its time recorded as the first call of ``what``."""
        start = time.perf_counter()
        result = fn(*args)
        self.first_call[what] = time.perf_counter() - start
        return result


def parse_peers(text):
    """``"eager,compile"`` -> ``("eager", "compile")``; ValueError naming a bad name."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in PEERS]
    if bad:
        raise ValueError(
            f"--peers {text!r}: unknown peer {bad[0]!r}; choose from {', '.join(PEERS)} "
            "(comma-separated)"
        )
    return names


def load_peers(requested, device, model, algorithm, threads):
    """``{name: Peer}`` of ``requested`` (None: every installed one), the reasons printed."""
    explicit = requested is not None
    wanted = requested if explicit else PEERS
    peers = {}
    values = {p.name: backend.to_host(p.get_value()) for p in model.get_params()}
    rule = {
        "momentum": float(backend.to_host(algorithm.learning_rule.momentum.get_value())),
        "learning_rate": float(backend.to_host(algorithm.learning_rate.get_value())),
    }
    for name in wanted:
        module = "jax" if name == "jax" else "torch"
        try:
            __import__(module)
        except ImportError:
            if explicit:
                raise SystemExit(
                    f"bench_vae.py --peers: {name!r} needs {module}, which is not installed "
                    "(pip install '.[bench]', or leave the peer out)"
                ) from None
            print(f"{PEER_LABELS[name]}: {module} not installed (pip install '.[bench]')")
            continue
        if name == "jax":
            peers[name] = jax_peer(device, values, rule)
        else:
            peers[name] = torch_peer(name, device, values, rule, threads)
    return peers


def torch_peer(name, device, values, rule, threads):
    import torch

    from benchmarks.torch_vae import CompiledTorchVAE, TorchVAE

    if device == "gpu" and not torch.cuda.is_available():
        raise SystemExit(
            "bench_vae.py --device gpu: this PyTorch has no CUDA; install a CUDA build "
            "of torch or leave out the PyTorch peers (--peers jax, or --no-torch)"
        )
    torch.set_num_threads(threads.count)
    torch.manual_seed(0)
    where = torch.device("cuda" if device == "gpu" else "cpu")
    cls = CompiledTorchVAE if name == "compile" else TorchVAE
    return Peer(
        name,
        cls(values, device=where, **rule),
        lambda a: torch.as_tensor(a, device=where),
        lambda t: t.detach().cpu().numpy(),
    )


def jax_peer(device, values, rule):
    import jax

    from benchmarks.jax_vae import JaxVAE

    if device == "gpu" and jax.default_backend() != "gpu":
        raise SystemExit(
            f"bench_vae.py --device gpu: JAX runs on {jax.default_backend()}, not a GPU; "
            "install jax[cuda] or leave the peer out (--peers eager,compile)"
        )
    if jax.config.jax_enable_x64:
        raise SystemExit("bench_vae.py: JAX has x64 on (JAX_ENABLE_X64); the peer is float32")
    return Peer("jax", JaxVAE(values, **rule), jax.numpy.asarray, numpy.asarray)


def make_sync(device):
    """A function that waits for every framework's queued GPU work (no-op on the CPU)."""
    if device != "gpu":
        return lambda: None
    stream_owner = backend.xp().cuda.Device()  # CuPy, reached through the backend seam
    torch = sys.modules.get("torch")  # imported by a PyTorch peer, if any

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


def alternate(fns, repeats, sync, inner=1, extra=None):
    """``{name: [ms, ...]}`` of ``fns`` (``{name: fn}``) timed in turn, ``repeats`` times.

    Repetition ``r`` starts with the ``r``-th function (the order rotates, so each goes
    first as often as the others); ``extra`` (under the name ``"extra"``) comes last.
    """
    names = list(fns)
    times = {name: [] for name in [*names, "extra"]}
    for r in range(repeats):
        shift = r % len(names)
        order = names[shift:] + names[:shift]
        if extra is not None:
            order.append("extra")
        for name in order:
            times[name].append(timed(extra if name == "extra" else fns[name], sync, inner))
    return times


def _median_ratio(ours, theirs):
    return statistics.median(o / t for o, t in zip(ours, theirs, strict=True))


def make_row(what, times, targets=None, kind="", threads=None):
    """One line of the table, as a JSON-ready dict.

    Parameters
    ----------
    what : str
    times : dict {name: list of float}
        Milliseconds of ``"ours"`` and of each compared function, repetition by
        repetition (as :func:`alternate` returns them); ``"extra"`` is ignored.
    targets : dict {name: float}, optional
        Upper bounds on ``ours / name``; the name ``"fastest"`` means the fastest of the
        :data:`PEERS` in each repetition.
    kind, threads : str, optional
        Labels kept in the row (``threads``: when not the run's own setting).

    Returns
    -------
    dict
        ``ours`` and ``others`` (medians), ``ratios`` (median of the pairwise ratios ours /
        each other, and ``"fastest"`` when a peer was measured), ``targets``, ``met``.
    """
    others = {n: t for n, t in times.items() if n not in ("ours", "extra") and t}
    ratios = {n: _median_ratio(times["ours"], t) for n, t in others.items()}
    peers = [t for n, t in others.items() if n in PEERS]
    if peers:
        ratios["fastest"] = _median_ratio(
            times["ours"], [min(r) for r in zip(*peers, strict=True)]
        )
    targets = dict(targets or {})
    return {
        "what": what,
        "kind": kind,
        "threads": threads,
        "ours": statistics.median(times["ours"]),
        "others": {n: statistics.median(t) for n, t in others.items()},
        "ratios": ratios,
        "fastest_of": [n for n in others if n in PEERS],
        "targets": targets,
        "met": {n: ratios[n] <= t for n, t in targets.items() if n in ratios},
        "matmul_fraction": None,
    }


def step_targets(device):
    vs_eager = TARGETS["step_gpu" if device == "gpu" else "step_cpu"]
    return {"eager": vs_eager, "fastest": TARGETS["fastest"]}


# -- the main job ------------------------------------------------------------------------
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


def monitor_batches(train):
    """``[(X, batch_size), ...]``: each dataset the main job's monitor evaluates, as it does."""
    monitor = train.model.monitor
    found = []
    for dataset, _, size, count, _ in monitor.iteration_parameters():
        X = numpy.ascontiguousarray(backend.to_host(dataset.X), dtype="float32")
        if size is None:
            size = math.ceil(X.shape[0] / count) if count else X.shape[0]
        found.append((X, int(size)))
    if not found:
        raise SystemExit(f"{MAIN_JOB}: the main job's monitor has no dataset to evaluate")
    return found


class FixedNoise:
    """Stands in for a component's noise stream: always returns ``epsilon``."""

    def __init__(self, epsilon):
        self.epsilon = epsilon

    def normal(self, shape, dtype=None):
        return self.epsilon.reshape(tuple(shape))


def check_peers(train, peers, X_host):
    """Same noise, same loss and same updated parameters in ours and every peer.

    Each peer must start from our current parameters; prints the gaps and stops the
    benchmark naming every peer that differs (loss relative 1e-4, parameters 1e-4).
    """
    model, algorithm = train.model, train.algorithm
    epsilon = numpy.random.RandomState(0).standard_normal((X_host.shape[0], model.nhid))
    epsilon = epsilon.astype("float32")
    noise = model.posterior.noise
    model.posterior.noise = FixedNoise(backend.asarray(epsilon))
    X = backend.asarray(X_host)
    try:
        ours = float(backend.to_host(algorithm.cost.expr(model, X)))
        algorithm.sgd_update(X, 0)
    finally:
        model.posterior.noise = noise
    updated = {p.name: backend.to_host(p.get_value()) for p in model.get_params()}
    wrong = []
    for name, peer in peers.items():
        x, eps = peer.to_array(X_host), peer.to_array(epsilon)
        theirs = float(peer.to_host(peer.first("step", peer.model.step, x, eps)))
        gap = max(float(numpy.abs(updated[n] - v).max()) for n, v in peer.host_params().items())
        print(
            f"check: loss ours {ours:.4f}, {PEER_LABELS[name]} {theirs:.4f}; after one step "
            f"on the same noise the parameters differ by at most {gap:.2e}"
        )
        if not math.isclose(ours, theirs, rel_tol=1e-4) or gap > 1e-4:
            wrong.append(PEER_LABELS[name])
    if wrong:
        raise SystemExit(
            f"bench_vae.py: {', '.join(wrong)} does not compute what ours does "
            "(loss within 1e-4 relative, parameters within 1e-4 after one step)"
        )


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


def bench_step(train, peers, X_host, repeats, inner, sync, what, targets):
    """The step row (with the fraction of the matmul limit ours reaches) and the rates."""
    algorithm = train.algorithm
    counter = iter(range(1, 10**9))
    X = backend.asarray(X_host)
    fns = {"ours": lambda: algorithm.sgd_update(X, next(counter))}
    for name, peer in peers.items():
        fns[name] = functools.partial(peer.model.step, peer.to_array(X_host))
    products = matmul_reference(backend.xp(), X_host.shape[0])
    alternate(fns, 3, sync, inner, products)  # warm-up, compilations included
    times = alternate(fns, repeats, sync, inner, products)
    flops = step_flops(X_host.shape[0])
    rates = {n: flops / statistics.median(t) / 1e6 for n, t in times.items()}
    rates["matmul"] = rates.pop("extra")
    row = make_row(what, times, targets, kind="step")
    row["matmul_fraction"] = rates["ours"] / rates["matmul"]
    return row, rates


def peer_epoch(peer, X_peer, batch_size, rng):
    """One epoch of ``peer``'s step over shuffled batches of ``X_peer``."""
    n = X_peer.shape[0]
    order = peer.to_array(rng.permutation(n))
    for start in range(0, n - batch_size + 1, batch_size):
        peer.model.step(X_peer[order[start : start + batch_size]])


def bench_epoch(train, peers, repeats, sync, what):
    dataset, algorithm = train.dataset, train.algorithm
    X_train = numpy.ascontiguousarray(backend.to_host(dataset.X), dtype="float32")
    fns = {"ours": lambda: algorithm.train(dataset)}
    for name, peer in peers.items():
        fns[name] = functools.partial(
            peer_epoch,
            peer,
            peer.to_array(X_train),
            algorithm.batch_size,
            numpy.random.RandomState(0),
        )
    alternate(fns, 1, sync)
    return make_row(what, alternate(fns, repeats, sync), kind="epoch")


def bench_nll(model, peers, X_eval, k, chunk, repeats, sync, what, targets):
    X_dev = backend.asarray(X_eval)
    n = X_eval.shape[0]

    def ours():
        for start in range(0, n, chunk):
            backend.to_host(model.log_likelihood_approximation(X_dev[start : start + chunk], k))

    def theirs(peer, X_peer):
        for start in range(0, n, chunk):
            peer.to_host(peer.model.log_likelihood(X_peer[start : start + chunk], k))

    fns = {"ours": ours}
    means = [
        f"ours {backend.to_host(model.log_likelihood_approximation(X_dev[:chunk], k)).mean():.3f}"
    ]
    for name, peer in peers.items():
        X_peer = peer.to_array(X_eval)
        fns[name] = functools.partial(theirs, peer, X_peer)
        first = peer.first("nll", peer.model.log_likelihood, X_peer[:chunk], k)
        means.append(f"{PEER_LABELS[name]} {peer.to_host(first).mean():.3f}")
    print(
        f"check: IS log-likelihood of the first {chunk} digits, mean {', '.join(means)} "
        "(different noise)"
    )
    return make_row(what, alternate(fns, repeats, sync), targets, kind="nll")


def bench_monitor_share(train, repeats, sync):
    """Ours alone: a monitoring round of the main job over a training epoch."""
    train_epoch = functools.partial(train.algorithm.train, train.dataset)
    fns = {"ours": train.model.monitor, "training epoch": train_epoch}
    alternate(fns, 1, sync)
    return make_row(
        "monitoring round / training epoch (ours alone)",
        alternate(fns, repeats, sync),
        {"training epoch": TARGETS["monitor_share"]},
        kind="monitor_share",
    )


def main_job_epoch(who, repeats):
    """Milliseconds of ``repeats`` main-job epochs (training and monitoring) of ``who``.

    Run in its own process (``--main-job-epoch``) so each framework keeps its default
    threads: ``ours`` is ``algorithm.train(dataset)`` then ``train.model.monitor()``, as
    ``bin/train.py`` runs an epoch; ``eager`` is :meth:`TorchVAE.step` over the same 40
    shuffled batches, then the ELBO's three means under ``no_grad`` over the monitor's
    datasets at the monitor's batch size.
    """
    train = build_train()
    if who == "ours":
        retain_freed_memory()  # as bin/train.py does for its process
        algorithm, dataset = train.algorithm, train.dataset

        def epoch():
            algorithm.train(dataset)
            train.model.monitor()

    else:
        import torch

        twin = torch_twin(torch, train.model, train.algorithm, "cpu")
        X_train = torch.as_tensor(numpy.ascontiguousarray(backend.to_host(train.dataset.X)))
        batch_size = train.algorithm.batch_size
        monitored = [(torch.as_tensor(X), b) for X, b in monitor_batches(train)]
        generator = torch.Generator().manual_seed(0)

        def epoch():
            order = torch.randperm(X_train.shape[0], generator=generator)
            for start in range(0, X_train.shape[0] - batch_size + 1, batch_size):
                twin.step(X_train[order[start : start + batch_size]])
            for X, b in monitored:
                for start in range(0, X.shape[0], b):
                    twin.monitor(X[start : start + b])

    epoch()  # warm-up
    return [timed(epoch, lambda: None) for _ in range(repeats)]


def bench_busy_epoch(rounds, epochs, competing=True):
    """The main job's epoch, ours against PyTorch eager, beside a CPU-bound competitor
    (or, with ``competing`` False, on the machine as it is).

    Each side runs in a fresh subprocess with its framework's default threads; the
    subprocesses alternate (``rounds`` of each, rotating which goes first), each timing
    ``epochs`` epochs after a warm-up one; a round's value is its median.
    """
    competitor = None
    if competing:
        competitor = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    times = {"ours": [], "eager": []}
    try:
        for r in range(rounds):
            for who in (("ours", "eager"), ("eager", "ours"))[r % 2]:
                done = subprocess.run(
                    [
                        sys.executable,
                        str(Path(__file__).resolve()),
                        "--main-job-epoch",
                        who,
                        "--repeats",
                        str(epochs),
                        "--pause",
                        str(PAUSE),
                    ],
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                )
                if done.returncode:
                    raise SystemExit(
                        f"bench_vae.py: the {who} main-job epoch failed:\n{done.stderr[-2000:]}"
                    )
                times[who].append(statistics.median(json.loads(done.stdout.splitlines()[-1])))
    finally:
        if competitor is not None:
            competitor.kill()
            competitor.wait()
    if not competing:
        return make_row(
            "main job epoch (train + monitor)", times, kind="main_epoch", threads="default"
        )
    return make_row(
        "main job epoch (train + monitor) with a competing process",
        times,
        {"eager": TARGETS["busy_epoch"]},
        kind="busy_epoch",
        threads="default",
    )


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
    """cProfile of ``steps`` training steps, top functions by cumulative time (or by
    the ``pstats`` key in the environment variable ``PROFILE_SORT``)."""
    import cProfile
    import pstats

    algorithm = train.algorithm
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(steps):
        algorithm.sgd_update(X, i + 1)
    profiler.disable()
    order = os.environ.get("PROFILE_SORT", "cumulative")  # e.g. PROFILE_SORT=tottime
    pstats.Stats(profiler, stream=sys.stdout).sort_stats(order).print_stats(30)


# -- report ------------------------------------------------------------------------------
def describe_machine(device, threads, peers):
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
    versions = []
    if "eager" in peers or "compile" in peers:
        import torch

        versions.append(f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)")
    if "jax" in peers:
        import jax

        one = all(f in os.environ.get("XLA_FLAGS", "") for f in XLA_ONE_THREAD)
        versions.append(
            f"JAX {jax.__version__} ({'1 thread' if one else 'its default thread pool'})"
        )
    lines = [
        f"machine: {cpu}, {os.cpu_count()} logical CPUs, {platform.system()}; {busy}",
        f"python {platform.python_version()}, numpy {numpy.__version__} (BLAS: {threads.how}), "
        f"threads: {threads.count} (ours: BLAS and blocks = torch.set_num_threads); "
        f"ops: {'accelerated' if ops.registered() else 'reference only'}",
        "peers: " + (", ".join(versions) or "none measured"),
    ]
    if device == "gpu":
        card = backend.xp().cuda.runtime.getDeviceProperties(0)["name"]
        card = card.decode() if isinstance(card, bytes) else card
        fused = "on" if ops.registered() else "off (PYLEARN_VAE_REFERENCE=1)"
        lines.append(f"GPU (CuPy): {card}; fused kernels {fused}")
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="bench_vae.py",
        description="Our VAE against PyTorch eager, torch.compile and JAX jit: time and memory.",
    )
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument(
        "--peers",
        default=None,
        help=f"comma-separated peers among {','.join(PEERS)} (default: every one installed)",
    )
    parser.add_argument(
        "--isa",
        choices=("native", "avx2"),
        default="native",
        help="machine class: this CPU as it is, or imitating an AVX2 one (default native)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="repetitions of the step (default 30; 3 with --quick)",
    )
    parser.add_argument(
        "--nll-repeats",
        type=int,
        default=None,
        help="repetitions of the NLL evaluation (default 3; 1 with --quick)",
    )
    parser.add_argument(
        "--nll-digits",
        type=int,
        default=1000,
        help="test digits of the NLL evaluation (default 1000; 20 with --quick)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS, PyTorch (and with 1, XLA) threads (default: NumPy's BLAS setting)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run of a few seconds (tiny NLL, 1-epoch memory job)",
    )
    parser.add_argument("--no-torch", action="store_true", help="measure ours only (no peer)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument(
        "--no-main-job",
        action="store_true",
        help="skip the two main-job rows (competing process; monitoring share)",
    )
    parser.add_argument(
        "--retain-memory",
        action="store_true",
        help="keep freed memory for reuse in this process, as bin/train.py and "
        "bin/vae_nll.py do (pylearn_vae/accel/memory.py); every framework timed here "
        "gets it (default: glibc's defaults for all)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the rows to PATH as JSON")
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
    parser.add_argument(
        "--matrix",
        action="store_true",
        help="run {native, avx2} x {1, 2 threads} (benchmarks/matrix.py) and print one table",
    )
    parser.add_argument("--main-job-epoch", choices=("ours", "eager"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 30
    if args.nll_repeats is None:
        args.nll_repeats = 1 if args.quick else 3
    if args.pause is None:
        args.pause = 0.0 if args.quick else PAUSE
    for name in ("repeats", "nll_repeats", "nll_digits"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    if args.peers is not None:
        try:
            args.peers = parse_peers(args.peers)
        except ValueError as exc:
            parser.error(str(exc))
    if args.no_torch:
        args.peers = ()
    if args.device == "gpu" and args.isa != "native":
        parser.error("--isa avx2 imitates a CPU; it does not apply to --device gpu")
    return args


def main(argv=None):
    global PAUSE
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--matrix" in argv:  # its own options (--out) and checks: benchmarks/matrix.py
        from benchmarks import matrix

        return matrix.main([a for a in argv if a != "--matrix"])
    args = parse_args(argv)
    PAUSE = args.pause
    if args.main_job_epoch:  # a subprocess of bench_busy_epoch: default threads, no peers
        print(json.dumps(main_job_epoch(args.main_job_epoch, args.repeats)))
        return 0
    if os.environ.get(ISA_CHILD) != args.isa:
        return rerun_for_isa(args, argv)
    return run(args)


def rerun_for_isa(args, argv):
    """Run this benchmark again in a subprocess that imitates ``args.isa``; its status."""
    env = isa_environment(args.isa, os.environ, args.threads)
    # An empty TorchInductor cache: torch.compile's first call then includes its whole
    # compilation, and no kernel compiled for the other machine class is reused (one
    # compiled under native, reused under avx2, gave a loss of 4e22: check_peers
    # stopped the run).
    with tempfile.TemporaryDirectory(prefix=f"bench_vae_inductor_{args.isa}_") as cache:
        env["TORCHINDUCTOR_CACHE_DIR"] = cache
        command = [sys.executable, str(Path(__file__).resolve()), *argv]
        return subprocess.call(command, env=env)


def run(args):
    """Every measurement ``args`` asks for, in this process; prints the tables."""
    threads = Threads(args.threads)  # before torch is imported: NumPy's own BLAS
    # What bin/train.py and bin/vae_nll.py do for their process (pylearn_vae/accel/memory.py),
    # on request only: it is process-wide, so the peers timed here get it too, and
    # PyTorch's NLL gains more from it than ours (its temporaries fault more pages in).
    retained = args.retain_memory and retain_freed_memory()
    if args.device == "gpu":
        backend.set_device("gpu")
    train = build_train()
    X_train = numpy.ascontiguousarray(backend.to_host(train.dataset.X), dtype="float32")
    X_host = X_train[:200]
    if args.profile:
        profile_steps(train, backend.asarray(X_host), args.profile)
        return 0

    if args.no_torch:
        print("PyTorch: skipped (--no-torch); measuring ours only")
    peers = load_peers(args.peers, args.device, train.model, train.algorithm, threads)
    torch = sys.modules.get("torch")
    sync = make_sync(args.device)
    machine = describe_machine(args.device, threads, peers)
    machine.append(
        "malloc: freed memory retained for reuse (accel/memory.py), for every framework here"
        if retained
        else "malloc: glibc's defaults (freed big arrays go back to the system)"
    )
    if args.device == "cpu":
        machine.append(check_isa(args.isa, torch))
    print("\n".join(machine))
    if peers:
        check_peers(train, peers, X_host)

    rows, rates = step_rows(args, train, peers, X_train, sync, threads)
    epochs = 1 if args.quick else max(3, args.repeats // 8)
    device = args.device.upper()
    rows.append(
        bench_epoch(
            train, peers, epochs, sync, f"epoch, {device} (40 batches of 200, `SGD.train`)"
        )
    )
    rows.append(nll_row(args, train, peers, sync))
    if args.device == "cpu" and not args.no_main_job:
        rounds = 1 if args.quick else 3
        rows.append(bench_monitor_share(train, rounds, sync))
        if "eager" in peers:
            rows.append(bench_busy_epoch(rounds, 1, competing=False))
            rows.append(bench_busy_epoch(rounds, 1))

    first_calls = print_report(args, rows, rates, peers)
    if not args.no_memory:
        print_memory(args)
    if args.json:
        result = {
            "isa": args.isa,
            "device": args.device,
            "threads": threads.count,
            "machine": machine,
            "rows": rows,
            "rates": [{"batch": b, **r} for b, r in rates],
            "first_calls": first_calls,
        }
        Path(args.json).write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


def step_rows(args, train, peers, X_train, sync, threads):
    """The training-step rows (batch 200; on a GPU a big batch too) and their rates."""
    device, quick = args.device.upper(), args.quick
    inner = 2 if quick else 20
    rows, rates = [], []
    row, rate = bench_step(
        train,
        peers,
        X_train[:200],
        args.repeats,
        inner,
        sync,
        f"training step, {device}, batch 200",
        step_targets(args.device),
    )
    rows.append(row)
    rates.append((200, rate))
    if args.device == "gpu":
        big = numpy.resize(X_train, (2000 if quick else 20000, X_train.shape[1]))
        big = big.astype("float32")
        # A separate set of models, so the batch-200 parameters are not disturbed.
        big_train = build_train()
        big_peers = load_peers(tuple(peers), "gpu", big_train.model, big_train.algorithm, threads)
        row, rate = bench_step(
            big_train,
            big_peers,
            big,
            args.repeats,
            inner,
            sync,
            f"training step, GPU, batch {big.shape[0]:,}",
            step_targets(args.device),
        )
        rows.append(row)
        rates.append((big.shape[0], rate))
    return rows, rates


def nll_row(args, train, peers, sync):
    """The row of the importance-sampled NLL of the first test digits."""
    device = args.device.upper()
    k, n_eval = (20, 20) if args.quick else (1000, args.nll_digits)
    chunk = min(10 if args.device == "cpu" else 100, n_eval)
    X_test = backend.to_host(train.algorithm.monitoring_dataset["test"].X)
    X_eval = numpy.ascontiguousarray(X_test[:n_eval], dtype="float32")
    nll_targets = (
        {"eager": TARGETS["nll_cpu"], "fastest": TARGETS["fastest"]}
        if args.device == "cpu"
        else {}
    )
    return bench_nll(
        train.model,
        peers,
        X_eval,
        k,
        chunk,
        args.nll_repeats,
        sync,
        f"NLL k={k}, {n_eval:,} test digits, {device} ({chunk} per call)",
        nll_targets,
    )


def print_report(args, rows, rates, peers):
    """Print the table of ``rows``, the step's GFLOP/s and the peers' first calls (which
    it returns: ``{peer: {what: seconds}}``)."""
    print()
    print(markdown(ROW_HEADER, [row_cells(r) for r in rows]))
    print()
    for batch, rate in rates:
        measured = ", ".join(f"{n} {r:.1f}" for n, r in rate.items() if n != "matmul")
        print(
            f"GFLOP/s of the step at batch {batch:,} (matmul FLOPs, backward = 2x forward): "
            f"{measured}; {'CuPy' if args.device == 'gpu' else 'NumPy'} matmul on the same "
            f"shapes {rate['matmul']:.1f} (ours reaches {rate['ours'] / rate['matmul']:.0%})"
        )
    first_calls = {n: p.first_call for n, p in peers.items() if n != "eager"}
    for name, calls in first_calls.items():
        print(
            f"{PEER_LABELS[name]}: first call (compilation included, not in the timings): "
            + ", ".join(f"{what} {seconds:.1f} s" for what, seconds in calls.items())
        )
    return first_calls


def print_memory(args):
    """Measure and print the peak resident memory table."""
    quick = args.quick
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


if __name__ == "__main__":
    sys.exit(main())
