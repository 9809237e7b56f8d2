"""The 'gpu' device end to end on a NumPy-backed stand-in for CuPy (tests/fake_cupy.py).

Every computation runs through the backend's GPU branch -- the GPU registrations of
pylearn_vae.accel, their fused kernels compiled for the host -- and must give the CPU's
numbers on the same noise; arrays must stay "on the device" (FakeGPUArray) from the
parameters to the gradients; a model saved on the device loads on the CPU. The
``fake_gpu`` fixture is in ``tests/conftest.py``.
"""

import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
from fake_cupy import FakeGPUArray
from host_kernels import compiler

from pylearn_vae import backend
from pylearn_vae.accel import kernels
from pylearn_vae.config import yaml_parse
from pylearn_vae.costs.vae import ImportanceSamplingCriterion, VAECriterion
from pylearn_vae.testing.learning_rule import momentum_on_each_device
from pylearn_vae.testing.vae import make_vae
from pylearn_vae.utils import serial

REPO = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "yaml_examples"


class FixedNoise:
    """Noise streams that give the same numbers on every device."""

    def __init__(self, seed):
        self.rng = np.random.RandomState(seed)

    def normal(self, shape, dtype=None):
        return backend.asarray(self.rng.standard_normal(shape), dtype=dtype)

    def uniform(self, shape, dtype=None):
        return backend.asarray(self.rng.uniform(size=shape), dtype=dtype)


def _criteria_and_gradients(device, X):
    backend.set_device(device)
    vae = make_vae()
    for seed, part in enumerate((vae.prior, vae.conditional, vae.posterior)):
        part.noise = FixedNoise(seed)
    X = backend.asarray(X)
    out = {}
    for cost in (VAECriterion(num_samples=3), ImportanceSamplingCriterion(num_samples=3)):
        value, grads, _ = cost.get_value_and_gradients(vae, X)
        out[type(cost).__name__] = (value, grads)
    return vae, out


def test_both_criteria_and_gradients_match_the_cpu_and_stay_on_the_device(fake_gpu):
    X = (np.random.RandomState(5).uniform(size=(7, 6)) < 0.5) * 1.0
    _, on_cpu = _criteria_and_gradients("cpu", X)
    vae, on_gpu = _criteria_and_gradients("gpu", X)
    assert_same_on_the_device(vae, on_gpu, on_cpu)


def assert_same_on_the_device(vae, on_gpu, on_cpu, rtol=1e-12, grad_rtol=1e-9):
    """The parameters and every criterion's gradients are device arrays, and the values
    and gradients are the CPU's (``{criterion: (value, gradients)}`` on each side)."""
    assert {type(p.get_value(borrow=True)) for p in vae.get_params()} == {FakeGPUArray}
    for name, (value, grads) in on_gpu.items():
        cpu_value, cpu_grads = on_cpu[name]
        np.testing.assert_allclose(backend.to_host(value), cpu_value, rtol=rtol)
        for (param, grad), cpu_grad in zip(grads.items(), cpu_grads.values(), strict=True):
            assert type(grad) is FakeGPUArray, (name, param.name, type(grad))
            np.testing.assert_allclose(
                backend.to_host(grad), cpu_grad, rtol=grad_rtol, atol=1e-12
            )


def test_random_streams_on_the_device(fake_gpu):
    backend.set_device("gpu")
    streams = backend.RandomStreams(3)
    normal, uniform = streams.normal((4, 5)), streams.uniform((6,))
    assert type(normal) is FakeGPUArray and normal.dtype == np.float64
    assert type(uniform) is FakeGPUArray and ((uniform >= 0) & (uniform < 1)).all()


def test_a_yaml_trains_on_the_device_and_its_model_loads_on_the_cpu(fake_gpu, tmp_path):
    backend.set_device("gpu")
    text = (EXAMPLES / "test_vae_cost_vae_criterion.yaml").read_text()
    train = yaml_parse.load(text)
    train.main_loop()
    objective = train.model.monitor.channels["train_objective"].val_record
    assert len(objective) == 3 and np.isfinite(objective).all()
    assert type(train.model.get_params()[0].get_value(borrow=True)) is FakeGPUArray
    serial.save(str(tmp_path / "model.pkl"), train.model)
    backend.set_device("cpu")
    model = serial.load(str(tmp_path / "model.pkl"))  # safe loading: no --trust needed
    assert {type(p.get_value(borrow=True)) for p in model.get_params()} == {np.ndarray}


def test_many_scalars_come_back_in_one_read(fake_gpu):
    backend.set_device("gpu")
    on_device = [backend.asarray(v, dtype=d) for v, d in ((1.5, "float32"), (-2.25, "float64"))]
    values = [on_device[0], 3, np.float32(0.5), on_device[1], np.array(7.0)]
    FakeGPUArray.reads = 0
    assert backend.scalars_to_host(values) == [1.5, 3.0, 0.5, -2.25, 7.0]
    assert FakeGPUArray.reads == 1
    assert backend.scalars_to_host([2, np.float64(1.0)]) == [2.0, 1.0]
    assert FakeGPUArray.reads == 1  # nothing on the device: nothing to wait for


def test_a_monitoring_step_reads_the_device_once(fake_gpu):
    """Every channel of every dataset and batch comes back in one transfer."""
    backend.set_device("gpu")
    text = (EXAMPLES / "test_vae_cost_vae_criterion.yaml").read_text()
    train = yaml_parse.load(text)
    train.main_loop()
    monitor = train.model.monitor
    train.model.set_noise_seed(11)
    monitor()
    first = {name: c.val_record[-1] for name, c in monitor.channels.items()}
    train.model.set_noise_seed(11)
    FakeGPUArray.reads = 0
    monitor()
    assert FakeGPUArray.reads == 1
    assert len(first) > 10
    # Same parameters, same noise: the same numbers, each a plain float.
    for name, channel in monitor.channels.items():
        assert type(channel.val_record[-1]) is float
        assert channel.val_record[-1] == first[name], name


def test_a_training_epoch_reads_the_device_once_per_batch(fake_gpu):
    """The cost's finiteness check per step, and one read per parameter check."""
    backend.set_device("gpu")
    train = yaml_parse.load((EXAMPLES / "test_vae_cost_vae_criterion.yaml").read_text())
    train.setup()
    algorithm = train.algorithm
    batches = -(-train.dataset.X.shape[0] // algorithm.batch_size)
    FakeGPUArray.reads = 0
    algorithm.train(train.dataset)
    assert FakeGPUArray.reads == batches + 2  # + the checks before and after the epoch


def _run_with_the_stand_in(*command):
    """``command`` in a subprocess whose ``import cupy`` gives the stand-in."""
    shim = str(REPO / "tests" / "cupy_shim")
    path = os.pathsep.join(filter(None, [shim, str(REPO), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, *command],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return done.stdout


@pytest.mark.slow
def test_the_gpu_tests_pass_on_the_stand_in_with_the_fused_kernels():
    """tests/test_gpu.py's accelerated half: the GPU registrations, their CUDA kernels
    compiled for the host, match NumPy.

    The reference half is left out: on the stand-in it would compare NumPy with NumPy.
    """
    if compiler() is None:
        pytest.skip("no C++ compiler: the stand-in cannot build the fused kernels")
    out = _run_with_the_stand_in(
        "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "gpu", "-k", "accelerated",
        "tests/test_gpu.py",
    )  # fmt: skip
    summary = out.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and "skipped" not in summary and "failed" not in summary, out
    assert int(passed.group(1)) >= 20, out  # every test once, with the fused kernels


@pytest.mark.slow
def test_the_gpu_benchmark_measures_every_row_on_the_stand_in():
    out = _run_with_the_stand_in(
        "benchmarks/bench_vae.py", "--device", "gpu", "--quick", "--no-torch", "--no-memory"
    )
    assert "GPU (CuPy): NumPy stand-in (tests/fake_cupy.py)" in out
    for what in ("training step, GPU, batch 200 ", "training step, GPU, batch 2,000 ", "NLL k=20"):
        row = re.search(r"^\| " + re.escape(what) + r"[^|]*\| ([0-9.]+) \| — \|", out, re.M)
        assert row and float(row.group(1)) > 0, out
    rates = re.findall(
        r"^GFLOP/s .*: ours ([0-9.]+); CuPy matmul on the same shapes ([0-9.]+) "
        r"\(ours reaches (\d+)%\)$",
        out,
        re.M,
    )
    assert len(rates) == 2, out  # batch 200 and batch 2,000
    for ours, matmul, percent in rates:
        ours, matmul = float(ours), float(matmul)  # each rounded to 0.1
        assert ours > 0 and matmul > 0, out
        # The percentage is ours / matmul before rounding: within what rounding allows.
        low = 100 * max(ours - 0.05, 0) / (matmul + 0.05) - 0.5
        high = 100 * (ours + 0.05) / max(matmul - 0.05, 1e-9) + 0.5
        assert low <= int(percent) <= high, out


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_steps_match_the_cpu(fake_gpu, nesterov):
    """Three Momentum steps: the fused kernel on the device, array operations on the CPU."""
    results = momentum_on_each_device(("cpu", "gpu"), nesterov)
    for on_gpu, on_cpu in zip(results["gpu"], results["cpu"], strict=True):
        assert type(on_gpu) is FakeGPUArray
        np.testing.assert_allclose(backend.to_host(on_gpu), on_cpu, rtol=1e-12)


def test_the_device_path_uses_the_fused_kernels(fake_gpu):
    if compiler() is None:
        pytest.skip("no C++ compiler: the stand-in runs the reference formulas")
    backend.set_device("gpu")
    _criteria_and_gradients("gpu", np.ones((3, 6)))
    train = yaml_parse.load((EXAMPLES / "test_vae_cost_vae_criterion.yaml").read_text())
    train.main_loop()
    used = {name for name, _ in kernels._built}
    assert used >= {
        "bernoulli_log_likelihood",
        "bernoulli_log_likelihood_logits_grad",
        "gaussian_log_density",
        "reparametrize",
        "diagonal_gaussian_kl",
        "diagonal_gaussian_kl_grad",
    }
