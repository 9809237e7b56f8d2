"""A convolutional rectified linear layer (``ConvRectifiedLinear`` in ``pylearn2/models/mlp.py``).

Plain, correct and differentiable rather than fast: the convolution is a sum over
kernel offsets of shifted input slices contracted with the filter taps, written in
``autograd.numpy`` so autograd traces it. It is a *true* convolution (the kernel is
flipped, as Theano's ``conv2d`` does), followed by an untied (or tied) bias, the
rectifier and max pooling.
"""

import autograd.numpy as anp
import numpy

from pylearn_vae import ops
from pylearn_vae.backend import get_array_module
from pylearn_vae.models.layer import Layer, layer_label
from pylearn_vae.models.model import Param
from pylearn_vae.space import Conv2DSpace
from pylearn_vae.utils.validation import (
    check_choice,
    check_nonnegative_float,
    check_positive_float,
    check_positive_int,
    check_positive_int_tuple,
    check_probability,
    reject_ignored_option,
)

__all__ = ["ConvRectifiedLinear"]

_BC01 = ("b", "c", 0, 1)


def conv2d_valid(x, filters, stride=(1, 1)):
    """True 2-D convolution, ``valid`` border.

    Parameters
    ----------
    x : array, shape (batch, in_channels, rows, cols)
    filters : array, shape (out_channels, in_channels, k_rows, k_cols)
    stride : pair of int

    Returns
    -------
    array, shape (batch, out_channels, (rows - k_rows) // s_r + 1, (cols - k_cols) // s_c + 1)
    """
    _, _, rows, cols = x.shape
    _, _, kr, kc = filters.shape
    sr, sc = stride
    out_r, out_c = (rows - kr) // sr + 1, (cols - kc) // sc + 1
    flipped = filters[:, :, ::-1, ::-1]
    out = 0.0
    for u in range(kr):
        for v in range(kc):
            patch = x[:, :, u : u + sr * (out_r - 1) + 1 : sr, v : v + sc * (out_c - 1) + 1 : sc]
            out = out + anp.einsum("bcij,oc->boij", patch, flipped[:, :, u, v])
    return out


def pooled_size(size, pool, stride):
    """Pooled extent along one axis: ``ceil((size - pool) / stride) + 1``.

    As Pylearn2's ``max_pool``: every input pixel lies in some window, so the last
    window may hang over the border (its missing pixels count as ``-inf``).
    """
    return -(-(size - pool) // stride) + 1


def max_pool_2d(x, pool_shape, pool_stride):
    """Max pooling over the last two axes of ``(batch, channels, rows, cols)``.

    Returns
    -------
    array, shape (batch, channels, pooled_size(rows, ...), pooled_size(cols, ...))
    """
    pr, pc = pool_shape
    sr, sc = pool_stride
    if (pr, pc) == (1, 1) and (sr, sc) == (1, 1):
        return x
    b, ch, rows, cols = x.shape
    out_r, out_c = pooled_size(rows, pr, sr), pooled_size(cols, pc, sc)
    extra_r, extra_c = sr * (out_r - 1) + pr - rows, sc * (out_c - 1) + pc - cols
    xp = get_array_module(x)
    if extra_r > 0:
        x = anp.concatenate([x, xp.full((b, ch, extra_r, cols), -xp.inf, x.dtype)], axis=2)
    if extra_c > 0:
        x = anp.concatenate([x, xp.full((b, ch, rows + extra_r, extra_c), -xp.inf, x.dtype)], 3)
    windows = [
        x[:, :, u : u + sr * (out_r - 1) + 1 : sr, v : v + sc * (out_c - 1) + 1 : sc]
        for u in range(pr)
        for v in range(pc)
    ]
    return anp.max(anp.stack(windows), axis=0)


class ConvRectifiedLinear(Layer):
    """Convolution, bias, rectifier, then max pooling.

    Parameters
    ----------
    output_channels : int
    kernel_shape, pool_shape, pool_stride : pair of int
    layer_name : str
    irange : float
        Filters ``~ U(-irange, irange)`` (``sparse_init`` is not supported).
    border_mode : str
        ``'valid'`` (``'full'`` zero-pads by ``kernel - 1``).
    include_prob : float
        Probability that a filter tap is kept (the others start at 0). Pylearn2 takes
        this argument but ignores it; here a value below 1 draws a ``U(0, 1) <
        include_prob`` mask after the filters (1, the default, draws nothing, so a seed
        gives Pylearn2's filters).
    init_bias : float
    W_lr_scale, b_lr_scale : float, optional
    left_slope : float
    max_kernel_norm : float, optional
        Largest L2 norm of each output channel's filter.
    pool_type : str
        ``'max'`` only.
    tied_b : bool
        One bias per channel instead of one per output unit.
    kernel_stride : pair of int
    detector_normalization, output_normalization : None
        Not implemented; refused.
    monitor_style : str
        Must stay ``'classification'``: it only chooses layer monitoring channels, which
        pylearn_vae's layers do not report.
    """

    def __init__(
        self,
        output_channels,
        kernel_shape,
        pool_shape,
        pool_stride,
        layer_name,
        irange=None,
        border_mode="valid",
        sparse_init=None,
        include_prob=1.0,
        init_bias=0.0,
        W_lr_scale=None,
        b_lr_scale=None,
        left_slope=0.0,
        max_kernel_norm=None,
        pool_type="max",
        tied_b=False,
        detector_normalization=None,
        output_normalization=None,
        kernel_stride=(1, 1),
        monitor_style="classification",
    ):
        super().__init__()
        if (irange is None) == (sparse_init is None):
            raise ValueError(
                f"ConvRectifiedLinear {layer_name!r} needs exactly one of irange and sparse_init"
            )
        owner = layer_label(self, layer_name)
        reject_ignored_option(
            owner, "sparse_init", sparse_init, None, "is not implemented (use irange)"
        )
        check_nonnegative_float(owner, "irange", irange)
        check_choice(owner, "pool_type", pool_type, ("max",))
        check_choice(owner, "border_mode", border_mode, ("valid", "full"))
        for name, value in [
            ("detector_normalization", detector_normalization),
            ("output_normalization", output_normalization),
        ]:
            reject_ignored_option(owner, name, value, None, "is not implemented")
        reject_ignored_option(
            owner, "monitor_style", monitor_style, "classification",
            "only chooses layer monitoring channels, which pylearn_vae does not report",
        )
        if max_kernel_norm is not None:
            check_positive_float(owner, "max_kernel_norm", max_kernel_norm)
        self.output_channels = check_positive_int(owner, "output_channels", output_channels)
        self.kernel_shape = check_positive_int_tuple(owner, "kernel_shape", kernel_shape, 2)
        self.pool_shape = check_positive_int_tuple(owner, "pool_shape", pool_shape, 2)
        self.pool_stride = check_positive_int_tuple(owner, "pool_stride", pool_stride, 2)
        self.kernel_stride = check_positive_int_tuple(owner, "kernel_stride", kernel_stride, 2)
        self.layer_name = layer_name
        self.irange = irange
        self.border_mode = border_mode
        self.include_prob = check_probability(owner, "include_prob", include_prob)
        self.init_bias = init_bias
        self.W_lr_scale = W_lr_scale
        self.b_lr_scale = b_lr_scale
        self.left_slope = left_slope
        self.max_kernel_norm = max_kernel_norm
        self.tied_b = tied_b

    def set_input_space(self, space):
        if not isinstance(space, Conv2DSpace):
            raise TypeError(
                f"ConvRectifiedLinear {self.layer_name!r} needs a Conv2DSpace input, got "
                f"{space}; put a SpaceConverter before it"
            )
        self.input_space = space
        rows, cols = space.shape
        kr, kc = self.kernel_shape
        if self.border_mode == "full":
            rows, cols = rows + 2 * (kr - 1), cols + 2 * (kc - 1)
        sr, sc = self.kernel_stride
        det_r, det_c = (rows - kr) // sr + 1, (cols - kc) // sc + 1
        if det_r < 1 or det_c < 1:
            raise ValueError(
                f"ConvRectifiedLinear {self.layer_name!r}: kernel {self.kernel_shape} is "
                f"larger than the input {space.shape}"
            )
        self.detector_shape = (det_r, det_c)
        pr, pc = self.pool_shape
        if pr > det_r or pc > det_c:
            raise ValueError(
                f"ConvRectifiedLinear {self.layer_name!r}: pool_shape {self.pool_shape} is "
                f"larger than the detector output {self.detector_shape}"
            )
        pool_r = pooled_size(det_r, pr, self.pool_stride[0])
        pool_c = pooled_size(det_c, pc, self.pool_stride[1])
        self.output_space = Conv2DSpace(
            (pool_r, pool_c), num_channels=self.output_channels, axes=_BC01
        )
        rng = self.mlp.rng
        shape = (self.output_channels, space.num_channels, kr, kc)
        W = rng.uniform(-self.irange, self.irange, shape)
        if self.include_prob < 1:
            W = W * (rng.uniform(0.0, 1.0, shape) < self.include_prob)
        self.W = Param(W, name=f"{self.layer_name}_W")
        b_shape = (self.output_channels,) if self.tied_b else (self.output_channels, det_r, det_c)
        self.b = Param(numpy.zeros(b_shape) + self.init_bias, name=f"{self.layer_name}_b")
        self._params = [self.W, self.b]

    def get_lr_scalers(self):
        scalers = {}
        if self.W_lr_scale is not None:
            scalers[self.W] = float(self.W_lr_scale)
        if self.b_lr_scale is not None:
            scalers[self.b] = float(self.b_lr_scale)
        return scalers

    def _modify_updates(self, updates):
        if self.max_kernel_norm is not None and self.W in updates:
            W = updates[self.W]
            xp = get_array_module(W)
            norms = xp.sqrt((W * W).sum(axis=(1, 2, 3), keepdims=True))
            desired = xp.clip(norms, 0, self.max_kernel_norm)
            updates[self.W] = W * (desired / (1e-7 + norms))

    def fprop(self, state_below):
        bc01 = Conv2DSpace(
            self.input_space.shape, num_channels=self.input_space.num_channels, axes=_BC01
        )
        x = self.input_space.format_as(state_below, bc01)
        if self.border_mode == "full":
            kr, kc = self.kernel_shape
            x = anp.pad(x, ((0, 0), (0, 0), (kr - 1, kr - 1), (kc - 1, kc - 1)))
        z = conv2d_valid(x, self.W.value, self.kernel_stride)
        b = self.b.value
        z = z + (b.reshape((1, -1, 1, 1)) if self.tied_b else b.reshape((1,) + b.shape))
        return max_pool_2d(ops.relu(z, self.left_slope), self.pool_shape, self.pool_stride)
