"""benchmarks/bench_vae.py: its smoke mode runs and prints the tables; its sums are right."""

import os
import re
import subprocess
import sys

import numpy
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:  # benchmarks/ is beside tests/, not an installed package
    sys.path.insert(0, REPO)

from benchmarks import bench_vae  # noqa: E402
from pylearn_vae.testing.vae import make_tutorial_vae  # noqa: E402


@pytest.mark.slow
def test_quick_run_without_torch_prints_the_tables():
    done = subprocess.run(
        [sys.executable, "benchmarks/bench_vae.py", "--quick", "--no-torch", "--threads", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "PyTorch: skipped (--no-torch)" in out
    assert (
        "| what | ours (ms) | PyTorch (ms) | ratio ours/PyTorch (median) | target | met? |" in out
    )
    for what in ("training step, CPU, batch 200", "epoch, CPU", "NLL k=20, 20 test digits"):
        row = re.search(r"^\| " + re.escape(what) + r".*\| ([0-9.]+) \| — \| — \|", out, re.M)
        assert row, f"no row {what!r} in:\n{out}"
        assert float(row.group(1)) > 0
    assert re.search(r"GFLOP/s of the step at batch 200 .*: ours [0-9.]+; NumPy matmul", out)
    memory = re.search(r"^\| main job: .* \| ([0-9]+) \| ≤ 400 \| (yes|no) \|$", out, re.M)
    assert memory and 20 < int(memory.group(1)) < 5000, out


def test_step_flops_counts_the_weight_products_of_the_tutorial_model():
    # The products come from the model itself: bench_vae.LAYERS must match its weights.
    weights = [p for p in make_tutorial_vae().get_params() if p.name.endswith("_W")]
    assert len(weights) == 6
    for batch in (1, 200):
        # One x @ W forward; g @ W.T and x.T @ g backward: 3 products of 2*B*in*out FLOPs.
        expected = 3 * sum(2 * batch * w.shape[0] * w.shape[1] for w in weights)
        assert bench_vae.step_flops(batch) == expected


def test_row_reports_the_median_of_pairwise_ratios_and_the_target():
    # Ratios 1/3, 2, 1.5: their median is 1.5, the ratio of the medians 2 / 2 = 1.
    row = bench_vae.Row("x", {"ours": [1.0, 2.0, 3.0], "theirs": [3.0, 1.0, 2.0]}, target=0.9)
    assert (row.ours, row.theirs, row.ratio) == (2.0, 2.0, 1.5)
    assert row.cells() == ["x", "2.00", "2.00", "1.50", "≤ 0.9", "no"]
    row = bench_vae.Row("x", {"ours": [1.0, 1.0], "theirs": [2.0, 2.0]}, target=0.9)
    assert row.cells()[-3:] == ["0.50", "≤ 0.9", "yes"]
    without_torch = bench_vae.Row("x", {"ours": [1.0], "theirs": []}, target=0.9)
    assert without_torch.cells() == ["x", "1.00", "—", "—", "≤ 0.9", "—"]


def test_torch_twin_computes_our_loss_and_update():
    torch = pytest.importorskip("torch")
    train = bench_vae.build_train()
    twin = bench_vae.torch_twin(torch, train.model, train.algorithm, "cpu")
    X = numpy.ascontiguousarray(train.dataset.X[:50])
    # Raises SystemExit when the loss or the updated parameters differ.
    bench_vae.check_twins(torch, train, twin, X, torch.as_tensor(X))
    twin.step(torch.as_tensor(X))  # a second step with its own noise
    assert all(torch.isfinite(p).all() for p in twin.params.values())


@pytest.mark.slow
def test_count_ops_counts_fewer_launches_with_the_fused_kernels():
    done = subprocess.run(
        [sys.executable, "benchmarks/count_ops.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    totals = dict(re.findall(r"^(ours, [^:]+|PyTorch[^:]*): (\d+)$", done.stdout, re.M))
    unfused = int(totals["ours, array operations only (PYLEARN_VAE_FUSED=0)"])
    assert unfused > 100  # 17 matrix products alone, and every elementwise step
    assert re.search(r"^\s+17  cupy\.dot$", done.stdout, re.M)
    if "ours, fused kernels" in totals:
        assert int(totals["ours, fused kernels"]) < unfused / 1.5
        assert re.search(r"^\s+14  fused pylearn_vae_momentum$", done.stdout, re.M)
