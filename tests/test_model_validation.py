"""Model arguments checked when the model is built: sizes are positive integers (no silent
truncation), ranges are finite and non-negative, and every option that would change nothing
is refused by name instead of being silently ignored (pylearn_vae.utils.validation)."""

import re

import numpy as np
import pytest
from test_vae import binary_batch, make_vae

from pylearn_vae.config import yaml_parse
from pylearn_vae.models.conv import ConvRectifiedLinear
from pylearn_vae.models.mlp import MLP, Linear, RectifiedLinear, Sigmoid
from pylearn_vae.models.vae.conditional import DiagonalGaussian
from pylearn_vae.space import Conv2DSpace
from pylearn_vae.utils import validation as V

# -- the helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.int32(1)])
def test_positive_int_accepts_python_and_numpy_ints(value):
    out = V.check_positive_int("Owner", "size", value)
    assert out == value and type(out) is int


@pytest.mark.parametrize(
    "value, hint",
    [(2.5, ""), (0, ""), (-3, ""), (True, ""), ("3", ""), (None, ""), (float("nan"), ""),
     (2.0, " (write 2 without the decimal point)")],
)
def test_positive_int_refuses_with_one_message_shape(value, hint):
    message = f"Owner: size must be a positive integer, got {value!r}{hint}"
    with pytest.raises(ValueError, match=re.escape(message) + "$"):
        V.check_positive_int("Owner", "size", value)


def test_nonnegative_int_accepts_zero_only_beyond_positive():
    assert V.check_nonnegative_int("O", "n", 0) == 0
    with pytest.raises(ValueError, match="O: n must be a non-negative integer, got -1"):
        V.check_nonnegative_int("O", "n", -1)


@pytest.mark.parametrize("value", [0.0, -1.0, float("inf"), float("nan"), False, "1"])
def test_positive_float_refuses(value):
    with pytest.raises(ValueError, match="O: x must be a positive finite number, got"):
        V.check_positive_float("O", "x", value)


def test_nonnegative_float_and_probability_and_choice():
    assert V.check_nonnegative_float("O", "x", 0) == 0.0
    assert V.check_positive_float("O", "x", np.float32(0.5)) == 0.5
    with pytest.raises(ValueError, match="O: x must be a non-negative finite number, got -0.1"):
        V.check_nonnegative_float("O", "x", -0.1)
    with pytest.raises(ValueError, match=r"O: p must be a probability in \[0, 1\], got 1.5"):
        V.check_probability("O", "p", 1.5)
    with pytest.raises(ValueError, match="O: mode must be one of 'a', 'b', got 'c'"):
        V.check_choice("O", "mode", "c", ("a", "b"))
    assert V.check_positive_int_tuple("O", "shape", [2, 3], 2) == (2, 3)


def test_reject_ignored_option_passes_the_default_only():
    V.reject_ignored_option("O", "flag", False, False, "does nothing")
    V.reject_ignored_option("O", "x", 1, 1.0, "does nothing")
    with pytest.raises(ValueError, match=r"O: flag=True does nothing, so it would be silently"):
        V.reject_ignored_option("O", "flag", True, False, "does nothing")


# -- sizes and ranges of the models --------------------------------------------------------

LINEAR = {"dim": 3, "layer_name": "h", "irange": 0.1}
CONV = {
    "output_channels": 2, "kernel_shape": (2, 2), "pool_shape": (1, 1), "pool_stride": (1, 1),
    "layer_name": "c", "irange": 0.1,
}


@pytest.mark.parametrize(
    "build, argument, value, what",
    [
        (RectifiedLinear, "dim", 2.5, "a positive integer"),
        (RectifiedLinear, "dim", 0, "a positive integer"),
        (RectifiedLinear, "dim", True, "a positive integer"),
        (Linear, "dim", 200.0, "a positive integer"),
        (Linear, "irange", -0.1, "a non-negative finite number"),
        (Linear, "irange", float("inf"), "a non-negative finite number"),
        (Linear, "include_prob", 1.5, "a probability in [0, 1]"),
        (Linear, "max_col_norm", 0.0, "a positive finite number"),
        (Linear, "min_col_norm", -1.0, "a non-negative finite number"),
        (Linear, "max_row_norm", float("nan"), "a positive finite number"),
        (ConvRectifiedLinear, "output_channels", 1.5, "a positive integer"),
        (ConvRectifiedLinear, "irange", -1.0, "a non-negative finite number"),
        (ConvRectifiedLinear, "kernel_shape", (5, 0), "a sequence of 2 positive integers"),
        (ConvRectifiedLinear, "kernel_shape", (5,), "a sequence of 2 positive integers"),
        (ConvRectifiedLinear, "pool_stride", (1.5, 1), "a sequence of 2 positive integers"),
        (ConvRectifiedLinear, "kernel_stride", (0, 1), "a sequence of 2 positive integers"),
        (ConvRectifiedLinear, "include_prob", -0.5, "a probability in [0, 1]"),
        (ConvRectifiedLinear, "max_kernel_norm", 0, "a positive finite number"),
    ],
)
def test_layer_sizes_and_ranges_are_checked_when_built(build, argument, value, what):
    kwargs = dict(CONV if build is ConvRectifiedLinear else LINEAR, **{argument: value})
    label = f"{build.__name__} {kwargs['layer_name']!r}"
    with pytest.raises(ValueError, match=re.escape(f"{label}: {argument} must be {what}, got")):
        build(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"istdev": -1.0}, "istdev must be a non-negative finite number, got -1.0"),
        ({"sparse_init": 0}, "sparse_init must be a positive integer, got 0"),
        ({"sparse_init": 2, "sparse_stdev": -1.0}, "sparse_stdev must be a non-negative"),
    ],
)
def test_linear_other_initialisations_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Linear(dim=3, layer_name="h", **kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"nvis": 0}, "MLP: nvis must be a positive integer, got 0"),
        ({"nvis": 3, "batch_size": 2.5}, "MLP: batch_size must be a positive integer, got 2.5"),
    ],
)
def test_mlp_sizes_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        MLP([Linear(**LINEAR)], **kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"nvis": 0}, "VAE: nvis must be a positive integer, got 0"),
        ({"nhid": 2.5}, "VAE: nhid must be a positive integer, got 2.5"),
        ({"nhid": -1}, "VAE: nhid must be a positive integer, got -1"),
    ],
)
def test_vae_sizes_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make_vae(**kwargs)


@pytest.mark.parametrize("num_samples", [0, 1.5])
def test_vae_num_samples_is_checked(num_samples):
    vae = make_vae()
    message = f"VAE: num_samples must be a positive integer, got {num_samples!r}"
    for criterion in (vae.log_likelihood_lower_bound, vae.log_likelihood_approximation):
        with pytest.raises(ValueError, match=re.escape(message)):
            criterion(binary_batch(), num_samples)
    with pytest.raises(ValueError, match="VAE.sample: num_samples must be a positive integer"):
        vae.sample(num_samples)


def test_yaml_size_error_names_class_argument_and_value():
    text = (
        "!obj:pylearn2.models.mlp.MLP {nvis: 4, layers: [\n"
        "    !obj:pylearn2.models.mlp.RectifiedLinear {layer_name: h, dim: 2.5, irange: 0.1}]}"
    )
    with pytest.raises(ValueError, match=r"RectifiedLinear 'h': dim must be a positive integer, "
                                         r"got 2.5"):
        yaml_parse.load(text)


# -- options that would change nothing: refused by name, or now working --------------------


def _ignored(name):
    return re.escape(f"{name}=") + ".* so it would be silently ignored"


@pytest.mark.parametrize(
    "build, kwargs, name",
    [
        (Linear, dict(LINEAR, use_abs_loss=True), "use_abs_loss"),
        (Linear, dict(LINEAR, irange=None, istdev=0.1, include_prob=0.5), "include_prob"),
        (Linear, dict(LINEAR, sparse_stdev=2.0), "sparse_stdev"),
        (Sigmoid, dict(LINEAR, monitor_style="one_hot_class"), "monitor_style"),
        (ConvRectifiedLinear, dict(CONV, irange=None, sparse_init=3), "sparse_init"),
        (ConvRectifiedLinear, dict(CONV, detector_normalization=abs), "detector_normalization"),
        (ConvRectifiedLinear, dict(CONV, output_normalization=abs), "output_normalization"),
        (ConvRectifiedLinear, dict(CONV, monitor_style="detection"), "monitor_style"),
    ],
)
def test_layer_option_that_would_change_nothing_is_refused(build, kwargs, name):
    with pytest.raises(ValueError, match=_ignored(name)):
        build(**kwargs)


def test_layer_options_at_their_defaults_are_accepted():
    Linear(**LINEAR, use_abs_loss=False, include_prob=1.0, sparse_stdev=1.0)
    Sigmoid(**LINEAR, monitor_style="detection")
    ConvRectifiedLinear(**CONV, monitor_style="classification", detector_normalization=None)


@pytest.mark.parametrize("pool_type, border_mode", [("mean", "valid"), ("max", "same")])
def test_conv_pool_type_and_border_mode_are_choices(pool_type, border_mode):
    with pytest.raises(ValueError, match="must be one of"):
        ConvRectifiedLinear(**CONV, pool_type=pool_type, border_mode=border_mode)


def test_mlp_monitor_targets_false_is_refused():
    with pytest.raises(ValueError, match=_ignored("monitor_targets")):
        MLP([Linear(**LINEAR)], nvis=3, monitor_targets=False)


def test_nested_mlp_batch_size_is_refused_top_level_one_is_used():
    with pytest.raises(ValueError, match="MLP 'enc': " + _ignored("batch_size")):
        MLP([Linear(**LINEAR)], layer_name="enc", batch_size=10)
    assert MLP([Linear(**LINEAR)], nvis=3, batch_size=10).force_batch_size == 10


@pytest.mark.parametrize("name", ["input_source", "target_source"])
def test_nested_mlp_sources_are_refused_top_level_ones_are_used(name):
    with pytest.raises(ValueError, match="MLP 'enc': " + _ignored(name)):
        MLP([Linear(**LINEAR)], layer_name="enc", **{name: "other"})
    top = MLP([Linear(**LINEAR)], nvis=3, **{name: "other"})
    assert (top.get_input_source(), top.get_target_source()).count("other") == 1


def test_seed_of_a_nested_mlp_inside_a_vae_is_refused():
    # The nested MLP draws from the VAE's generator, so its own seed would do nothing.
    encoder = MLP([RectifiedLinear(dim=4, layer_name="h_e_1", irange=0.1)], seed=5)
    with pytest.raises(ValueError, match=_ignored("seed")):
        make_vae(posterior=DiagonalGaussian(mlp=encoder, name="posterior"))


def test_vae_batch_size_is_refused():
    with pytest.raises(ValueError, match="VAE: " + _ignored("batch_size")):
        make_vae(batch_size=20)


def test_conv_include_prob_masks_filters_and_one_draws_no_mask():
    space = Conv2DSpace((6, 6), num_channels=4)
    masked = ConvRectifiedLinear(**dict(CONV, output_channels=50, include_prob=0.25))
    MLP([masked], input_space=space, seed=3)
    W = masked.W.get_value()
    assert 0.15 < np.mean(W != 0) < 0.35
    # The kept taps are the irange draw itself; include_prob=1 draws nothing more, so the
    # filters are exactly the U(-irange, irange) draw from the MLP's generator.
    expected = np.random.RandomState(3).uniform(-0.1, 0.1, W.shape)
    np.testing.assert_array_equal(W[W != 0], expected.astype(W.dtype)[W != 0])
    plain = ConvRectifiedLinear(**dict(CONV, output_channels=50))
    MLP([plain], input_space=space, seed=3)
    np.testing.assert_array_equal(plain.W.get_value(), expected.astype(W.dtype))


# -- compatibility arguments: the default only, one rule (docs/quirks.md) -----------------


def test_sgd_refuses_a_theano_function_mode():
    from pylearn_vae.training_algorithms.sgd import SGD

    SGD(learning_rate=0.1, theano_function_mode=None)
    with pytest.raises(ValueError, match=r"^SGD: theano_function_mode='FAST_RUN' chooses how"):
        SGD(learning_rate=0.1, theano_function_mode="FAST_RUN")


def test_sigmoid_refuses_every_monitor_style_but_detection():
    for style in ("classification", "one_hot_class", "bit_vector_class", "other"):
        with pytest.raises(ValueError, match=f"monitor_style='{style}' only chooses"):
            Sigmoid(**LINEAR, monitor_style=style)


def test_train_py_refuses_level_name(tmp_path, capsys):
    from pylearn_vae.scripts.train import main, train

    config = tmp_path / "x.yaml"
    config.write_text("!obj:pylearn_vae.train.Train {}\n")
    assert main(["-L", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "train.py: -L/--level-name=True did nothing in Pylearn2's train.py either, so it "
        "would be silently ignored; leave -L out"
    )
    with pytest.raises(ValueError, match="-L/--level-name=True did nothing"):
        train(str(config), level_name=True)
