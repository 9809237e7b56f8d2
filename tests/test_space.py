"""Spaces (``pylearn2/space/__init__.py``): equality, validation, dimensions, conversions."""

import numpy as np
import pytest

from pylearn_vae import backend
from pylearn_vae.space import CompositeSpace, Conv2DSpace, IndexSpace, NullSpace, VectorSpace


def test_equality_and_hash():
    assert VectorSpace(3) == VectorSpace(3)
    assert hash(VectorSpace(3)) == hash(VectorSpace(3))
    assert VectorSpace(3) != VectorSpace(4)
    assert VectorSpace(3) != VectorSpace(3, dtype="float64")
    assert VectorSpace(3) != IndexSpace(10, 3)
    assert IndexSpace(10, 3) == IndexSpace(10, 3) and IndexSpace(10, 3) != IndexSpace(9, 3)
    c = Conv2DSpace((2, 3), num_channels=4)
    assert c == Conv2DSpace((2, 3), channels=4, axes=("b", 0, 1, "c"))
    assert c != Conv2DSpace((2, 3), num_channels=4, axes=("b", "c", 0, 1))
    assert c != Conv2DSpace((3, 2), num_channels=4)
    comp = CompositeSpace([VectorSpace(2), c])
    assert comp == CompositeSpace([VectorSpace(2), Conv2DSpace((2, 3), num_channels=4)])
    assert comp != CompositeSpace([VectorSpace(2)])
    assert NullSpace() == NullSpace() and NullSpace() != VectorSpace(1)
    assert len({VectorSpace(3), VectorSpace(3), NullSpace(), NullSpace()}) == 2


def test_str():
    assert str(VectorSpace(5)) == "VectorSpace(dim=5, dtype=float32)"
    assert str(Conv2DSpace((2, 3), num_channels=4)) == (
        "Conv2DSpace(shape=(2, 3), num_channels=4, axes=('b', 0, 1, 'c'), dtype=float32)"
    )


def test_constructor_errors():
    with pytest.raises(ValueError, match="exactly one of channels and num_channels"):
        Conv2DSpace((2, 2))
    with pytest.raises(ValueError, match="exactly one of channels and num_channels"):
        Conv2DSpace((2, 2), channels=1, num_channels=1)
    with pytest.raises(ValueError, match="permutation"):
        Conv2DSpace((2, 2), num_channels=1, axes=("b", 0, 1, 2))
    with pytest.raises(TypeError, match="must be Spaces"):
        CompositeSpace([VectorSpace(2), 3])


def test_vector_validate_names_expected_and_received_shapes():
    with pytest.raises(ValueError, match=r"\(batch, 3\).*\(2, 4\)"):
        VectorSpace(3).validate(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"2-D batch.*\(6,\)"):
        VectorSpace(3).validate(np.zeros(6))
    with pytest.raises(TypeError, match="array batch"):
        VectorSpace(3).validate([[0.0, 1.0, 2.0]])
    with pytest.raises(TypeError, match="float batch"):
        VectorSpace(3, dtype="int64").validate(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="complex"):
        VectorSpace(3).validate(np.zeros((2, 3), complex))
    VectorSpace(3).validate(np.zeros((2, 3), "float64"))
    VectorSpace(3).np_validate(np.zeros((0, 3)))


def test_conv_and_composite_validate():
    c = Conv2DSpace((2, 3), num_channels=4, axes=("c", 0, 1, "b"))
    c.validate(np.zeros((4, 2, 3, 5)))
    with pytest.raises(ValueError, match=r"\(4, 2, 3, 4\).*\(4, 2, 3, 5\)"):
        Conv2DSpace((2, 3), num_channels=4).validate(np.zeros((4, 2, 3, 5)))
    comp = CompositeSpace([VectorSpace(2), c])
    comp.validate((np.zeros((5, 2)), np.zeros((4, 2, 3, 5))))
    with pytest.raises(TypeError, match="tuple"):
        comp.validate([np.zeros((5, 2)), np.zeros((4, 2, 3, 5))])
    with pytest.raises(ValueError, match="2 components, got 1"):
        comp.validate((np.zeros((5, 2)),))
    with pytest.raises(ValueError, match=r"\(batch, 2\).*\(5, 3\)"):
        comp.validate((np.zeros((5, 3)), np.zeros((4, 2, 3, 5))))
    assert comp.batch_size((np.zeros((5, 2)), np.zeros((4, 2, 3, 5)))) == 5


def test_total_dimension():
    assert VectorSpace(7).get_total_dimension() == 7
    assert IndexSpace(10, 3).get_total_dimension() == 3
    c = Conv2DSpace((2, 3), num_channels=4)
    assert c.get_total_dimension() == 24
    assert CompositeSpace([VectorSpace(7), c]).get_total_dimension() == 31
    with pytest.raises(NotImplementedError):
        NullSpace().get_total_dimension()


def test_vector_to_conv_is_b01c_reshape_then_transpose(rng):
    x = rng.randn(2, 24)
    for axes in [("b", 0, 1, "c"), ("b", "c", 0, 1), ("c", 0, 1, "b"), (1, "c", "b", 0)]:
        c = Conv2DSpace((2, 3), num_channels=4, axes=axes)
        out = VectorSpace(24).np_format_as(x, c)
        b01c = x.reshape(2, 2, 3, 4)
        idx = {"b": 0, 0: 1, 1: 2, "c": 3}
        np.testing.assert_allclose(out, b01c.transpose([idx[a] for a in axes]))
        np.testing.assert_allclose(c.np_format_as(out, VectorSpace(24)), x, rtol=1e-6)


def test_conv_to_conv_changes_axes(rng):
    src = Conv2DSpace((2, 3), num_channels=4, axes=("b", "c", 0, 1))
    dst = Conv2DSpace((2, 3), num_channels=4, axes=("c", 0, 1, "b"))
    x = rng.randn(5, 4, 2, 3).astype("float32")
    np.testing.assert_array_equal(src.np_format_as(x, dst), x.transpose(1, 2, 3, 0))


def test_vector_to_composite_splits_columns_and_back(rng):
    conv = Conv2DSpace((1, 2), num_channels=3, axes=("b", "c", 0, 1))
    comp = CompositeSpace([VectorSpace(2), conv, VectorSpace(1)])
    x = rng.randn(4, 9).astype("float32")
    parts = VectorSpace(9).np_format_as(x, comp)
    assert isinstance(parts, tuple) and len(parts) == 3
    np.testing.assert_array_equal(parts[0], x[:, :2])
    np.testing.assert_array_equal(parts[1], x[:, 2:8].reshape(4, 1, 2, 3).transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(parts[2], x[:, 8:])
    np.testing.assert_array_equal(comp.np_format_as(parts, VectorSpace(9)), x)
    # composite -> composite converts component by component
    other = CompositeSpace([VectorSpace(2), VectorSpace(6), VectorSpace(1)])
    flat = comp.np_format_as(parts, other)
    np.testing.assert_array_equal(flat[1], x[:, 2:8])


def test_format_as_total_dimension_mismatch():
    with pytest.raises(ValueError, match="total dimensions differ"):
        VectorSpace(3).np_format_as(np.zeros((2, 3)), VectorSpace(4))
    with pytest.raises(ValueError, match=r"\(batch, 3\)"):
        VectorSpace(3).np_format_as(np.zeros((2, 4)), VectorSpace(4))


def test_np_format_as_casts_to_target_dtype(rng):
    x = rng.randn(2, 3)
    out = VectorSpace(3, dtype="float64").np_format_as(x, VectorSpace(3))
    assert out.dtype == np.float32
    out = VectorSpace(3).np_format_as(x.astype("float32"), VectorSpace(3, dtype="float64"))
    assert out.dtype == np.float64
    comp = CompositeSpace([VectorSpace(1, dtype="float64"), VectorSpace(2, dtype="float32")])
    parts = VectorSpace(3, dtype="float64").np_format_as(x, comp)
    assert [p.dtype for p in parts] == [np.float64, np.float32]
    np.testing.assert_allclose(parts[1], x[:, 1:], rtol=1e-6)


def test_floatX_dtype_follows_backend():
    space = VectorSpace(2)
    with backend.using(floatX="float64"):
        assert space.dtype == "float64"
        assert space.get_origin_batch(3).dtype == np.float64
    assert space.dtype == "float32"
    assert space.get_origin().shape == (2,)
    assert Conv2DSpace((2, 3), num_channels=1).get_origin_batch(4).shape == (4, 2, 3, 1)


def test_restrict():
    comp = CompositeSpace([VectorSpace(1), VectorSpace(2), VectorSpace(3)])
    assert comp.restrict(1) == VectorSpace(2)
    assert comp.restrict([0, 2]) == CompositeSpace([VectorSpace(1), VectorSpace(3)])


def test_null_space():
    NullSpace().validate(None)
    with pytest.raises(TypeError, match="only holds None"):
        NullSpace().validate(np.zeros((1, 1)))
    assert str(NullSpace()) == "NullSpace"


def test_index_space_is_integer():
    s = IndexSpace(max_labels=10, dim=2)
    assert s.dtype == "int64"
    s.validate(np.zeros((3, 2), "int64"))
    with pytest.raises(TypeError):
        s.validate(np.zeros((3, 2)))


def test_batch_axis_follows_axes():
    c = Conv2DSpace((2, 3), num_channels=4, axes=("c", 0, 1, "b"))
    assert c.get_batch_axis() == 3
    assert c.batch_size(np.zeros((4, 2, 3, 5))) == 5
    assert VectorSpace(3).batch_size(np.zeros((6, 3))) == 6
