"""Termination criteria, ``continue_learning(model) -> bool`` (``pylearn2/termination_criteria``).

A criterion is asked once before the first epoch and once after each epoch's
monitoring step; training stops at the first False. ``check_channels(channels)`` is
called by :class:`~pylearn_vae.train.Train` once the monitor is set up, before any
monitoring, so a criterion watching a channel that does not exist fails before training.
``get_state``/``set_state`` save and restore a criterion's counters for a checkpoint.
"""

from pylearn_vae.utils.checkpoint import Stateful, set_states_of
from pylearn_vae.utils.validation import check_number_in, check_positive_int

__all__ = [
    "And",
    "ChannelTarget",
    "EpochCounter",
    "MonitorBased",
    "Or",
    "TerminationCriterion",
    "counts_epochs_only",
    "epoch_limit",
]


def _channel(model, name):
    channels = model.monitor.channels
    if name not in channels:
        raise KeyError(f"the monitor has no channel {name!r}; its channels are {sorted(channels)}")
    return channels[name]


def _check_channel_name(owner, name, optional=False):
    """A channel name is a non-empty string (None too, when ``optional``)."""
    if (name is None and optional) or (isinstance(name, str) and name):
        return name
    raise ValueError(f"{owner}: channel_name must be a channel's name (a string), got {name!r}")


class TerminationCriterion(Stateful):
    """Abstract base of termination criteria."""

    def continue_learning(self, model):
        """Whether training should go on for another epoch."""
        raise NotImplementedError(f"{type(self).__name__} does not implement continue_learning")

    def check_channels(self, channels):
        """Raise ValueError when a channel this criterion reads is not in ``channels``."""
        name = getattr(self, "_channel_name", None)
        if name is not None and name not in channels:
            raise ValueError(
                f"{type(self).__name__}: channel_name {name!r} is not a channel of the "
                f"monitor; its channels are {', '.join(sorted(channels)) or 'none'}"
            )


class EpochCounter(TerminationCriterion):
    """Stop after exactly ``max_epochs`` epochs.

    Parameters
    ----------
    max_epochs : int
        At least 1 (0 would save an untrained model as a finished run).
    new_epochs : bool
        Count from the epochs already seen at the first call (a resumed model trains
        ``max_epochs`` more) rather than from zero. (A run resumed from its checkpoint
        keeps its count: it is the same run.)
    """

    _state_fields = ("_offset",)

    def __init__(self, max_epochs, new_epochs=True):
        self._max_epochs = check_positive_int("EpochCounter", "max_epochs", max_epochs)
        self._new_epochs = new_epochs
        self._offset = None

    def continue_learning(self, model):
        seen = model.monitor.get_epochs_seen()
        if self._offset is None:
            self._offset = seen if self._new_epochs else 0
        return seen - self._offset < self._max_epochs

    @property
    def max_epochs(self):
        """The number of epochs to train (settable: ``train.py --epochs`` sets it)."""
        return self._max_epochs

    @max_epochs.setter
    def max_epochs(self, value):
        self._max_epochs = check_positive_int("EpochCounter", "max_epochs", value)


class MonitorBased(TerminationCriterion):
    """Stop once a channel has not decreased by ``prop_decrease`` for ``N`` calls.

    A value below ``(1 - prop_decrease) * best`` resets the countdown to ``N``, any
    other value decrements it; training goes on while the countdown is positive.

    Parameters
    ----------
    prop_decrease : float
        In ``[0, 1)``.
    N : int
        At least 1.
    channel_name : str, optional
        ``'objective'`` when None; if the monitor has no ``objective`` but exactly one
        channel, that channel (what Pylearn2's docs promised, docs/quirks.md#quirk-21).
    """

    _state_fields = ("countdown", "best_value")

    def __init__(self, prop_decrease=0.01, N=5, channel_name=None):
        self._channel_name = _check_channel_name("MonitorBased", channel_name, optional=True)
        self.prop_decrease = check_number_in(
            "MonitorBased", "prop_decrease", prop_decrease, 0, 1, high_open=True
        )
        self.N = N = check_positive_int("MonitorBased", "N", N)
        self.countdown = N
        self.best_value = float("inf")

    def continue_learning(self, model):
        name = self._channel_name
        if name is None:
            channels = model.monitor.channels
            name = "objective"
            if name not in channels and len(channels) == 1:
                name = next(iter(channels))
        value = _channel(model, name).val_record[-1]
        if value < (1.0 - self.prop_decrease) * self.best_value:
            self.countdown = self.N
        else:
            self.countdown -= 1
        self.best_value = min(self.best_value, value)
        return self.countdown > 0


class ChannelTarget(TerminationCriterion):
    """Stop once a channel's last value is at or below ``target``.

    Parameters
    ----------
    channel_name : str
    target : float
    """

    def __init__(self, channel_name, target):
        self._channel_name = _check_channel_name("ChannelTarget", channel_name)
        self._target = check_number_in("ChannelTarget", "target", target)

    def continue_learning(self, model):
        return _channel(model, self._channel_name).val_record[-1] > self._target


class _Combination(TerminationCriterion):
    def __init__(self, criteria):
        criteria = list(criteria)
        for c in criteria:
            if not isinstance(c, TerminationCriterion):
                raise TypeError(
                    f"{type(self).__name__} needs TerminationCriterion objects, got "
                    f"{type(c).__name__}"
                )
        self._criteria = criteria

    @property
    def criteria(self):
        """The combined criteria, a tuple."""
        return tuple(self._criteria)

    def check_channels(self, channels):
        for criterion in self._criteria:
            criterion.check_channels(channels)

    def _answers(self, model):
        # Every criterion is asked, so stateful ones (MonitorBased) stay up to date;
        # Pylearn2's all()/any() short-circuited (docs/quirks.md#quirk-21).
        return [c.continue_learning(model) for c in self._criteria]

    def get_state(self):
        return [c.get_state() for c in self._criteria]

    def set_state(self, state):
        set_states_of(self._criteria, state, f"criteria of {type(self).__name__}")


class And(_Combination):
    """Continue while every criterion says so (all are evaluated each time).

    Parameters
    ----------
    criteria : list of TerminationCriterion
    """

    def continue_learning(self, model):
        return all(self._answers(model))


class Or(_Combination):
    """Continue while any criterion says so (all are evaluated each time).

    Parameters
    ----------
    criteria : list of TerminationCriterion
    """

    def continue_learning(self, model):
        return any(self._answers(model))


def epoch_limit(criterion, epochs_seen=0):
    """The epoch count at which ``criterion`` stops at the latest, or None if unknown.

    An :class:`EpochCounter` stops at ``max_epochs`` (counted from ``epochs_seen`` when
    it counts new epochs and has not been asked yet); :class:`And` at the earliest
    limit of its parts; :class:`Or` at the latest, when every part has one.
    """
    if isinstance(criterion, EpochCounter):
        offset = criterion._offset
        if offset is None:
            offset = epochs_seen if criterion._new_epochs else 0
        return offset + criterion._max_epochs
    if isinstance(criterion, (And, Or)):
        limits = [epoch_limit(c, epochs_seen) for c in criterion._criteria]
        known = [limit for limit in limits if limit is not None]
        if isinstance(criterion, And):
            return min(known) if known else None
        return max(limits) if known and len(known) == len(limits) else None
    return None


def counts_epochs_only(criterion):
    """Whether ``criterion`` decides by the epoch count alone: an :class:`EpochCounter`,
    or an :class:`And`/:class:`Or` of such. Asking one again changes nothing, and a
    finished run it stopped may continue when its limit is raised."""
    if isinstance(criterion, EpochCounter):
        return True
    if isinstance(criterion, _Combination):
        return all(counts_epochs_only(c) for c in criterion.criteria)
    return False
