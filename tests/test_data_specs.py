"""Flattening nested data specs into a union of leaves and nesting batches back
(pylearn_vae.utils.data_specs, Pylearn2's DataSpecsMapping)."""

import pytest

from pylearn_vae.space import CompositeSpace, NullSpace, VectorSpace
from pylearn_vae.utils.data_specs import flatten_data_specs, nest_batch, union_data_specs

X_SPACE, Y_SPACE = VectorSpace(3), VectorSpace(2)


def test_identical_leaves_are_shared_and_batches_nest_back():
    x_structure, union = flatten_data_specs((X_SPACE, "features"))
    xy_structure, union = flatten_data_specs(
        (CompositeSpace([X_SPACE, Y_SPACE]), ("features", "targets")), union
    )
    assert x_structure == 0
    assert xy_structure == (0, 1)
    assert union == [(X_SPACE, "features"), (Y_SPACE, "targets")]
    flat = ("x-batch", "y-batch")
    assert nest_batch(x_structure, flat) == "x-batch"
    assert nest_batch(xy_structure, flat) == ("x-batch", "y-batch")


def test_same_source_in_another_space_is_a_separate_leaf():
    _, union = flatten_data_specs((X_SPACE, "features"))
    structure, union = flatten_data_specs((VectorSpace(4), "features"), union)
    assert structure == 1 and len(union) == 2


def test_null_space_carries_no_data():
    structure, union = flatten_data_specs((NullSpace(), ""))
    assert structure is None and union == []
    assert nest_batch(structure, ()) is None


def test_union_data_specs_of_one_leaf_is_that_leaf():
    _, union = flatten_data_specs((X_SPACE, "features"))
    assert union_data_specs(union) == (X_SPACE, "features")
    _, union = flatten_data_specs((Y_SPACE, "targets"), union)
    assert union_data_specs(union) == (CompositeSpace([X_SPACE, Y_SPACE]), ("features", "targets"))


def test_composite_space_needs_one_source_per_component():
    with pytest.raises(ValueError, match="one source per component"):
        flatten_data_specs((CompositeSpace([X_SPACE, Y_SPACE]), "features"))
