"""The same Momentum steps on several devices, for the GPU tests (real and emulated)."""

from collections import OrderedDict

import numpy as np

from pylearn_vae import backend
from pylearn_vae.models.model import Param
from pylearn_vae.training_algorithms.learning_rule import Momentum

__all__ = ["momentum_on_each_device"]


def momentum_on_each_device(devices, nesterov, seed=4):
    """Three Momentum steps from the same start on each device: ``{device: [W, b]}``.

    Parameters
    ----------
    devices : sequence of {'cpu', 'gpu'}
        Each is selected with :func:`backend.set_device` in turn (the last one stays).
    nesterov : bool
        ``Momentum(0.7, nesterov_momentum=nesterov)``.
    seed : int
        Seeds the start values (``W`` of shape ``(4, 3)``, ``b`` of shape ``(3,)``) and
        the three gradients.

    Returns
    -------
    dict {device: [W, b]}
        The values after three steps at learning rate 0.1, ``b``'s scaled by 0.5, as
        arrays of that device (the device's update runs a fused kernel there).
    """
    rng = np.random.RandomState(seed)
    start = [rng.standard_normal(s) for s in ((4, 3), (3,))]
    grads = [[rng.standard_normal(v.shape) for v in start] for _ in range(3)]
    results = {}
    for device in devices:
        backend.set_device(device)
        params = [Param(v, name=n) for v, n in zip(start, "Wb", strict=True)]
        rule, lr = Momentum(0.7, nesterov_momentum=nesterov), Param(0.1)
        for step in grads:
            step = OrderedDict((p, backend.asarray(g)) for p, g in zip(params, step, strict=True))
            for param, value in rule.get_updates(lr, step, {params[1]: 0.5}).items():
                param.set_value(value, borrow=True)
        results[device] = [p.get_value(borrow=True) for p in params]
    return results
