"""Subset iterators and FiniteDatasetIterator (``pylearn2/utils/iteration.py``)."""

import numpy as np
import pytest

from pylearn_vae import backend
from pylearn_vae.datasets.dense_design_matrix import DenseDesignMatrix
from pylearn_vae.space import CompositeSpace, Conv2DSpace, VectorSpace
from pylearn_vae.utils import iteration
from pylearn_vae.utils.iteration import (
    FiniteDatasetIterator,
    has_uniform_batch_size,
    is_stochastic,
    resolve_iterator_class,
)


def rows(index, n):
    """The row numbers an index (slice or int array) selects out of ``n``."""
    return np.arange(n)[index]


def batches(mode, n, batch_size=None, num_batches=None, rng=None):
    cls = resolve_iterator_class(mode)
    it = cls(n, batch_size, num_batches, rng)
    return it, [rows(i, n) for i in it]


# -- modes: order, coverage, sizes ------------------------------------------------------


def test_sequential_in_order_with_short_last_batch():
    it, out = batches("sequential", 10, batch_size=4)
    assert [b.tolist() for b in out] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert it.num_batches == 3 and isinstance(it.num_batches, int)  # docs/quirks.md#quirk-30
    assert it.num_examples == 10 and it.uneven and it.batch_size == 4


def test_sequential_yields_slices():
    it = iteration.SequentialSubsetIterator(10, 5, None)
    assert list(it) == [slice(0, 5), slice(5, 10)]


def test_sequential_from_num_batches_and_fewer_batches():
    it, out = batches("sequential", 10, num_batches=3)
    assert it.batch_size == 4 and [len(b) for b in out] == [4, 4, 2]
    it, out = batches("sequential", 10, batch_size=3, num_batches=2)
    assert np.concatenate(out).tolist() == list(range(6)) and it.num_examples == 6
    assert not it.uneven


def test_sequential_errors():
    cls = iteration.SequentialSubsetIterator
    with pytest.raises(ValueError, match="need one of batch_size, num_batches"):
        cls(10, None, None)
    with pytest.raises(ValueError, match="can only provide 3 batches with batch_size 4"):
        cls(10, 4, 4)
    with pytest.raises(ValueError, match="non-None rng"):
        cls(10, 4, None, np.random.RandomState(0))
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        cls(10, 0, None)
    with pytest.raises(TypeError, match="batch_size must be an integer"):
        cls(10, "4", None)


def test_yaml_float_counts_are_accepted_as_ints():
    it = iteration.SequentialSubsetIterator(10, 5.0, 2.0)
    assert it.batch_size == 5 and isinstance(it.batch_size, int)


def test_shuffled_sequential_is_a_permutation_in_chunks():
    it, out = batches("shuffled_sequential", 10, batch_size=4, rng=np.random.RandomState(0))
    assert [len(b) for b in out] == [4, 4, 2]
    flat = np.concatenate(out)
    assert sorted(flat.tolist()) == list(range(10))
    assert flat.tolist() != list(range(10))
    assert it.stochastic and it.fancy
    expected = np.arange(10)
    np.random.RandomState(0).shuffle(expected)
    assert flat.tolist() == expected.tolist()


def test_stochastic_iterator_advances_the_given_rng():
    rng = np.random.RandomState(3)
    _, first = batches("shuffled_sequential", 20, batch_size=5, rng=rng)
    _, second = batches("shuffled_sequential", 20, batch_size=5, rng=rng)
    assert np.concatenate(first).tolist() != np.concatenate(second).tolist()


def test_default_seed_is_reproducible():
    _, a = batches("shuffled_sequential", 20, batch_size=5)
    _, b = batches("shuffled_sequential", 20, batch_size=5, rng=(17, 2, 946))
    assert np.concatenate(a).tolist() == np.concatenate(b).tolist()


def test_batchwise_shuffled_sequential_visits_slices_in_random_order():
    it, out = batches(
        "batchwise_shuffled_sequential", 10, batch_size=3, rng=np.random.RandomState(1)
    )
    chunks = sorted(b.tolist() for b in out)
    assert chunks == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert [b.tolist() for b in out] != [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert it.stochastic and not it.fancy and it.num_examples == 10


def test_random_uniform_draws_with_replacement():
    it, out = batches(
        "random_uniform", 5, batch_size=4, num_batches=50, rng=np.random.RandomState(0)
    )
    assert len(out) == 50 and all(len(b) == 4 for b in out)
    flat = np.concatenate(out)
    assert flat.min() == 0 and flat.max() == 4  # both ends reachable
    assert any(len(set(b.tolist())) < 4 for b in out)  # replacement
    assert it.num_examples == 200 and not it.uneven
    np.testing.assert_array_equal(out[0], np.random.RandomState(0).randint(0, 5, 4))


def test_random_uniform_needs_sizes():
    cls = iteration.RandomUniformSubsetIterator
    with pytest.raises(ValueError, match="batch_size cannot be None for random uniform"):
        cls(10, None, 3)
    with pytest.raises(ValueError, match="num_batches cannot be None for random uniform"):
        cls(10, 3, None)


def test_random_slice_gives_full_contiguous_slices():
    it, out = batches(
        "random_slice", 10, batch_size=4, num_batches=200, rng=np.random.RandomState(0)
    )
    starts = {b[0] for b in out}
    assert all(b.tolist() == list(range(b[0], b[0] + 4)) for b in out)
    assert starts == set(range(7))  # every start in [0, N - bs]
    with pytest.raises(ValueError, match="batch_size 11 > dataset_size 10"):
        iteration.RandomSliceSubsetIterator(10, 11, 1)
    with pytest.raises(ValueError, match="num_batches cannot be None for random slice"):
        iteration.RandomSliceSubsetIterator(10, 3, None)


@pytest.mark.parametrize(
    "mode", ["even_sequential", "even_shuffled_sequential", "even_batchwise_shuffled_sequential"]
)
def test_even_modes_drop_the_short_batch(mode):
    rng = None if mode == "even_sequential" else np.random.RandomState(0)
    it, out = batches(mode, 10, batch_size=4, rng=rng)
    assert [len(b) for b in out] == [4, 4]
    assert len(set(np.concatenate(out).tolist())) == 8
    assert it.num_batches == 2 and it.num_examples == 8 and not it.uneven
    assert has_uniform_batch_size(mode)
    with pytest.raises(ValueError, match="no full batch"):
        resolve_iterator_class(mode)(3, 4, None, rng)


def test_mode_helpers():
    assert not is_stochastic("sequential")
    for mode in [
        "shuffled_sequential",
        "random_uniform",
        "random_slice",
        "batchwise_shuffled_sequential",
        "even_shuffled_sequential",
    ]:
        assert is_stochastic(mode)
    assert has_uniform_batch_size("random_uniform") and has_uniform_batch_size("random_slice")
    assert not has_uniform_batch_size("sequential")
    cls = iteration.SequentialSubsetIterator
    assert resolve_iterator_class(cls) is cls


def test_unknown_mode_string():
    with pytest.raises(ValueError, match="unknown iteration mode string: bogus"):
        resolve_iterator_class("bogus")
    with pytest.raises(TypeError, match="mode string or a SubsetIterator class"):
        resolve_iterator_class(3)


# -- FiniteDatasetIterator ---------------------------------------------------------------


@pytest.fixture
def dataset():
    X = np.arange(60, dtype="float64").reshape(10, 6)
    y = np.arange(10) % 3
    return DenseDesignMatrix(X=X, y=y, y_labels=3)


def test_batches_are_floatX_and_cover_the_data(dataset):
    X_space = VectorSpace(6)
    it = dataset.iterator("sequential", batch_size=4, data_specs=(X_space, "features"))
    out = list(it)
    assert [b.dtype for b in out] == [np.dtype(backend.floatX())] * 3
    np.testing.assert_array_equal(np.concatenate(out), dataset.X.astype(backend.floatX()))
    assert it.num_examples == 10 and it.num_batches == 3 and it.uneven and not it.stochastic


def test_float64_batches_when_floatX_is_float64(dataset, float64):
    batch = next(
        dataset.iterator("sequential", batch_size=4, data_specs=(VectorSpace(6), "features"))
    )
    assert batch.dtype == np.float64


def test_features_and_targets_together(dataset):
    it = dataset.iterator("shuffled_sequential", batch_size=3, rng=np.random.RandomState(0))
    X_batches, y_batches = zip(*it, strict=True)
    X = np.concatenate(X_batches)
    y = np.concatenate(y_batches)
    assert X.dtype == backend.floatX() and y.dtype == np.int64 and y.shape == (10, 1)
    np.testing.assert_array_equal(y[:, 0], X[:, 0].astype(int) // 6 % 3)  # rows stay paired


def test_return_tuple_and_conv_space(dataset):
    space = Conv2DSpace((2, 3), num_channels=1, axes=("b", "c", 0, 1))
    it = dataset.iterator(
        "sequential", batch_size=5, data_specs=(space, "features"), return_tuple=True
    )
    (batch,) = next(it)
    assert batch.shape == (5, 1, 2, 3)
    np.testing.assert_array_equal(batch[1, 0], dataset.X[1].reshape(2, 3))


def test_sequential_batches_are_read_only(dataset):
    batch = next(
        dataset.iterator("sequential", batch_size=4, data_specs=(VectorSpace(6), "features"))
    )
    with pytest.raises(ValueError, match="read-only"):
        batch[0, 0] = 1.0


def test_cast_copy_is_made_once_and_refreshed_on_new_X(dataset):
    specs = (VectorSpace(6), "features")
    a = next(dataset.iterator("sequential", batch_size=4, data_specs=specs))
    b = next(dataset.iterator("sequential", batch_size=4, data_specs=specs))
    assert np.shares_memory(a, b)  # the same floatX copy of X, not one per epoch
    dataset.set_design_matrix(dataset.X + 1.0)
    c = next(dataset.iterator("sequential", batch_size=4, data_specs=specs))
    np.testing.assert_array_equal(c, a + 1.0)


def test_unknown_source_and_mismatched_specs(dataset):
    with pytest.raises(ValueError, match="has no source 'labels'"):
        dataset.iterator("sequential", batch_size=2, data_specs=(VectorSpace(1), "labels"))
    specs = (CompositeSpace([VectorSpace(6)]), ("features", "targets"))
    with pytest.raises(ValueError, match="pair 1 space"):
        dataset.iterator("sequential", batch_size=2, data_specs=specs)


def test_wrong_space_width_is_refused(dataset):
    it = dataset.iterator("sequential", batch_size=2, data_specs=(VectorSpace(5), "features"))
    with pytest.raises(ValueError, match="total dimensions"):
        next(it)


def test_convert_functions_replace_format(dataset):
    it = FiniteDatasetIterator(
        dataset,
        iteration.SequentialSubsetIterator(10, 5, None),
        data_specs=(VectorSpace(6), "features"),
        convert=[lambda b: b * 2],
    )
    np.testing.assert_array_equal(next(it), dataset.X[:5] * 2)


def test_joined_rows_is_a_view_of_consecutive_batches_and_a_copy_otherwise():
    from pylearn_vae.utils.iteration import joined_rows

    data = np.arange(40.0).reshape(10, 4)
    joined = joined_rows([data[0:3], data[3:5], data[5:9]])
    assert np.shares_memory(joined, data) and not joined.flags.writeable
    np.testing.assert_array_equal(joined, data[:9])
    gap = joined_rows([data[0:3], data[4:6]])
    assert not np.shares_memory(gap, data)
    np.testing.assert_array_equal(gap, np.concatenate([data[0:3], data[4:6]]))
    np.testing.assert_array_equal(joined_rows([data[2:4]]), data[2:4])
