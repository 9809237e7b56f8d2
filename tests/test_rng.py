import numpy as np

from pylearn_vae.utils.rng import make_np_rng


def _draws(rng):
    return rng.uniform(size=5)


def test_random_state_is_reused_not_copied():
    rng = np.random.RandomState(0)
    assert make_np_rng(rng) is rng
    assert make_np_rng(rng, which_method="uniform") is rng
    assert make_np_rng(rng, which_method=["uniform", "randn"]) is rng


def test_object_with_the_methods_is_reused():
    class Duck:
        def uniform(self):
            return 0.5

    duck = Duck()
    assert make_np_rng(duck, which_method="uniform") is duck


def test_seeds_int_and_list():
    np.testing.assert_array_equal(
        _draws(make_np_rng(5, which_method="uniform")), _draws(np.random.RandomState(5))
    )
    seed = [2012, 10, 5]
    np.testing.assert_array_equal(_draws(make_np_rng(seed)), _draws(np.random.RandomState(seed)))


def test_default_seed_then_42():
    np.testing.assert_array_equal(
        _draws(make_np_rng(None, default_seed=[2013, 1, 4])),
        _draws(np.random.RandomState([2013, 1, 4])),
    )
    np.testing.assert_array_equal(_draws(make_np_rng()), _draws(np.random.RandomState(42)))


def test_seed_wins_over_default_seed():
    np.testing.assert_array_equal(
        _draws(make_np_rng(7, default_seed=2043)), _draws(np.random.RandomState(7))
    )
