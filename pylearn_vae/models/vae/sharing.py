"""What a VAE computes once per batch while the monitor evaluates its channels.

The monitor asks for a batch's ``objective`` (the cost), the cost's channels and the
model's channels; for a VAE each is an encode/decode pass of the same batch. Inside
:meth:`VAE.sharing_passes <pylearn_vae.models.vae.VAE.sharing_passes>` a
:class:`SharedPasses` remembers, per batch array (by identity), the passes drawn for it
and the lower bound and importance-sampling estimate computed from them, so every
channel reads one pass.

Groups: the monitor may also name the next few batches it will evaluate. A VAE's
pass is row by row, so the first request for any of them computes the pass of all of
them at once, as one larger batch (larger matrix products, elementwise formulas long
enough for several threads), and each batch gets its rows. Only when the pass is small
enough: :data:`GROUP_ELEMENTS` bounds ``num_samples * rows * width`` of a grouped pass.
"""

import numpy

from pylearn_vae.backend import get_array_module

__all__ = ["GROUP_ELEMENTS", "SharedPasses", "joined_rows"]

#: Largest ``num_samples * rows * max(nvis, nhid)`` of a pass computed for a group of
#: batches (16 MiB of float32): the main job's monitoring groups five batches of 200
#: with one sample; an importance-sampled cost with 1,000 samples is not grouped.
GROUP_ELEMENTS = 1 << 22


def joined_rows(arrays):
    """The arrays, ``(rows_i, ...)`` each, as one ``(sum rows_i, ...)`` array.

    A read-only view when they are consecutive rows of one host array's memory (the
    monitor's sequential batches are views of the dataset); otherwise a copy
    (``concatenate``).
    """
    first = arrays[0]
    if not all(isinstance(a, numpy.ndarray) for a in arrays) or first.base is None:
        return get_array_module(first).concatenate(arrays, axis=0)
    address = first.__array_interface__["data"][0]
    for a in arrays:
        if (
            a.base is not first.base
            or a.dtype != first.dtype
            or a.strides != first.strides
            or a.shape[1:] != first.shape[1:]
            or a.__array_interface__["data"][0] != address
        ):
            return get_array_module(first).concatenate(arrays, axis=0)
        address += a.shape[0] * first.strides[0]
    rows = sum(a.shape[0] for a in arrays)
    return numpy.lib.stride_tricks.as_strided(
        first, (rows,) + first.shape[1:], first.strides, writeable=False
    )


def _rows_of(value, rows, samples_axis):
    """The rows ``rows`` (a slice) of one shared value.

    ``samples_axis`` says which arrays carry a leading samples axis: a pass is
    ``(epsilon, phi, z, theta)`` with phi's arrays ``(batch, ...)`` and the others
    ``(num_samples, batch, ...)``; a lower bound's terms and an estimate are
    ``(batch,)``.
    """
    if isinstance(value, tuple):
        if isinstance(samples_axis, bool):  # a tuple of arrays alike (phi, theta)
            samples_axis = (samples_axis,) * len(value)
        return tuple(_rows_of(v, rows, s) for v, s in zip(value, samples_axis, strict=True))
    return value[:, rows] if samples_axis else value[rows]


# Which parts of each kind of value have a samples axis (see _rows_of).
_PASS_LAYOUT = (True, False, True, True)


class SharedPasses:
    """The memo of one sharing block.

    Parameters
    ----------
    group : list of arrays, optional
        Batches the block will ask about, which may be computed together.
    width : int
        ``max(nvis, nhid)`` of the VAE, to size a grouped pass.
    """

    def __init__(self, group=(), width=1):
        self._memo = {}  # id(X) -> (X, {key: value}); holding X keeps its id unique
        group = [a for a in group if getattr(a, "ndim", 0) == 2]
        if len(group) < 2 or len({a.shape[1:] for a in group}) != 1:
            group = []  # nothing to compute together
        self._group = group
        self._elements = sum(a.shape[0] for a in group) * width  # per sample of z
        self._whole = None

    def memo(self, X):
        """The dict of what is known about batch ``X``."""
        entry = self._memo.get(id(X))
        if entry is None or entry[0] is not X:
            entry = self._memo[id(X)] = (X, {})
        return entry[1]

    def pass_for(self, X, num_samples, compute):
        """The pass of ``X`` with ``num_samples`` samples: a known pass with as many or
        more samples (its first ``num_samples``), else ``compute(X, num_samples)``."""
        memo = self.memo(X)
        larger = [key[1] for key in memo if key[0] == "pass" and key[1] >= num_samples]
        if larger:
            n = min(larger)
            epsilon, phi, z, theta = memo["pass", n]
            if n == num_samples:
                return memo["pass", n]
            return (
                epsilon[:num_samples],
                phi,
                z[:num_samples],
                tuple(t[:num_samples] for t in theta),
            )
        return self.value(X, ("pass", num_samples), num_samples, compute, _PASS_LAYOUT)

    def value(self, X, key, num_samples, compute, layout=False):
        """The value ``key`` of ``X``: remembered, or computed by ``compute(X, num_samples)``
        (for the whole group when ``X`` is in it and the pass is small enough)."""
        memo = self.memo(X)
        if key in memo:
            return memo[key]
        if not self._computes_together(X, num_samples):
            memo[key] = compute(X, num_samples)
            return memo[key]
        if self._whole is None:
            self._whole = joined_rows(self._group)
        # The group's value, remembered under the group's own array (not a member); a
        # pass may be the first samples of a larger one.
        if key[0] == "pass":
            whole = self.pass_for(self._whole, num_samples, compute)
        else:
            whole = self.value(self._whole, key, num_samples, compute, layout)
        start = 0
        for member in self._group:
            rows = slice(start, start + member.shape[0])
            self.memo(member).setdefault(key, _rows_of(whole, rows, layout))
            start = rows.stop
        return memo[key]

    def _computes_together(self, X, num_samples):
        """Whether ``X`` is one of the group's batches and their pass is small enough."""
        return (
            any(a is X for a in self._group)
            and num_samples * self._elements <= GROUP_ELEMENTS
        )
