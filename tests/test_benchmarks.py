"""benchmarks/bench_vae.py and matrix.py: smoke runs print the tables; sums, checks, assembly."""

import json
import os
import re
import subprocess
import sys

import numpy
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:  # benchmarks/ is beside tests/, not an installed package
    sys.path.insert(0, REPO)

from benchmarks import bench_vae, matrix  # noqa: E402
from pylearn_vae.testing.vae import make_tutorial_vae  # noqa: E402


@pytest.mark.slow
def test_quick_run_without_torch_prints_the_tables():
    done = subprocess.run(
        [sys.executable, "benchmarks/bench_vae.py", "--quick", "--no-torch", "--threads", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "PyTorch: skipped (--no-torch); measuring ours only" in out
    assert "machine class: native;" in out
    assert "| " + " | ".join(bench_vae.ROW_HEADER) + " |" in out
    for what in ("training step, CPU, batch 200", "epoch, CPU", "NLL k=20, 20 test digits"):
        row = re.search(
            r"^\| " + re.escape(what) + r"[^|]*\| ([0-9.]+) \| — \| — \| — \|", out, re.M
        )
        assert row, f"no row {what!r} in:\n{out}"
        assert float(row.group(1)) > 0
    share = re.search(
        r"^\| monitoring round / training epoch .* ≤ 0.5 \(([0-9.]+)\) \|", out, re.M
    )
    assert share and float(share.group(1)) > 0, out
    assert "with a competing process" not in out  # needs PyTorch eager
    assert re.search(r"GFLOP/s of the step at batch 200 .*: ours [0-9.]+; NumPy matmul", out)
    memory = re.search(r"^\| main job: .* \| ([0-9]+) \| ≤ 400 \| (yes|no) \|$", out, re.M)
    assert memory and 20 < int(memory.group(1)) < 5000, out


@pytest.mark.slow
def test_quick_run_with_the_installed_peers_checks_and_times_each(tmp_path):
    peers = [n for n, module in (("eager", "torch"), ("jax", "jax")) if _installed(module)]
    if not peers:
        pytest.skip("neither PyTorch nor JAX is installed")
    result = tmp_path / "rows.json"
    command = [sys.executable, "benchmarks/bench_vae.py", "--quick", "--no-memory"]
    command += ["--threads", "1", "--peers", ",".join(peers), "--json", str(result)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in peers:
        label = bench_vae.PEER_LABELS[name]
        assert re.search(rf"^check: loss ours [0-9.]+, {label} [0-9.]+;", done.stdout, re.M)
    rows = {row["kind"]: row for row in json.loads(result.read_text())["rows"]}
    for kind in ("step", "epoch", "nll"):
        assert sorted(rows[kind]["others"]) == sorted(peers)
        assert all(t > 0 for t in rows[kind]["others"].values())
        assert rows[kind]["ratios"]["fastest"] > 0
    assert 0 < rows["step"]["matmul_fraction"]
    if "eager" in peers:  # ours against PyTorch eager, each in its own process
        for kind in ("main_epoch", "busy_epoch"):
            assert rows[kind]["threads"] == "default"
            assert set(rows[kind]["others"]) == {"eager"}


def _installed(module):
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def test_peers_option_names_the_unknown_peer(capsys):
    with pytest.raises(SystemExit):
        bench_vae.parse_args(["--peers", "eager,tensorflow"])
    err = capsys.readouterr().err
    assert "unknown peer 'tensorflow'" in err and "eager, compile, jax" in err
    assert bench_vae.parse_args(["--peers", "jax, eager"]).peers == ("jax", "eager")
    assert bench_vae.parse_args(["--peers", "jax", "--no-torch"]).peers == ()


def test_step_flops_counts_the_weight_products_of_the_tutorial_model():
    # The products come from the model itself: bench_vae.LAYERS must match its weights.
    weights = [p for p in make_tutorial_vae().get_params() if p.name.endswith("_W")]
    assert len(weights) == 6
    for batch in (1, 200):
        # One x @ W forward; g @ W.T and x.T @ g backward: 3 products of 2*B*in*out FLOPs.
        expected = 3 * sum(2 * batch * w.shape[0] * w.shape[1] for w in weights)
        assert bench_vae.step_flops(batch) == expected


def test_row_reports_the_median_of_pairwise_ratios_and_the_targets():
    # Ratios to eager 1/3, 2, 1.5: median 1.5 (the ratio of the medians 2 / 2 would be 1).
    # Fastest peer per repetition: 2, 1, 2 -> ratios 0.5, 2, 1.5, median 1.5.
    times = {"ours": [1.0, 2.0, 3.0], "eager": [3.0, 1.0, 2.0], "jax": [2.0, 4.0, 2.0]}
    row = bench_vae.make_row("x", times, {"eager": 0.9, "fastest": 1.0}, kind="step")
    assert (row["ours"], row["others"]) == (2.0, {"eager": 2.0, "jax": 2.0})
    assert row["ratios"] == {"eager": 1.5, "jax": 0.5, "fastest": 1.5}  # jax: 0.5, 0.5, 1.5
    assert row["met"] == {"eager": False, "fastest": False}
    row["matmul_fraction"] = 0.5
    assert bench_vae.row_cells(row) == [
        "x", "2.00", "2.00", "—", "2.00 (0.50)", "1.50", "1.50 (of eager, jax)", "50%",
        "ours/eager ≤ 0.9; ours/fastest ≤ 1.0", "no / no",
    ]  # fmt: skip
    row = bench_vae.make_row("x", {"ours": [1.0, 1.0], "eager": [2.0, 2.0]}, {"eager": 0.9})
    assert bench_vae.row_cells(row)[-5:] == [
        "0.50",
        "0.50 (of eager)",
        "—",
        "ours/eager ≤ 0.9",
        "yes",
    ]
    alone = bench_vae.make_row("x", {"ours": [1.0], "eager": []}, {"eager": 0.9})
    assert bench_vae.row_cells(alone) == [
        "x",
        "1.00",
        "—",
        "—",
        "—",
        "—",
        "—",
        "—",
        "ours/eager ≤ 0.9",
        "—",
    ]
    # A reference that is not a peer: its ratio is shown beside its target.
    share = bench_vae.make_row(
        "m", {"ours": [1.0, 3.0], "training epoch": [4.0, 4.0]}, {"training epoch": 0.5}
    )
    assert "fastest" not in share["ratios"]
    assert bench_vae.row_cells(share)[-2:] == ["ours/training epoch ≤ 0.5 (0.50)", "yes"]


def test_alternate_rotates_which_function_goes_first(monkeypatch):
    calls = []
    monkeypatch.setattr(bench_vae, "PAUSE", 0.0)
    fns = {name: (lambda name=name: calls.append(name)) for name in ("ours", "eager", "jax")}
    times = bench_vae.alternate(fns, 3, lambda: None, extra=lambda: calls.append("extra"))
    assert calls == [
        "ours", "eager", "jax", "extra",
        "eager", "jax", "ours", "extra",
        "jax", "ours", "eager", "extra",
    ]  # fmt: skip
    assert {n: len(t) for n, t in times.items()} == {"ours": 3, "eager": 3, "jax": 3, "extra": 3}


AVX2_INFO = {
    "numpy_features": ["AVX2", "X86_V2", "X86_V3"],
    "openblas_architectures": ["Haswell"],
    "torch_capability": "AVX2",
}


def test_avx2_check_accepts_an_imitation_that_took():
    assert bench_vae.isa_problems("avx2", AVX2_INFO) == []
    assert bench_vae.isa_problems("avx2", dict(AVX2_INFO, torch_capability=None)) == []
    native = dict(AVX2_INFO, numpy_features=["X86_V4"], openblas_architectures=["SkylakeX"])
    assert bench_vae.isa_problems("native", native) == []


def test_avx2_check_names_what_did_not_take(monkeypatch):
    info = {
        "numpy_features": ["AVX512F", "X86_V3", "X86_V4"],
        "openblas_architectures": ["SkylakeX"],
        "torch_capability": "AVX512",
    }
    problems = bench_vae.isa_problems("avx2", info)
    assert len(problems) == 3
    assert "NumPy still finds X86_V4" in problems[0] and "NPY_DISABLE_CPU_FEATURES" in problems[0]
    assert "SkylakeX" in problems[1] and "OPENBLAS_CORETYPE=Haswell" in problems[1]
    assert "AVX512, not AVX2" in problems[2] and "ATEN_CPU_CAPABILITY" in problems[2]
    missing = bench_vae.isa_problems("avx2", dict(AVX2_INFO, openblas_architectures=None))
    assert missing == ["OpenBLAS's kernels cannot be read: threadpoolctl is not installed"]
    # check_isa refuses to run, naming only what did not take.
    monkeypatch.setattr(
        bench_vae, "runtime_info", lambda torch: dict(AVX2_INFO, torch_capability="AVX512")
    )
    with pytest.raises(
        SystemExit,
        match=r"--isa avx2: the imitation did not take.*PyTorch's CPU capability is AVX512",
    ) as stop:
        bench_vae.check_isa("avx2", None)
    assert "NumPy" not in str(stop.value) and "OpenBLAS" not in str(stop.value)


def test_isa_environment_sets_or_unsets_the_machine_class():
    base = {
        "OPENBLAS_CORETYPE": "Haswell",
        "OPENBLAS_L2_SIZE": "1",
        "XLA_FLAGS": "--xla_dump_to=x",
        "PATH": "p",
    }
    native = bench_vae.isa_environment("native", base)
    assert native == {"XLA_FLAGS": "--xla_dump_to=x", "PATH": "p", bench_vae.ISA_CHILD: "native"}
    avx2 = bench_vae.isa_environment("avx2", base, threads=1)
    assert {k: avx2[k] for k in bench_vae.AVX2_ENV} == bench_vae.AVX2_ENV
    assert avx2["XLA_FLAGS"].split() == [
        "--xla_dump_to=x", "--xla_cpu_max_isa=AVX2",
        "--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1",
    ]  # fmt: skip
    # Run again from the child's environment: the flags are not repeated; native clears them.
    assert bench_vae.isa_environment("avx2", avx2, threads=1)["XLA_FLAGS"] == avx2["XLA_FLAGS"]
    assert "XLA_FLAGS" not in bench_vae.isa_environment(
        "native", {"XLA_FLAGS": avx2["XLA_FLAGS"].split(" ", 1)[1]}
    )


def _fake_result(isa, threads, ours):
    step = bench_vae.make_row(
        "training step, CPU, batch 200",
        {"ours": [ours], "eager": [4.0], "compile": [5.0], "jax": [3.0]},
        {"eager": 0.9, "fastest": 1.0},
        kind="step",
    )
    step["matmul_fraction"] = 0.25
    busy = bench_vae.make_row(
        "main job epoch", {"ours": [2.0], "eager": [2.5]}, {"eager": 1.0}, threads="default"
    )
    return {
        "isa": isa,
        "threads": threads,
        "machine": ["m"],
        "first_calls": {},
        "rows": [step, busy],
    }


def test_matrix_combines_the_json_rows_into_one_table():
    results = [json.loads(json.dumps(_fake_result(i, t, 3.0 * t))) for i, t in matrix.CONFIGS]
    lines = matrix.combine(results).splitlines()
    assert lines[0] == "| machine class | threads | " + " | ".join(bench_vae.ROW_HEADER) + " |"
    assert len(lines) == 2 + 2 * len(matrix.CONFIGS)
    assert lines[2] == (
        "| native | 1 | training step, CPU, batch 200 | 3.00 | 4.00 | 5.00 (0.60) | 3.00 (1.00) "
        "| 0.75 | 1.00 "
        "| 25% | ours/eager ≤ 0.9; ours/fastest ≤ 1.0 | yes / yes |"
    )
    assert lines[3] == (
        "| native | default | main job epoch | 2.00 | 2.50 | — | — | 0.80 | 0.80 (of eager) | — "
        "| ours/eager ≤ 1.0 | yes |"
    )
    assert lines[-2].startswith("| avx2 | 2 | training step, CPU, batch 200 | 6.00 |")
    assert lines[-2].endswith(
        "| 1.50 | 2.00 | 25% | ours/eager ≤ 0.9; ours/fastest ≤ 1.0 | no / no |"
    )


def test_matrix_commands_and_reserved_options(tmp_path):
    one = matrix.bench_command("avx2", 1, tmp_path / "a.json", ["--peers", "eager"])
    assert one[2:] == [
        "--isa", "avx2", "--threads", "1", "--json", str(tmp_path / "a.json"), "--no-memory",
        "--no-main-job", "--repeats", "15", "--nll-repeats", "3", "--peers", "eager",
    ]  # fmt: skip
    two = matrix.bench_command("native", 2, tmp_path / "b.json", ["--repeats=5", "--quick"])
    assert "--no-main-job" not in two and two[-2:] == ["--repeats=5", "--quick"]
    assert "--nll-repeats" not in two
    with pytest.raises(SystemExit, match="--threads=2 is set by the matrix"):
        matrix.check_passed(["--quick", "--threads=2"])


@pytest.mark.parametrize("name", ["eager", "jax"])
def test_each_peer_computes_our_loss_and_update(name):
    pytest.importorskip("jax" if name == "jax" else "torch")
    train = bench_vae.build_train()
    threads = bench_vae.Threads()
    peers = bench_vae.load_peers((name,), "cpu", train.model, train.algorithm, threads)
    X = numpy.ascontiguousarray(train.dataset.X[:50])
    # Raises SystemExit when the loss or the updated parameters differ.
    bench_vae.check_peers(train, peers, X)
    peer = peers[name]
    peer.model.step(peer.to_array(X))  # a second step with its own noise
    assert all(numpy.isfinite(v).all() for v in peer.host_params().values())
    assert numpy.isfinite(peer.to_host(peer.model.log_likelihood(peer.to_array(X[:3]), 5))).all()


def test_check_peers_stops_naming_the_peer_that_differs():
    pytest.importorskip("torch")
    train = bench_vae.build_train()
    peers = bench_vae.load_peers(
        ("eager",), "cpu", train.model, train.algorithm, bench_vae.Threads()
    )
    with numpy.errstate(all="ignore"):
        peers["eager"].model.params["conditional_mu_b"].data += 0.5
    with pytest.raises(SystemExit, match="PyTorch eager does not compute what ours does"):
        bench_vae.check_peers(train, peers, numpy.ascontiguousarray(train.dataset.X[:20]))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.compile's own imports
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_compiled_torch_peer_computes_our_loss_and_update():
    pytest.importorskip("torch")
    train = bench_vae.build_train()
    peers = bench_vae.load_peers(
        ("compile",), "cpu", train.model, train.algorithm, bench_vae.Threads()
    )
    bench_vae.check_peers(train, peers, numpy.ascontiguousarray(train.dataset.X[:50]))
    assert peers["compile"].first_call["step"] > 0


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
    unfused = int(totals["ours, reference ops only (PYLEARN_VAE_REFERENCE=1)"])
    assert unfused > 100  # 17 matrix products alone, and every elementwise step
    assert re.search(r"^\s+17  cupy\.dot$", done.stdout, re.M)
    if "ours, fused kernels" in totals:
        assert int(totals["ours, fused kernels"]) < unfused / 1.5
        assert re.search(r"^\s+14  fused pylearn_vae_momentum$", done.stdout, re.M)
