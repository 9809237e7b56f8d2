"""What of a monitor is saved: its channels' histories, and which data it monitored.

A checkpoint keeps each channel's records as plain lists (:func:`histories`) and puts
them back into a monitor with the same channels (:func:`restore_histories`); a pickled
monitor names its datasets by the YAML they were built from (:func:`dataset_sources`).
"""

import logging

__all__ = [
    "HISTORY_FIELDS",
    "RECORD_FIELDS",
    "copy_history",
    "dataset_sources",
    "histories",
    "restore_histories",
]

# The monitor's logger: its warnings read as the monitor's.
log = logging.getLogger("pylearn_vae.monitor")

#: What a pickled channel keeps: its doc and its records.
RECORD_FIELDS = (
    "doc",
    "example_record",
    "batch_record",
    "time_record",
    "epoch_record",
    "val_record",
)
#: A channel's history: one entry per monitoring step in each record.
HISTORY_FIELDS = RECORD_FIELDS[1:]


def histories(channels):
    """``{name: {field: list}}``: a copy of each channel's records (plain data)."""
    return {
        name: {field: list(getattr(channel, field)) for field in HISTORY_FIELDS}
        for name, channel in channels.items()
    }


def copy_history(source, target):
    """Give channel ``target`` a copy of channel ``source``'s records."""
    for field in HISTORY_FIELDS:
        setattr(target, field, list(getattr(source, field)))


def restore_histories(channels, saved):
    """Replace each channel's records with a copy of ``saved``'s (from :func:`histories`).

    Raises
    ------
    ValueError
        ``saved`` does not have exactly the channels of ``channels``.
    """
    if set(saved) != set(channels):
        raise ValueError(
            "the monitor's channels differ from the checkpoint's (was the YAML file "
            f"changed?): only here {sorted(set(channels) - set(saved))}, only in "
            f"the checkpoint {sorted(set(saved) - set(channels))}"
        )
    for name, channel in channels.items():
        for field in HISTORY_FIELDS:
            setattr(channel, field, list(saved[name][field]))


def dataset_sources(datasets):
    """What a pickle keeps of each dataset: its YAML source (``''`` with a warning when it
    was not built from YAML; a string stays as it is)."""
    sources = []
    for d in datasets:
        if isinstance(d, str):
            sources.append(d)
        elif getattr(d, "yaml_src", None) is not None:
            sources.append(d.yaml_src)
        else:
            log.warning(
                "Pickling a Monitor whose dataset %s was not built from YAML: the "
                "pickle cannot say which data it monitored.",
                type(d).__name__,
            )
            sources.append("")
    return sources
