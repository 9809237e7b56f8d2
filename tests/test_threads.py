"""The CPU threads: the thread count (pylearn_vae.threads), the blocks the accelerated
formulas run in (pylearn_vae.accel.blocks), the tuner registry and the training loop's
ThreadTuner (pylearn_vae.accel.tuner). That the accelerated formulas give the same bits
on 1 and 2 threads is tested in tests/test_accel.py."""

import threading

import numpy as np
import pytest

from pylearn_vae import accel, op_registry, threads
from pylearn_vae.accel import blocks
from pylearn_vae.accel.tuner import ThreadTuner, matmul_probe
from pylearn_vae.costs.vae import VAECriterion
from pylearn_vae.datasets.dense_design_matrix import DenseDesignMatrix
from pylearn_vae.termination_criteria import EpochCounter
from pylearn_vae.testing.vae import make_vae
from pylearn_vae.train import Train
from pylearn_vae.training_algorithms.sgd import SGD

try:
    import threadpoolctl
except ImportError:  # pragma: no cover - threadpoolctl is optional
    threadpoolctl = None


def _blas_counts():
    if threadpoolctl is None:
        return []
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


@pytest.fixture(autouse=True)
def _restore_thread_state():
    """Every test leaves the process's thread count, fixed flag and BLAS as it found them."""
    saved = {key: threads._state[key] for key in ("threads", "fixed")}
    blas = _blas_counts()
    yield
    threads._state.update(saved)
    if blas:
        threadpoolctl.threadpool_limits(max(blas), user_api="blas")


@pytest.fixture
def free_threads(monkeypatch):
    """2 threads that the user did not fix (no environment variable, not set by hand)."""
    for name in threads.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # As a process that started with 2 threads (the suite itself runs fixed at 1).
    threads._apply(2)
    threads._state.update(default=2, fixed=False)
    assert not threads.user_fixed() and threads.get_num_threads() == 2


# -- blocks and for_blocks ---------------------------------------------------------------
@pytest.mark.parametrize(
    "shape, block_elements",
    [
        ((7,), 3),
        ((200, 784), 5000),
        ((1, 200, 784), 5000),
        ((1000, 10, 784), 100_000),
        ((3, 1, 5), 4),
        ((3, 1, 5), 1),
    ],
)
def test_blocks_cover_every_index_once_and_never_cut_the_last_axis(shape, block_elements):
    counts = np.zeros(shape, dtype=np.int64)
    indices = blocks.blocks(shape, block_elements)
    for index in indices:
        counts[index] += 1
        assert counts[index].shape[-1] == shape[-1]  # whole rows
    assert (counts == 1).all()
    if len(shape) > 1 and np.prod(shape) > block_elements:
        assert len(indices) > 1
        # each block holds about block_elements (at least one index of the cut axis)
        row = shape[-1] if shape[0] == 1 else int(np.prod(shape[1:]))
        assert all(counts[i].size <= max(block_elements, row) for i in indices)


def _row_sums_in_blocks(X, count, block_elements):
    out = np.full(X.shape[:-1], np.nan)
    calls = []

    def fn(index):
        calls.append(index)
        X[index].sum(axis=-1, out=out[index])

    with threads.limited(count):
        blocks.for_blocks(fn, X.shape, block_elements)
    return out, calls


@pytest.mark.parametrize("count", [1, 3])
@pytest.mark.parametrize("shape", [(500, 30), (40, 25, 30), (1, 500, 30)])
def test_for_blocks_gives_the_whole_array_result_and_runs_each_block_once(count, shape, rng):
    X = rng.randn(*shape)
    block_elements = 300  # 50 blocks: enough for 3 threads (PARALLEL_MIN_BLOCKS each)
    assert len(blocks.blocks(shape, block_elements)) >= 3 * blocks.PARALLEL_MIN_BLOCKS
    out, calls = _row_sums_in_blocks(X, count, block_elements)
    np.testing.assert_array_equal(out, X.sum(axis=-1))
    expected = blocks.blocks(shape, block_elements)
    assert len(calls) == len(expected)
    assert sorted(map(repr, calls)) == sorted(map(repr, expected))


@pytest.mark.parametrize("count", [1, 3])
@pytest.mark.parametrize("failing", [0, 17, 49])
def test_an_exception_in_a_block_is_raised_by_for_blocks(count, failing):
    indices = blocks.blocks((500, 30), 300)
    bad = indices[failing]

    def fn(index):
        if index == bad:
            raise ArithmeticError(f"block {failing}")

    with threads.limited(count), pytest.raises(ArithmeticError, match=f"block {failing}$"):
        blocks.for_blocks(fn, (500, 30), 300)


def test_blocks_run_on_this_thread_or_the_pools():
    names = set()
    lock = threading.Lock()

    def fn(index):
        with lock:
            names.add(threading.current_thread().name)

    with threads.limited(3):
        for _ in range(20):
            blocks.for_blocks(fn, (500, 30), 300)
    this = threading.current_thread().name
    assert names and all(n == this or n.startswith("pylearn_vae") for n in names)


# -- the thread count --------------------------------------------------------------------
@pytest.mark.parametrize("count", [0, -1, 2.5, True, "2", None])
def test_set_num_threads_rejects_what_is_not_a_positive_int(count):
    before = threads.get_num_threads()
    with pytest.raises(ValueError, match=r"set_num_threads: count must be an integer >= 1"):
        threads.set_num_threads(count)
    assert threads.get_num_threads() == before


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1.5"])
def test_a_bad_thread_variable_is_named_in_the_error(monkeypatch, value):
    for name in threads.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYLEARN_VAE_THREADS", value)
    threads._state["threads"] = None
    with pytest.raises(ValueError, match=rf"PYLEARN_VAE_THREADS={value!r}.*integer >= 1"):
        threads.get_num_threads()


@pytest.mark.parametrize("name", threads.THREAD_VARIABLES)
def test_a_thread_variable_fixes_the_count(monkeypatch, name):
    for other in threads.THREAD_VARIABLES:
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv(name, "1")
    threads._state["threads"] = None
    assert threads.get_num_threads() == 1
    assert threads.user_fixed()


def test_the_first_set_thread_variable_wins(monkeypatch):
    monkeypatch.setenv("PYLEARN_VAE_THREADS", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    threads._state["threads"] = None
    assert threads.get_num_threads() == 1


def test_without_variables_the_count_is_not_fixed(monkeypatch):
    for name in threads.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    threads._state["threads"] = None
    assert threads.get_num_threads() >= 1
    assert not threads.user_fixed()
    threads.set_num_threads(1, fixed=False)
    assert not threads.user_fixed()
    threads.set_num_threads(1)
    assert threads.user_fixed()


def test_limited_restores_the_count_and_the_fixed_flag(free_threads):
    with threads.limited(1):
        assert threads.get_num_threads() == 1 and threads.user_fixed()
        with threads.limited(3):
            assert threads.get_num_threads() == 3
        assert threads.get_num_threads() == 1 and threads.user_fixed()
    assert threads.get_num_threads() == 2 and not threads.user_fixed()
    with pytest.raises(KeyError), threads.limited(1):
        raise KeyError("inside")
    assert threads.get_num_threads() == 2 and not threads.user_fixed()


@pytest.mark.skipif(threadpoolctl is None or not _blas_counts(), reason="needs threadpoolctl")
def test_the_blas_follows_the_thread_count():
    threads.set_num_threads(1)
    assert _blas_counts() and set(_blas_counts()) == {1}
    threads.set_num_threads(2)
    assert set(_blas_counts()) == {2}
    with threads.limited(1):
        assert set(_blas_counts()) == {1}
    assert set(_blas_counts()) == {2}


# -- ThreadTuner --------------------------------------------------------------------------
class FakeProbe:
    """``probe(count)``: the seconds of ``times[count]``; records the counts it saw."""

    def __init__(self, times):
        self.times = times
        self.calls = []

    def __call__(self, count):
        assert threads.get_num_threads() == count  # the tuner set the count it times
        self.calls.append(count)
        return self.times[count]


ONE_FASTER = {1: 0.01, 2: 0.1}
TWO_FASTER = {1: 0.1, 2: 0.01}


def test_tuner_switches_to_one_thread_when_it_is_much_faster(free_threads):
    probe = FakeProbe(ONE_FASTER)
    tuner = ThreadTuner(probe=probe)
    assert tuner.active and tuner.settings == (2, 1) and tuner.current == 2
    tuner.start_epoch()
    assert probe.calls == [2, 1, 1, 2, 2, 1]  # three rounds, alternating which goes first
    assert tuner.current == 1 and threads.get_num_threads() == 1
    assert [c for c, _ in tuner.chosen] == [1] and tuner.interval == 1
    assert not threads.user_fixed()
    tuner.start_epoch()  # the choice changed, so the next epoch probes again
    assert [c for c, _ in tuner.chosen] == [1, 1] and tuner.interval == 2
    tuner.finish()  # training over: back to all the threads
    assert threads.get_num_threads() == 2


def test_tuner_keeps_all_threads_when_they_are_faster(free_threads):
    tuner = ThreadTuner(probe=FakeProbe(TWO_FASTER))
    tuner.start_epoch()
    assert tuner.current == 2 and threads.get_num_threads() == 2
    assert tuner.chosen == [(2, {2: 0.01, 1: 0.1})]


def test_tuner_needs_the_margin_to_switch(free_threads):
    probe = FakeProbe({1: 0.095, 2: 0.1})  # 5 % faster: not enough
    tuner = ThreadTuner(margin=0.1, probe=probe)
    tuner.start_epoch()
    assert tuner.current == 2
    tuner.start_epoch()  # no probe this epoch
    probe.times = {1: 0.085, 2: 0.1}  # 15 % faster
    tuner.start_epoch()
    assert tuner.current == 1 and [c for c, _ in tuner.chosen] == [2, 1]


def test_probe_interval_doubles_while_the_choice_holds_and_resets_when_it_changes(free_threads):
    probe = FakeProbe(TWO_FASTER)
    tuner = ThreadTuner(max_interval=8, probe=probe)
    probes = []
    for epoch in range(38):
        probe.times = TWO_FASTER if epoch < 30 else ONE_FASTER
        before = len(tuner.chosen)
        tuner.start_epoch()
        assert threads.get_num_threads() == tuner.current  # the epoch runs with the choice
        if len(tuner.chosen) > before:
            probes.append((epoch, tuner.current, tuner.interval))
    # (epoch of the probe, its choice, the interval to the next probe)
    assert probes == [
        (0, 2, 2),
        (2, 2, 4),
        (6, 2, 8),
        (14, 2, 8),  # at most max_interval
        (22, 2, 8),
        (30, 1, 1),  # one thread is faster now: switch, probe again next epoch
        (31, 1, 2),
        (33, 1, 4),
        (37, 1, 8),
    ]


def test_the_default_probe_times_matrix_products(free_threads):
    seconds = matmul_probe(8, width=16, repeats=2)
    assert 0 < seconds < 10


@pytest.mark.parametrize("how", ["environment", "set_num_threads", "disabled"])
def test_tuner_is_inactive_when_the_user_fixed_the_threads_or_disabled_it(monkeypatch, how):
    for name in threads.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    threads._state["threads"] = None
    if how == "environment":
        monkeypatch.setenv("PYLEARN_VAE_THREADS", "2")
        threads._state["threads"] = None
    elif how == "set_num_threads":
        threads.set_num_threads(2)
    else:
        threads.set_num_threads(2, fixed=False)
    probe = FakeProbe(ONE_FASTER)
    tuner = ThreadTuner(enabled=how != "disabled", probe=probe)
    assert not tuner.active
    for _ in range(4):
        tuner.start_epoch()
    assert tuner.chosen == [] and probe.calls == [] and threads.get_num_threads() == 2


def _train_tiny_vae(epochs, batches_per_epoch=10):
    rng = np.random.RandomState(0)
    X = (rng.uniform(size=(4 * batches_per_epoch, 6)) < 0.5).astype(float)
    vae = make_vae(nvis=6, nhid=3, hidden=5, seed=1)
    algorithm = SGD(
        0.01,
        cost=VAECriterion(num_samples=1),
        batch_size=4,
        termination_criterion=EpochCounter(max_epochs=epochs),
    )
    with pytest.warns(UserWarning, match="dataset has no yaml src"):
        train = Train(DenseDesignMatrix(X=X), vae, algorithm)
    train.main_loop()
    return algorithm


def test_training_tunes_between_all_threads_and_one(free_threads):
    algorithm = _train_tiny_vae(3)
    tuner = algorithm.thread_tuner
    assert tuner.active and tuner.settings == (2, 1)
    assert tuner.chosen and {c for c, _ in tuner.chosen} <= {1, 2}
    # training ended back at all the threads, and the user's choice is still open
    assert threads.get_num_threads() == 2 and not threads.user_fixed()


@pytest.mark.skipif(threads.available_cpus() < 2, reason="one CPU: nothing to tune")
def test_a_second_training_still_tunes_after_the_first_chose_one_thread(free_threads):
    # The first training's tuner found one thread faster and left the count at 1 (not
    # fixed by the user); the next training must still choose between all and one.
    first = ThreadTuner(probe=FakeProbe(ONE_FASTER))
    first.start_epoch()
    assert first.current == 1 and threads.get_num_threads() == 1 and not threads.user_fixed()
    second = ThreadTuner()
    assert second.active
    assert second.settings[0] > 1 and second.settings[1] == 1


# -- the tuner registry -------------------------------------------------------------------------
def test_without_a_registered_tuner_training_leaves_the_threads_alone(free_threads, monkeypatch):
    monkeypatch.setitem(threads._state, "tuner", None)
    fixed = threads.tuner(batch_size=10)
    assert type(fixed) is threads.FixedThreads
    fixed.start_epoch()
    fixed.finish()
    algorithm = _train_tiny_vae(2)
    assert type(algorithm.thread_tuner) is threads.FixedThreads
    assert threads.get_num_threads() == 2 and not threads.user_fixed()


def test_a_registered_tuner_is_built_with_the_batch_size_and_the_device(monkeypatch):
    made = []

    class Recording:
        def __init__(self, batch_size, enabled):
            made.append((batch_size, enabled))

    monkeypatch.setitem(threads._state, "tuner", None)
    threads.register_tuner(Recording)
    assert isinstance(threads.tuner(batch_size=7, enabled=False), Recording)
    assert made == [(7, False)]
    threads.register_tuner(None)
    assert type(threads.tuner(batch_size=7)) is threads.FixedThreads


def test_the_accelerated_package_registers_the_thread_tuner(monkeypatch):
    monkeypatch.setattr(op_registry, "_FASTER", dict(op_registry._FASTER))
    monkeypatch.setitem(threads._state, "tuner", None)
    accel.install()
    assert type(threads.tuner(batch_size=7)) is ThreadTuner
