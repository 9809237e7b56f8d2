"""The device seam: device and floatX choice, host copies, random streams."""

import builtins
import pickle

import numpy as np
import pytest

from pylearn_vae import backend
from pylearn_vae.models.model import Param


def test_unknown_device_names_choices():
    with pytest.raises(ValueError, match="unknown device 'tpu': choose one of cpu, gpu"):
        backend.set_device("tpu")
    assert backend.get_device() == "cpu"


def _without_cupy(monkeypatch):
    """``import cupy`` fails, and the backend has not imported it yet."""
    real_import = builtins.__import__

    def no_cupy(name, *args, **kwargs):
        if name == "cupy" or name.startswith("cupy."):
            raise ImportError("No module named 'cupy'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cupy)
    monkeypatch.setitem(backend._state, "cupy", None)


def test_gpu_without_cupy_raises_device_error(monkeypatch):
    _without_cupy(monkeypatch)
    with pytest.raises(backend.DeviceError, match=r"pip install .*PYLEARN_VAE_DEVICE=cpu"):
        backend.set_device("gpu")
    assert backend.get_device() == "cpu"
    assert backend.xp() is np


def test_floatX_switch_changes_param_and_asarray_dtype():
    assert backend.floatX() == "float32"
    assert Param(np.zeros(2)).dtype == np.float32
    assert backend.asarray([1, 2]).dtype == np.float32
    with backend.using():
        backend.set_floatX("float64")
        assert backend.floatX() == "float64"
        assert Param(np.zeros(2)).dtype == np.float64
        assert backend.asarray([1, 2]).dtype == np.float64
        assert type(backend.cast_floatX(1.5)) is np.float64
        assert backend.asarray([1, 2], dtype="int32").dtype == np.int32
        backend.set_floatX(np.float32)
        assert backend.floatX() == "float32"


def test_using_sets_and_restores_floatX_also_after_an_error():
    with backend.using(floatX="float64"):
        assert backend.floatX() == "float64"
        assert Param(np.zeros(2)).dtype == np.float64
        with backend.using(floatX=np.float32):  # nested, and a dtype works too
            assert backend.asarray([1.0]).dtype == np.float32
        assert backend.floatX() == "float64"
    assert backend.floatX() == "float32"
    with pytest.raises(RuntimeError, match="boom"), backend.using(floatX="float64"):
        raise RuntimeError("boom")
    assert backend.floatX() == "float32"


def test_using_none_keeps_the_current_choice_and_restores_changes_inside():
    with backend.using(floatX="float64"), backend.using():
        assert (backend.get_device(), backend.floatX()) == ("cpu", "float64")
        backend.set_floatX("float32")
    assert (backend.get_device(), backend.floatX()) == ("cpu", "float32")


def test_using_a_bad_choice_raises_and_changes_nothing(monkeypatch):
    with pytest.raises(ValueError, match="unknown floatX 'float16'"):
        with backend.using(floatX="float16"):
            pass  # not reached
    _without_cupy(monkeypatch)
    with pytest.raises(backend.DeviceError, match="CuPy"):
        with backend.using(device="gpu", floatX="float64"):
            pass  # not reached
    assert (backend.get_device(), backend.floatX()) == ("cpu", "float32")


@pytest.mark.parametrize("bad", ["float16", "int32", "bogus"])
def test_unknown_floatX_names_choices(bad):
    with pytest.raises(ValueError, match="choose one of float32, float64"):
        backend.set_floatX(bad)
    assert backend.floatX() == "float32"


def test_to_host_and_array_module():
    a = np.arange(3.0)
    assert backend.to_host(a) is a
    np.testing.assert_array_equal(backend.to_host([1, 2]), [1, 2])
    assert backend.to_host(2.0) == 2.0
    assert backend.get_array_module(a, 1.0) is np
    assert backend.xp() is np


def test_random_streams_reproducible_by_seed():
    a, b, c = backend.RandomStreams(7), backend.RandomStreams(7), backend.RandomStreams(8)
    n1, u1 = a.normal((3, 2)), a.uniform((4,))
    np.testing.assert_array_equal(n1, b.normal((3, 2)))
    np.testing.assert_array_equal(u1, b.uniform((4,)))
    assert not np.allclose(n1, c.normal((3, 2)))
    assert n1.dtype == np.float32 and u1.dtype == np.float32
    assert np.all((u1 >= 0) & (u1 < 1))
    assert backend.RandomStreams(7).normal((2,), dtype="float64").dtype == np.float64


def test_random_streams_pickle_round_trip_continues_the_stream():
    s = backend.RandomStreams(3)
    s.normal((5,))
    clone = pickle.loads(pickle.dumps(s))
    assert clone.seed == 3
    np.testing.assert_array_equal(clone.normal((5,)), s.normal((5,)))
    fresh = pickle.loads(pickle.dumps(backend.RandomStreams(3)))
    np.testing.assert_array_equal(fresh.uniform((2,)), backend.RandomStreams(3).uniform((2,)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_streams_normal_is_standard_normal(dtype):
    from scipy import stats

    x = backend.RandomStreams(11).normal((300, 1001), dtype=dtype)
    assert x.dtype == dtype and x.shape == (300, 1001)
    assert stats.kstest(x.ravel()[:100000], "norm").pvalue > 1e-3
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1) < 0.01
    assert abs(stats.kurtosis(x.ravel(), fisher=False) - 3) < 0.05
    # Neighbouring draws are independent.
    flat = x.ravel().astype("float64")
    assert abs(np.corrcoef(flat[:-1], flat[1:])[0, 1]) < 0.01


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_streams_normal_draws_what_is_registered(dtype):
    from pylearn_vae import accel
    from pylearn_vae.accel import noise

    # Accelerated (the default): the Box-Muller transform of the PCG64 Generator's uniforms.
    assert backend.cpu_normal_name() == noise.NAME
    stream, expected = backend.RandomStreams(5), np.random.default_rng(5)
    for shape in ((3, 4), (2, 5, 7)):
        np.testing.assert_array_equal(
            stream.normal(shape, dtype=dtype), noise.box_muller(expected, shape, dtype)
        )
    # Reference: NumPy's own standard_normal in the dtype.
    accel.uninstall()
    try:
        assert backend.cpu_normal_name() == backend.STANDARD_NORMAL
        stream, expected = backend.RandomStreams(5), np.random.default_rng(5)
        np.testing.assert_array_equal(
            stream.normal((2, 5, 7), dtype=dtype), expected.standard_normal((2, 5, 7), dtype=dtype)
        )
    finally:
        accel.install()


def test_a_stream_refuses_to_continue_with_noise_drawn_another_way():
    from pylearn_vae import accel

    stream = backend.RandomStreams(5)
    stream.normal((3,))
    state = stream.get_state()
    assert state["normal"] == "box_muller"
    accel.uninstall()
    try:
        with pytest.raises(
            ValueError,
            match="drew its Gaussian noise with box_muller.*"
            "resume it without PYLEARN_VAE_REFERENCE=1",
        ):
            backend.RandomStreams(0).set_state(state)
        old = {"seed": 5, "position": state["position"]}  # a state written before the name
        with pytest.raises(ValueError, match="box_muller"):
            backend.RandomStreams(0).set_state(old)
        reference = backend.RandomStreams(5)
        reference.normal((3,))
        reference_state = reference.get_state()
    finally:
        accel.install()
    with pytest.raises(ValueError, match="resume it with PYLEARN_VAE_REFERENCE=1"):
        backend.RandomStreams(0).set_state(reference_state)
    backend.RandomStreams(0).set_state(state)  # the same draws: continues
