"""Learning rules: gradients to updates (``pylearn2/training_algorithms/learning_rule.py``).

Protocol
--------
``get_updates(learning_rate, grads, lr_scalers=None) -> OrderedDict {Param: new value}``

``learning_rate`` is the algorithm's 0-d ``learning_rate`` :class:`Param` (or a
number), ``grads`` an ``OrderedDict {Param: gradient array}`` and ``lr_scalers`` a
``{Param: float}`` of multipliers; below ``eta = learning_rate * lr_scalers.get(p, 1)``.
The result maps every parameter to its new value and every piece of auxiliary state
(a :class:`Param` such as ``vel_<param>``, created with zeros on the first call) to its
new value. ``get_updates`` changes nothing itself: :class:`~.sgd.SGD` applies the
whole dict with ``set_value`` after ``model.modify_updates``, so calling it twice with
the same gradients gives the same answer.

``get_updates_in_place(learning_rate, grads, lr_scalers=None)`` is the training step's
variant (not in Pylearn2): the same new values, which a rule may write into the stored
arrays of the parameters and of its state instead of new ones (:class:`Momentum` does,
on the CPU); :meth:`~.sgd.SGD.sgd_update` calls it, after ``SGD.setup`` made each
parameter own its array. By default it is ``get_updates``.

``add_channels_to_monitor(monitor, monitoring_dataset)`` adds the rule's data-free
channels (``momentum``, ...).

``get_state()`` / ``set_state(state)`` save and restore the rule's state (velocities,
accumulators, step counter) for a checkpoint; the state Params must exist, as they do
after :meth:`~.sgd.SGD.setup`.
"""

from collections import OrderedDict

import numpy

from pylearn_vae import backend, ops
from pylearn_vae.models.model import Param
from pylearn_vae.monitor import Monitor
from pylearn_vae.space import NullSpace
from pylearn_vae.train_extensions import TrainExtension
from pylearn_vae.utils.checkpoint import params_state, set_params_state
from pylearn_vae.utils.validation import check_nonnegative_int, check_number_in

__all__ = [
    "AdaDelta",
    "AdaGrad",
    "Adam",
    "LearningRule",
    "Momentum",
    "MomentumAdjustor",
    "RMSProp",
]


def _value(x):
    """The array behind a :class:`Param`, or ``x`` itself."""
    return x.get_value(borrow=True) if hasattr(x, "get_value") else x


def scaled_learning_rates(learning_rate, params, lr_scalers=None):
    """``{param: learning_rate * scale(param)}``, each distinct product computed once."""
    lr = _value(learning_rate)
    lr_scalers = lr_scalers or {}
    by_scale, etas = {}, {}
    for p in params:
        scale = lr_scalers.get(p, 1.0)
        eta = by_scale.get(scale)
        if eta is None:
            eta = by_scale[scale] = lr if scale == 1.0 else lr * scale
        etas[p] = eta
    return etas


def _state(store, param, prefix):
    """The zero-initialised state :class:`Param` of ``param`` named ``prefix + name``."""
    state = store.get(param)
    if state is None:
        value = param.get_value(borrow=True)
        xp = backend.get_array_module(value)
        name = None if param.name is None else prefix + param.name
        state = store[param] = Param(xp.zeros_like(value), name=name, dtype=value.dtype)
    return state


def _check_decay(owner, decay, name="decay"):
    """A rate in ``[0, 1)``: a decay, a momentum, an Adam beta."""
    return check_number_in(owner, name, decay, 0, 1, high_open=True)


def _check_max_scaling(owner, max_scaling):
    return check_number_in(owner, "max_scaling", max_scaling, 0, low_open=True)


class LearningRule:
    """Abstract base of learning rules; see the module docstring for the protocol.

    Subclasses name their state for checkpoints: ``_state_params``, attributes holding a
    scalar :class:`Param`; ``_state_dicts``, attributes holding ``{param: state Param}``.
    """

    _state_params = ()
    _state_dicts = ()

    def add_channels_to_monitor(self, monitor, monitoring_dataset):
        """Add the rule's channels (none by default)."""

    def get_updates_in_place(self, learning_rate, grads, lr_scalers=None):
        """:meth:`get_updates` for a step that owns the stored arrays (see the module
        docstring); a rule may write its new values into them. This default does not."""
        return self.get_updates(learning_rate, grads, lr_scalers)

    def get_state(self):
        """The values of the rule's state Params, by name (plain data)."""
        return {
            "params": params_state([getattr(self, name) for name in self._state_params]),
            "dicts": {
                name: params_state(list(getattr(self, name).values()))
                for name in self._state_dicts
            },
        }

    def set_state(self, state):
        """Give the rule's state Params the values of :meth:`get_state`'s ``state``."""
        what = f"the state of {type(self).__name__}"
        set_params_state([getattr(self, n) for n in self._state_params], state["params"], what)
        for name in self._state_dicts:
            set_params_state(list(getattr(self, name).values()), state["dicts"][name], what)

    def get_updates(self, learning_rate, grads, lr_scalers=None):
        raise NotImplementedError(f"{type(self).__name__} does not implement get_updates")


class Momentum(LearningRule):
    """Classical or Nesterov momentum.

    ``v' = mu v - eta g``; classic ``p' = p + v'``, Nesterov ``p' = p + mu v' - eta g``.
    The velocity of ``p`` is the Param ``vel_<p.name>``.

    Parameters
    ----------
    init_momentum : float
        ``mu``, in ``[0, 1)``; kept in the 0-d Param ``momentum`` (see
        :class:`MomentumAdjustor`).
    nesterov_momentum : bool
    """

    _state_params = ("momentum",)
    _state_dicts = ("velocity",)

    def __init__(self, init_momentum, nesterov_momentum=False):
        init_momentum = _check_decay("Momentum", init_momentum, "init_momentum")
        self.momentum = Param(init_momentum, name="momentum")
        self.nesterov_momentum = bool(nesterov_momentum)
        self.velocity = OrderedDict()

    def add_channels_to_monitor(self, monitor, monitoring_dataset):
        monitor.add_channel(
            name="momentum",
            ipt=None,
            val=self.momentum,
            data_specs=(NullSpace(), ""),
            dataset=monitoring_dataset,
        )

    def get_updates(self, learning_rate, grads, lr_scalers=None):
        return self._updates(learning_rate, grads, lr_scalers, in_place=False)

    def get_updates_in_place(self, learning_rate, grads, lr_scalers=None):
        """:meth:`get_updates`, the new values written into the stored arrays.

        On the CPU, where a parameter, its velocity and the update share one dtype, the
        velocity becomes ``v *= mu; v -= eta g`` and the parameter ``p += v`` (Nesterov:
        ``p += mu v - eta g``) in their own arrays: the same operations in the same order
        as :meth:`get_updates`, so the same bits, without its three new arrays per
        parameter. Elsewhere (a GPU, a mixed dtype, a read-only array) the parameter
        gets :meth:`get_updates`'s new arrays.
        """
        return self._updates(learning_rate, grads, lr_scalers, in_place=True)

    def _updates(self, learning_rate, grads, lr_scalers, in_place):
        etas = scaled_learning_rates(learning_rate, grads, lr_scalers)
        mu = self.momentum.get_value(borrow=True)
        updates = OrderedDict()
        for param, grad in grads.items():
            vel = _state(self.velocity, param, "vel_")
            value, velocity = param.get_value(borrow=True), vel.get_value(borrow=True)
            if not (in_place and _writable_alike(value, velocity, grad, etas[param], mu)):
                new_value, updates[vel] = ops.momentum_update(
                    value, velocity, grad, etas[param], mu, self.nesterov_momentum
                )
                updates[param] = new_value
                continue
            # ops.momentum_update's formulas, in the stored arrays themselves: the same
            # operations in the same order, so the same bits.
            step = grad * etas[param]
            new_vel = numpy.multiply(velocity, mu, out=velocity)
            new_vel -= step
            updates[vel] = new_vel
            if self.nesterov_momentum:
                step *= -1
                step += new_vel * mu  # mu v' - eta g
            else:
                step = new_vel
            updates[param] = numpy.add(value, step, out=value)
        return updates


def _writable_alike(value, velocity, grad, eta, mu):
    """Whether ``value`` and ``velocity`` are writable host (NumPy) arrays of the dtype
    that the momentum formulas give, so they can be updated in place (on a GPU the
    fused kernel of :meth:`Momentum.get_updates` is one launch per parameter)."""
    return (
        all(
            isinstance(a, numpy.ndarray) and backend.get_array_module(a) is numpy
            for a in (value, velocity, grad)
        )
        and value.flags.writeable
        and velocity.flags.writeable
        and value.shape == velocity.shape == grad.shape
        and numpy.result_type(value, velocity, grad, eta, mu) == value.dtype
    )


class MomentumAdjustor(TrainExtension):
    """Moves the momentum linearly from its initial value to ``final_momentum``.

    ``count`` starts at the epochs seen in ``setup`` and grows by one at each
    ``on_monitor``, so training epoch ``e`` (1-based) uses ``count = e``:
    ``alpha = clip((count - start) / (saturate - start), 0, 1)``,
    ``mu = (1 - alpha) init + alpha final`` (``saturate == start`` jumps at ``start``).

    Parameters
    ----------
    final_momentum : float
    start, saturate : int
        Epochs; ``saturate < start`` is a TypeError (as in Pylearn2).
    """

    _state_fields = ("_initialized", "_init_momentum", "_count")

    def __init__(self, final_momentum, start, saturate):
        self.final_momentum = _check_decay("MomentumAdjustor", final_momentum, "final_momentum")
        start = check_nonnegative_int("MomentumAdjustor", "start", start)
        saturate = check_nonnegative_int("MomentumAdjustor", "saturate", saturate)
        if saturate < start:
            raise TypeError(
                "Momentum can't saturate at its maximum value before it starts increasing "
                f"(start={start}, saturate={saturate})."
            )
        self.start = start
        self.saturate = saturate
        self._initialized = False
        self._init_momentum = None
        self._count = 0

    def setup(self, model, dataset, algorithm):
        self._count = Monitor.get_monitor(model).get_epochs_seen()
        self._apply_momentum(algorithm)

    def on_monitor(self, model, dataset, algorithm):
        self._count += 1
        self._apply_momentum(algorithm)

    def _apply_momentum(self, algorithm):
        rule = getattr(algorithm, "learning_rule", None)
        if rule is None or not hasattr(rule, "momentum"):
            raise ValueError(
                "For MomentumAdjustor to work, you need to use a TrainingAlgorithm that "
                "supports learning rules (for instance, SGD), and specify a learning_rule "
                "with a momentum (for instance, Momentum) for that training algorithm."
            )
        if not self._initialized:
            self._init_momentum = float(backend.to_host(rule.momentum.get_value()))
            self._initialized = True
        rule.momentum.set_value(backend.cast_floatX(self.current_momentum()))

    def current_momentum(self):
        """The momentum for the current ``count``."""
        width = self.saturate - self.start
        if width == 0:
            return self.final_momentum if self._count >= self.start else self._init_momentum
        alpha = min(max((self._count - self.start) / width, 0.0), 1.0)
        return self._init_momentum * (1.0 - alpha) + alpha * self.final_momentum


class AdaDelta(LearningRule):
    """AdaDelta (Zeiler 2012), with the scaled learning rate as its epsilon.

    ``Eg2' = rho Eg2 + (1 - rho) g^2``; ``dx = -sqrt(Edx2 + eps) / sqrt(Eg2' + eps) g``;
    ``Edx2' = rho Edx2 + (1 - rho) dx^2``; ``p' = p + dx`` with ``eps = eta``.
    State: ``mean_square_grad_<p>``, ``mean_square_dx_<p>``.

    Parameters
    ----------
    decay : float
        ``rho``, in ``[0, 1)``.
    """

    _state_dicts = ("mean_square_grads", "mean_square_dxs")

    def __init__(self, decay=0.95):
        self.decay = _check_decay("AdaDelta", decay)
        self.mean_square_grads = OrderedDict()
        self.mean_square_dxs = OrderedDict()

    def get_updates(self, learning_rate, grads, lr_scalers=None):
        etas = scaled_learning_rates(learning_rate, grads, lr_scalers)
        rho = self.decay
        updates = OrderedDict()
        for param, grad in grads.items():
            xp = backend.get_array_module(grad)
            msg = _state(self.mean_square_grads, param, "mean_square_grad_")
            msdx = _state(self.mean_square_dxs, param, "mean_square_dx_")
            eps = etas[param]
            new_msg = rho * msg.get_value(borrow=True) + (1.0 - rho) * grad * grad
            old_msdx = msdx.get_value(borrow=True)
            delta = -xp.sqrt(old_msdx + eps) / xp.sqrt(new_msg + eps) * grad
            updates[msg] = new_msg
            updates[msdx] = rho * old_msdx + (1.0 - rho) * delta * delta
            updates[param] = param.get_value(borrow=True) + delta
        return updates


class RMSProp(LearningRule):
    """RMSProp (Hinton, lecture 6): divide by a running RMS of the gradient.

    ``ms' = d ms + (1 - d) g^2``; ``p' = p - eta g / max(sqrt(ms'), 1 / max_scaling)``.
    State ``mean_square_grad_<p>``; channels ``mean_square_grad_<p>_{min,max,mean}``.

    Parameters
    ----------
    decay : float
        In ``[0, 1)``.
    max_scaling : float
        Largest factor the gradient may be multiplied by (> 0).
    """

    _state_dicts = ("mean_square_grads",)

    def __init__(self, decay=0.9, max_scaling=1e5):
        self.decay = _check_decay("RMSProp", decay)
        self.epsilon = 1.0 / _check_max_scaling("RMSProp", max_scaling)
        self.mean_square_grads = OrderedDict()

    def add_channels_to_monitor(self, monitor, monitoring_dataset):
        for msg in self.mean_square_grads.values():
            for suffix, reduce in (("_min", "min"), ("_max", "max"), ("_mean", "mean")):

                def val(msg=msg, reduce=reduce):
                    return getattr(msg.get_value(borrow=True), reduce)()

                monitor.add_channel(
                    name=msg.name + suffix,
                    ipt=None,
                    val=val,
                    data_specs=(NullSpace(), ""),
                    dataset=monitoring_dataset,
                )

    def get_updates(self, learning_rate, grads, lr_scalers=None):
        etas = scaled_learning_rates(learning_rate, grads, lr_scalers)
        d = self.decay
        updates = OrderedDict()
        for param, grad in grads.items():
            if param.name is None:
                raise ValueError(
                    "RMSProp needs named model parameters (its state and channels are "
                    f"named after them); {param!r} has no name."
                )
            xp = backend.get_array_module(grad)
            msg = _state(self.mean_square_grads, param, "mean_square_grad_")
            new_msg = d * msg.get_value(borrow=True) + (1.0 - d) * grad * grad
            rms = xp.maximum(xp.sqrt(new_msg), self.epsilon)
            updates[msg] = new_msg
            updates[param] = param.get_value(borrow=True) - etas[param] * grad / rms
        return updates


class AdaGrad(LearningRule):
    """AdaGrad (Duchi et al. 2011).

    ``s' = s + g^2``; ``p' = p - eta g / max(sqrt(s'), 1 / max_scaling)``.
    State ``sum_square_grad_<p>``.

    Parameters
    ----------
    max_scaling : float
        Largest factor the gradient may be multiplied by (> 0).
    """

    _state_dicts = ("sum_square_grads",)

    def __init__(self, max_scaling=1e5):
        self.eps = 1.0 / _check_max_scaling("AdaGrad", max_scaling)
        self.sum_square_grads = OrderedDict()

    def get_updates(self, learning_rate, grads, lr_scalers=None):
        etas = scaled_learning_rates(learning_rate, grads, lr_scalers)
        updates = OrderedDict()
        for param, grad in grads.items():
            xp = backend.get_array_module(grad)
            ssg = _state(self.sum_square_grads, param, "sum_square_grad_")
            new_ssg = ssg.get_value(borrow=True) + grad * grad
            scale = xp.maximum(self.eps, xp.sqrt(new_ssg))
            updates[ssg] = new_ssg
            updates[param] = param.get_value(borrow=True) - etas[param] / scale * grad
        return updates


class Adam(LearningRule):
    """Adam (Kingma & Ba 2015), bias-corrected; not in Pylearn2 (docs/quirks.md#quirk-29).

    ``t' = t + 1``; ``m' = b1 m + (1 - b1) g``; ``v' = b2 v + (1 - b2) g^2``;
    ``p' = p - eta (m' / (1 - b1^t')) / (sqrt(v' / (1 - b2^t')) + epsilon)``.
    State ``adam_m_<p>``, ``adam_v_<p>`` and the float64 step counter ``adam_t``.

    Parameters
    ----------
    beta1, beta2 : float
        Decay rates of the moment estimates, in ``[0, 1)``.
    epsilon : float
    """

    _state_params = ("t",)
    _state_dicts = ("first_moments", "second_moments")

    def __init__(self, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.beta1 = _check_decay("Adam", beta1, "beta1")
        self.beta2 = _check_decay("Adam", beta2, "beta2")
        self.epsilon = check_number_in("Adam", "epsilon", epsilon, 0, low_open=True)
        self.t = Param(0.0, name="adam_t", dtype="float64")
        self.first_moments = OrderedDict()
        self.second_moments = OrderedDict()

    def get_updates(self, learning_rate, grads, lr_scalers=None):
        etas = scaled_learning_rates(learning_rate, grads, lr_scalers)
        b1, b2 = self.beta1, self.beta2
        t = self.t.get_value(borrow=True) + 1.0
        # float64 corrections, cast once to each parameter dtype (no upcast of params).
        inv_bc1, inv_bc2 = 1.0 / (1.0 - b1**t), 1.0 / (1.0 - b2**t)
        by_dtype = {}
        updates = OrderedDict()
        for param, grad in grads.items():
            xp = backend.get_array_module(grad)
            m = _state(self.first_moments, param, "adam_m_")
            v = _state(self.second_moments, param, "adam_v_")
            new_m = b1 * m.get_value(borrow=True) + (1.0 - b1) * grad
            new_v = b2 * v.get_value(borrow=True) + (1.0 - b2) * grad * grad
            c1, c2 = by_dtype.get(grad.dtype) or by_dtype.setdefault(
                grad.dtype, (inv_bc1.astype(grad.dtype), inv_bc2.astype(grad.dtype))
            )
            step = etas[param] * (new_m * c1) / (xp.sqrt(new_v * c2) + self.epsilon)
            updates[m] = new_m
            updates[v] = new_v
            updates[param] = param.get_value(borrow=True) - step
        updates[self.t] = t
        return updates
