"""Saving and loading the main job's model and checkpoint: data files against pickles.

pylearn-vae saves data files (:mod:`pylearn_vae.utils.datafile`); earlier versions
pickled. For the main job's model (``yaml_examples/vae_mnist10k.yaml``, after one epoch,
with its monitor) and its checkpoint, this prints the median time of ``serial.save``
and ``serial.load`` for a data file, and for the same object pickled as the earlier
``serial.save`` did it (to a temporary file, fsynced, renamed, the folder fsynced) and
read back by ``serial.load``'s restricted unpickler, and the ratio::

    python benchmarks/bench_files.py [--repeats 21]
"""

import argparse
import os
import pickle
import statistics
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from benchmarks.tables import markdown  # noqa: E402
from pylearn_vae.config import yaml_parse  # noqa: E402
from pylearn_vae.utils import serial  # noqa: E402

MAIN_JOB = os.path.join(REPO, "yaml_examples", "vae_mnist10k.yaml")


def trained_one_epoch(folder):
    """The main job's Train after one epoch (its model has a monitor with history)."""
    environ = {"PYLEARN2_TRAIN_FILE_FULL_STEM": os.path.join(folder, "job")}
    train = yaml_parse.load_path(MAIN_JOB, environ=environ)
    train.algorithm.termination_criterion.max_epochs = 1
    train.save_freq = 0
    train.main_loop()
    return train


def pickle_save(path, obj):
    """Save ``obj`` as the earlier ``serial.save`` did: pickled to a temporary file,
    fsynced, renamed over ``path``, the folder fsynced."""
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    folder_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(folder_fd)
    finally:
        os.close(folder_fd)


def median_seconds(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(name, obj, folder, repeats):
    data, old = os.path.join(folder, name + ".pkl"), os.path.join(folder, name + ".pickle")
    serial.save(data, obj)
    pickle_save(old, obj)
    rows, totals = [], [0.0, 0.0]
    for what, new_time, old_time in (
        ("save", lambda: serial.save(data, obj), lambda: pickle_save(old, obj)),
        ("load", lambda: serial.load(data), lambda: serial.load(old)),
    ):
        new = median_seconds(new_time, repeats)
        before = median_seconds(old_time, repeats)
        totals = [totals[0] + new, totals[1] + before]
        rows.append(_row(f"{name}: {what}", new, before))
    rows.append(_row(f"{name}: save + load", *totals))
    sizes = f"{os.path.getsize(data) / 2**20:.2f} / {os.path.getsize(old) / 2**20:.2f}"
    rows.append([f"{name}: size (MiB)", *sizes.split(" / "), ""])
    return rows


def _row(what, new, before):
    return [what, f"{1e3 * new:.1f}", f"{1e3 * before:.1f}", f"{new / before:.2f}"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=21, help="timings per median")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        train = trained_one_epoch(folder)
        rows = measure("model", train.model, folder, args.repeats)
        rows += measure("checkpoint", train.get_state(), folder, args.repeats)
    print(markdown(["what", "data file (ms)", "pickle (ms)", "ratio"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
