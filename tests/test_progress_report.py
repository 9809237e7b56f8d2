"""The progress line and closing summary of ``train.py`` (:class:`ProgressReport`)."""

from types import SimpleNamespace

from pylearn_vae.monitor import MonitorChannel
from pylearn_vae.space import NullSpace
from pylearn_vae.train_extensions.progress_report import ProgressReport


def model_with_history(values):
    """A model whose monitor has recorded ``values`` of ``train_objective``, one per epoch."""
    channel = MonitorChannel(lambda: 0.0, "train_objective", (NullSpace(), ""), None)
    channel.val_record = list(values)
    channel.epoch_record = list(range(len(values)))
    monitor = SimpleNamespace(
        channels={"train_objective": channel}, get_epochs_seen=lambda: len(values) - 1
    )
    return SimpleNamespace(monitor=monitor)


def test_a_resumed_run_reports_the_best_of_the_whole_run():
    """The first step after a resume knows the epochs before it, from the monitor's record."""
    report = ProgressReport(bar=False)
    report.setup(None, None, SimpleNamespace())
    report.on_monitor(model_with_history([9.0, 5.0, 7.0, 6.0]), None, None)
    assert (report.best_value, report.best_epoch) == (5.0, 1)
    assert report.summary() == ["Trained 3 epochs.", "Best train_objective: 5.00 at epoch 1."]


def test_ties_keep_the_first_epoch_and_later_bests_replace_it():
    report = ProgressReport(bar=False)
    report.setup(None, None, SimpleNamespace())
    history = [4.0, 3.0, 3.0]
    report.on_monitor(model_with_history(history), None, None)
    assert (report.best_value, report.best_epoch) == (3.0, 1)
    report.on_monitor(model_with_history(history + [2.5]), None, None)
    assert (report.best_value, report.best_epoch) == (2.5, 3)


def test_the_lowest_value_skips_nans_and_none_is_said_when_there_is_no_number():
    channel = MonitorChannel(lambda: 0.0, "c", (NullSpace(), ""), None)
    assert channel.lowest_index() is None
    channel.val_record = [float("nan"), 3.0, 2.0, float("nan"), 2.0]
    assert channel.lowest_index() == 2
    channel.val_record = [float("nan")]
    assert channel.lowest_index() is None
