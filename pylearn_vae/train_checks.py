"""What :class:`pylearn_vae.train.Train` checks before and while it trains: the data's
values, and every monitoring channel's latest value."""

import logging
import math

from pylearn_vae.utils.validation import check_data_values, outside_0_1

__all__ = ["check_finite_channels", "check_training_data"]

log = logging.getLogger("pylearn_vae.train")


def check_finite_channels(monitor, dataset_names=None):
    """Stop training (RuntimeError) when a monitoring channel's latest value is NaN or inf.

    The message names the channel, its dataset and the epoch; as with a non-finite
    cost (see :mod:`pylearn_vae.training_algorithms.sgd`), nothing more is saved.
    """
    dataset_names = dataset_names or {}
    for name, channel in monitor.channels.items():
        if not channel.val_record:
            continue
        value = float(channel.val_record[-1])
        if not math.isfinite(value):
            dataset = dataset_names.get(id(channel.dataset))
            where = "" if dataset is None else f" (monitoring dataset {dataset!r})"
            raise RuntimeError(
                f"monitoring channel {name}{where} is {value} at epoch "
                f"{monitor.get_epochs_seen()}: training stopped. Check that dataset's values "
                "and try a smaller learning rate"
            )


def check_training_data(model, dataset, monitoring_datasets=None):
    """Before training: every dataset's values must be finite (ValueError), and a warning
    is logged when the model's conditional is a
    :class:`~pylearn_vae.models.vae.conditional.BernoulliVector` and they are not in
    ``[0, 1]`` (only logged: Pylearn2's own VAE test YAMLs train one on Gaussian noise).
    """
    from pylearn_vae.models.vae.conditional import BernoulliVector

    binary = isinstance(getattr(model, "conditional", None), BernoulliVector)
    named = [("training dataset", dataset)] + [
        (f"monitoring dataset {name!r}", d) for name, d in (monitoring_datasets or {}).items()
    ]
    seen = set()
    for what, data in named:
        get = getattr(data, "get_design_matrix", None)
        if get is None or id(data) in seen:
            continue
        seen.add(id(data))
        what = f"the {what} ({type(data).__name__})"
        X = check_data_values(what, get())
        problem = outside_0_1(what, X) if binary else None
        if problem:
            log.warning("%s", problem)
