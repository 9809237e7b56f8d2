"""pylearn_vae.threads: blocks, the thread count, the blocked Bernoulli and softplus
formulas against float64 references, and the training loop's ThreadTuner."""

import threading

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from pylearn_vae import backend, threads
from pylearn_vae import primitives as P
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
    indices = threads.blocks(shape, block_elements)
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
        threads.for_blocks(fn, X.shape, block_elements)
    return out, calls


@pytest.mark.parametrize("count", [1, 3])
@pytest.mark.parametrize("shape", [(500, 30), (40, 25, 30), (1, 500, 30)])
def test_for_blocks_gives_the_whole_array_result_and_runs_each_block_once(count, shape, rng):
    X = rng.randn(*shape)
    block_elements = 300  # 50 blocks: enough for 3 threads (PARALLEL_MIN_BLOCKS each)
    assert len(threads.blocks(shape, block_elements)) >= 3 * threads.PARALLEL_MIN_BLOCKS
    out, calls = _row_sums_in_blocks(X, count, block_elements)
    np.testing.assert_array_equal(out, X.sum(axis=-1))
    expected = threads.blocks(shape, block_elements)
    assert len(calls) == len(expected)
    assert sorted(map(repr, calls)) == sorted(map(repr, expected))


@pytest.mark.parametrize("count", [1, 3])
@pytest.mark.parametrize("failing", [0, 17, 49])
def test_an_exception_in_a_block_is_raised_by_for_blocks(count, failing):
    indices = threads.blocks((500, 30), 300)
    bad = indices[failing]

    def fn(index):
        if index == bad:
            raise ArithmeticError(f"block {failing}")

    with threads.limited(count), pytest.raises(ArithmeticError, match=f"block {failing}$"):
        threads.for_blocks(fn, (500, 30), 300)


def test_blocks_run_on_this_thread_or_the_pools():
    names = set()
    lock = threading.Lock()

    def fn(index):
        with lock:
            names.add(threading.current_thread().name)

    with threads.limited(3):
        for _ in range(20):
            threads.for_blocks(fn, (500, 30), 300)
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


# -- softplus ------------------------------------------------------------------------------
F32_EPS = np.finfo(np.float32).eps


def test_float32_softplus_is_within_4_eps_of_float64():
    x = np.linspace(-87, 100, 1000 * 784).astype(np.float32)
    reference = np.logaddexp(0, x.astype(np.float64))
    for shaped in (x, x.reshape(1000, 784)):  # one piece, and blocks on 2 threads
        with threads.limited(2):
            got = P.softplus(shaped)
        assert got.dtype == np.float32 and got.shape == shaped.shape
        relative = np.abs(got.ravel().astype(np.float64) - reference) / reference
        assert relative.max() <= 4 * F32_EPS


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_at_the_extremes(dtype):
    x = np.array([-1000, -30, 0, 30, 1000], dtype=dtype)  # exp(-100) is subnormal in float32
    got = P.softplus(x)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, np.logaddexp(0, x.astype(np.float64)), rtol=4 * F32_EPS)
    assert got[0] == 0 and got[4] == 1000 and got[2] == dtype(np.log(2))


def test_softplus_of_a_0d_array_and_of_a_python_float():
    # softplus(x) of a scalar: the elementwise ufuncs return NumPy scalars for 0-d
    # inputs, which out= cannot write to.
    assert float(P.softplus(np.array(2.0))) == pytest.approx(np.logaddexp(0, 2.0), rel=1e-15)
    assert float(P.softplus(2.0)) == pytest.approx(np.logaddexp(0, 2.0), rel=1e-15)


# -- Bernoulli log-likelihood ---------------------------------------------------------------
def _bernoulli_reference(x, s):
    x, s = np.asarray(x, np.float64), np.asarray(s, np.float64)
    terms = x * s - np.logaddexp(0, s)
    return terms.sum(axis=-1), np.abs(terms).sum(axis=-1)


def _case(rng, x_shape, s_shape, dtype):
    x = (rng.uniform(size=x_shape) < 0.4).astype(dtype)
    s = (rng.randn(*s_shape) * 4).astype(dtype)
    return x, s


SHAPES = [
    ((200, 784), (200, 784)),
    ((10, 784), (50, 10, 784)),  # one x, many samples of logits
    ((50, 10, 784), (10, 784)),
    ((784,), (784,)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, s_shape", SHAPES)
def test_bernoulli_log_likelihood_matches_float64(rng, dtype, x_shape, s_shape):
    x, s = _case(rng, x_shape, s_shape, dtype)
    got = P.bernoulli_log_likelihood(x, s)
    expected, scale = _bernoulli_reference(x, s)
    assert got.dtype == dtype and got.shape == expected.shape
    tolerance = (1e-13 if dtype == np.float64 else 8 * F32_EPS) * scale
    assert (np.abs(got - expected) <= tolerance).all()


def _parallel_case(rng, dtype):
    # 25 blocks of (4, 20, 784): enough that 2 threads are used.
    x, s = _case(rng, (20, 784), (100, 20, 784), dtype)
    assert len(threads.blocks(s.shape)) >= 2 * threads.PARALLEL_MIN_BLOCKS
    return x, s


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bernoulli_log_likelihood_is_the_same_on_1_and_2_threads(rng, dtype):
    x, s = _parallel_case(rng, dtype)
    with threads.limited(1):
        one = P.bernoulli_log_likelihood(x, s)
    with threads.limited(2):
        two = P.bernoulli_log_likelihood(x, s)
    np.testing.assert_array_equal(one, two)
    expected, scale = _bernoulli_reference(x, s)
    tolerance = (1e-13 if dtype == np.float64 else 8 * F32_EPS) * scale
    assert (np.abs(two - expected) <= tolerance).all()


# Where NumPy's float32 log1p is scalar (AVX2 CPUs; NPY_DISABLE_CPU_FEATURES imitates one
# per process), softplus takes log1p from log and the Bernoulli sum takes logs of products.
# This CPU may vectorize log1p, so the flag is set by hand: the formulas are plain NumPy.
@pytest.fixture
def scalar_log1p(monkeypatch):
    monkeypatch.setattr(P, "LOG1P_IS_VECTORIZED", False)


FOLDS = [((200, 785), (200, 785)), ((3, 12), (3, 12))]


@pytest.mark.parametrize("x_shape, s_shape", SHAPES + FOLDS)
def test_bernoulli_log_likelihood_where_log1p_is_scalar(rng, scalar_log1p, x_shape, s_shape):
    # 784 = 16 * 49 folds four times, 12 twice (then 3 is odd), 785 not at all.
    x, s = _case(rng, x_shape, s_shape, np.float32)
    got = P.bernoulli_log_likelihood(x, s)
    expected, scale = _bernoulli_reference(x, s)
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert (np.abs(got - expected) <= 8 * F32_EPS * scale).all()


def test_bernoulli_where_log1p_is_scalar_is_the_same_on_1_and_2_threads(
    rng, scalar_log1p, monkeypatch
):
    x, s = _parallel_case(rng, np.float32)
    folded = []
    monkeypatch.setattr(
        P, "_sum_log_rows", lambda u, out, fold=P._sum_log_rows: folded.append(1) or fold(u, out)
    )
    with threads.limited(1):
        one = P.bernoulli_log_likelihood(x, s)
    with threads.limited(2):
        two = P.bernoulli_log_likelihood(x, s)
    np.testing.assert_array_equal(one, two)
    assert len(folded) == 2 * len(threads.blocks(s.shape))  # the path under test ran


def test_bernoulli_where_log1p_is_scalar_at_the_extremes(scalar_log1p):
    # exp(-|s|) underflows to 0 (a product of ones) or is 1 (s = 0: log 2 per pixel).
    s = np.array([[-1000.0, -30.0, 0.0, 30.0, 1000.0, 0.0, 0.0, 0.0]], np.float32)
    x = np.array([[0, 1, 1, 0, 1, 0, 1, 0]], np.float32)
    got = P.bernoulli_log_likelihood(x, s)
    expected, _ = _bernoulli_reference(x, s)
    np.testing.assert_allclose(got, expected, rtol=4 * F32_EPS)


@pytest.mark.parametrize("width", [784, 12, 7, 1])
def test_sum_log_rows_is_the_log_of_products(rng, width):
    u = (1 + rng.uniform(size=(50, width))).astype(np.float32)
    u[0] = 2.0  # the largest product of 16: 2 ** 16
    expected = np.log(u.astype(np.float64)).sum(axis=-1)
    got = P._sum_log_rows(u.copy(), np.empty(50, np.float32))
    # 1e-6 per log of a product of 16 and the float32 rounding of the sum.
    np.testing.assert_allclose(got, expected, rtol=4 * F32_EPS, atol=1e-6 * (width / 16 + 1))


def test_softplus_where_log1p_is_scalar_is_within_4_eps_of_float64(scalar_log1p):
    x = np.linspace(-87, 100, 1000 * 784).astype(np.float32).reshape(1000, 784)
    got = P.softplus(x)
    reference = np.logaddexp(0, x.astype(np.float64))
    assert (np.abs(got.astype(np.float64) - reference) / reference).max() <= 4 * F32_EPS


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gaussian_log_density_in_blocks_matches_float64_on_1_and_2_threads(rng, dtype):
    # z of (k, batch, nhid) against (batch, nhid) parameters and against (nhid,) ones:
    # the importance-sampled log-likelihood's two densities, in many blocks.
    z = rng.standard_normal((400, 20, 200)).astype(dtype)
    assert len(threads.blocks(z.shape)) >= 2 * threads.PARALLEL_MIN_BLOCKS
    for shape in ((20, 200), (200,)):
        mu = rng.standard_normal(shape).astype(dtype)
        log_sigma = (0.3 * rng.standard_normal(shape)).astype(dtype)
        with threads.limited(1):
            one = P.gaussian_log_density(z, mu, log_sigma)
        with threads.limited(2):
            two = P.gaussian_log_density(z, mu, log_sigma)
        np.testing.assert_array_equal(one, two)
        z64, mu64, ls64 = (np.asarray(a, np.float64) for a in (z, mu, log_sigma))
        expected = -0.5 * (
            np.log(2 * np.pi) + 2 * ls64 + ((z64 - mu64) * np.exp(-ls64)) ** 2
        ).sum(axis=-1)
        tolerance = 1e-12 if dtype == np.float64 else 1e-4
        np.testing.assert_allclose(two, expected, rtol=tolerance)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_box_muller_draws_are_the_same_on_1_and_2_threads(dtype):
    # 2,000,000 draws (the NLL's noise for 10 digits, k=1000): the transform in many
    # blocks; the same bits on 1 and 2 threads, and the closed form of the same uniforms.
    shape = (1000, 10, 200)
    half = int(np.prod(shape)) // 2
    assert len(threads.blocks((half, 1))) >= 2 * threads.PARALLEL_MIN_BLOCKS
    draws = []
    for count in (1, 2):
        with threads.limited(count):
            draws.append(backend._box_muller(np.random.default_rng(5), shape, dtype))
    np.testing.assert_array_equal(draws[0], draws[1])
    u = np.random.default_rng(5).random(2 * half, dtype=dtype).astype(np.float64)
    radius = np.sqrt(-2 * np.log(1 - u[:half]))
    expected = np.concatenate([radius * np.cos(2 * np.pi * u[half:]),
                               radius * np.sin(2 * np.pi * u[half:])]).reshape(shape)
    tolerance = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(draws[1], expected, rtol=0, atol=tolerance * 8)


def test_reparametrize_in_blocks_is_the_formula_on_1_and_2_threads(rng):
    mu, log_sigma = (rng.standard_normal((10, 200)).astype(np.float32) for _ in range(2))
    epsilon = rng.standard_normal((1000, 10, 200)).astype(np.float32)
    results = []
    for count in (1, 2):
        with threads.limited(count):
            results.append(P.reparametrize(mu, log_sigma, epsilon))
    for z in results:
        np.testing.assert_array_equal(z, mu + np.exp(log_sigma) * epsilon)


def _sigmoid64(s):
    return 1 / (1 + np.exp(-np.asarray(s, np.float64)))


def _logits_grad(x, s, w):
    return autograd.grad(lambda t: anp.sum(P.bernoulli_log_likelihood(x, t) * w))(s)


def _expected_logits_grad(x, s, w):
    full = (x - _sigmoid64(s)) * w[..., None]
    while full.ndim > s.ndim:
        full = full.sum(axis=0)
    return full


@pytest.mark.parametrize("x_shape, s_shape", SHAPES)
def test_logits_gradient_is_x_minus_sigmoid_times_g(rng, float64, x_shape, s_shape):
    x, s = _case(rng, x_shape, s_shape, np.float64)
    w = np.asarray(rng.randn(*np.broadcast_shapes(x_shape, s_shape)[:-1]))
    got = _logits_grad(x, s, w)
    assert got.shape == s.shape
    np.testing.assert_allclose(got, _expected_logits_grad(x, s, w), rtol=1e-12, atol=1e-12)


def test_logits_gradient_is_the_same_on_1_and_2_threads(rng):
    x, s = _parallel_case(rng, np.float32)
    w = rng.randn(*s.shape[:-1]).astype(np.float32)
    with threads.limited(1):
        one = _logits_grad(x, s, w)
    with threads.limited(2):
        two = _logits_grad(x, s, w)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_allclose(two, _expected_logits_grad(x, s, w), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "x_shape, s_shape", [((3, 5), (3, 5)), ((3, 5), (2, 3, 5)), ((2, 3, 5), (3, 5))]
)
def test_logits_gradient_matches_finite_differences(rng, float64, x_shape, s_shape):
    x, s = _case(rng, x_shape, s_shape, np.float64)
    w = np.asarray(rng.randn(*np.broadcast_shapes(x_shape, s_shape)[:-1]))

    def f(t):
        return float(np.sum(P.bernoulli_log_likelihood(x, t) * w))

    numeric = np.zeros_like(s)
    h = 1e-6
    for i in np.ndindex(s.shape):
        up, down = s.copy(), s.copy()
        up[i] += h
        down[i] -= h
        numeric[i] = (f(up) - f(down)) / (2 * h)
    np.testing.assert_allclose(_logits_grad(x, s, w), numeric, rtol=1e-6, atol=1e-8)


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
    tuner = threads.ThreadTuner(probe=probe)
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
    tuner = threads.ThreadTuner(probe=FakeProbe(TWO_FASTER))
    tuner.start_epoch()
    assert tuner.current == 2 and threads.get_num_threads() == 2
    assert tuner.chosen == [(2, {2: 0.01, 1: 0.1})]


def test_tuner_needs_the_margin_to_switch(free_threads):
    probe = FakeProbe({1: 0.095, 2: 0.1})  # 5 % faster: not enough
    tuner = threads.ThreadTuner(margin=0.1, probe=probe)
    tuner.start_epoch()
    assert tuner.current == 2
    tuner.start_epoch()  # no probe this epoch
    probe.times = {1: 0.085, 2: 0.1}  # 15 % faster
    tuner.start_epoch()
    assert tuner.current == 1 and [c for c, _ in tuner.chosen] == [2, 1]


def test_probe_interval_doubles_while_the_choice_holds_and_resets_when_it_changes(free_threads):
    probe = FakeProbe(TWO_FASTER)
    tuner = threads.ThreadTuner(max_interval=8, probe=probe)
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
    seconds = threads.matmul_probe(8, width=16, repeats=2)
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
    tuner = threads.ThreadTuner(enabled=how != "disabled", probe=probe)
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
    tuner = algorithm._thread_tuner
    assert tuner.active and tuner.settings == (2, 1)
    assert tuner.chosen and {c for c, _ in tuner.chosen} <= {1, 2}
    # training ended back at all the threads, and the user's choice is still open
    assert threads.get_num_threads() == 2 and not threads.user_fixed()


@pytest.mark.skipif(threads.available_cpus() < 2, reason="one CPU: nothing to tune")
def test_a_second_training_still_tunes_after_the_first_chose_one_thread(free_threads):
    # The first training's tuner found one thread faster and left the count at 1 (not
    # fixed by the user); the next training must still choose between all and one.
    first = threads.ThreadTuner(probe=FakeProbe(ONE_FASTER))
    first.start_epoch()
    assert first.current == 1 and threads.get_num_threads() == 1 and not threads.user_fixed()
    second = threads.ThreadTuner()
    assert second.active
    assert second.settings[0] > 1 and second.settings[1] == 1
