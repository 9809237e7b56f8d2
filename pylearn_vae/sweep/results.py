"""The results table of a sweep folder: ``results.csv``, ``results.md`` and a plot.

``SWEEP_DIR/sweep.json`` (written when the sweep starts) lists the trials, the varied
names and the chosen channel; each ``trial-NNN/result.json`` holds a trial's record.
The table has one row per trial: its varied values, status, epochs, the chosen
channel's final and best values, the test NLL when computed, the wall time and the
error of a failed trial. Rows are sorted by the test NLL when there is one, else by the
best value of the channel (lowest first); unfinished trials come last. When the sweep
repeats each setting over seeds, ``results.md`` starts with one row per setting: the
number of seeds done and the mean +- standard deviation (over seeds) of the sort column.
"""

import csv
import json
import math
import os
import statistics

from pylearn_vae.sweep.spec import SEED_NAME, SweepError
from pylearn_vae.sweep.trial import read_result
from pylearn_vae.utils import serial

__all__ = ["MANIFEST", "Table", "load_table", "write_report"]

MANIFEST = "sweep.json"


class Table:
    """The rows of a sweep's results.

    Parameters
    ----------
    manifest : dict
        ``sweep.json``: ``trials`` (name -> labels), ``varied``, ``channel``, ``nll``.
    records : dict
        Trial name -> its ``result.json`` (None for a trial that never started).
    """

    def __init__(self, manifest, records):
        self.manifest = manifest
        self.varied = list(manifest["varied"])
        self.channel = manifest["channel"]
        self.rows = [
            self._row(name, labels, records.get(name))
            for name, labels in manifest["trials"].items()
        ]
        self.has_nll = any(row["nll"] is not None for row in self.rows)
        self.sort_column = "nll" if self.has_nll else "best"
        self.rows.sort(key=self._sort_key)
        #: Whether :func:`write_report` drew ``results.png`` (it needs matplotlib).
        self.plotted = False

    def _row(self, name, labels, record):
        record = record or {}
        nll = record.get("nll") or {}
        return {
            "trial": name,
            "labels": labels,
            "status": record.get("status", "not started"),
            "epochs": record.get("epochs"),
            "final": (record.get("final") or {}).get(self.channel),
            "best": (record.get("best") or {}).get(self.channel),
            "best_epoch": record.get("best_epoch"),
            "nll": nll.get("value"),
            "nll_stderr": nll.get("stderr"),
            "wall_time": record.get("wall_time"),
            "error": record.get("error"),
        }

    def _sort_key(self, row):
        value = row[self.sort_column]
        missing = row["status"] != "done" or value is None or math.isnan(value)
        return (missing, 0.0 if missing else value, row["trial"])

    @property
    def sort_title(self):
        if self.has_nll:
            return f"test NLL (k={self.manifest.get('nll')})"
        return f"best {self.channel}"

    def counts(self):
        """``{status: number of trials}``."""
        out = {}
        for row in self.rows:
            out[row["status"]] = out.get(row["status"], 0) + 1
        return out

    def header(self):
        return (
            ["trial"]
            + self.varied
            + ["status", "epochs", f"final {self.channel}", f"best {self.channel}", "best epoch"]
            + (["test NLL", "NLL stderr"] if self.has_nll else [])
            + ["wall s", "error"]
        )

    def cells(self, row, formatter):
        """A row's cells in :meth:`header` order, numbers passed through ``formatter``."""
        numbers = [row["final"], row["best"]]
        tail = [row["nll"], row["nll_stderr"]] if self.has_nll else []
        return (
            [row["trial"]]
            + [row["labels"].get(name, "") for name in self.varied]
            + [row["status"], "" if row["epochs"] is None else str(row["epochs"])]
            + [formatter(v) for v in numbers]
            + ["" if row["best_epoch"] is None else str(row["best_epoch"])]
            + [formatter(v) for v in tail]
            + [formatter(row["wall_time"], 1), row["error"] or ""]
        )

    def settings(self):
        """Per setting (the varied values but the seed): ``(labels, values over seeds)``."""
        names = [n for n in self.varied if n != SEED_NAME]
        groups = {}
        for row in self.rows:
            key = tuple(row["labels"].get(n, "") for n in names)
            value = row[self.sort_column]
            done = row["status"] == "done" and value is not None
            groups.setdefault(key, []).extend([value] if done else [])
        summary = [(dict(zip(names, key, strict=True)), values) for key, values in groups.items()]
        summary.sort(key=lambda item: (not item[1], statistics.fmean(item[1]) if item[1] else 0))
        return summary

    def markdown(self, title=None):
        """``results.md``: the per-setting summary (with seeds) and the per-trial table."""
        lines = [f"# {title or self.manifest.get('name', 'Sweep')}", ""]
        counts = ", ".join(f"{n} {status}" for status, n in sorted(self.counts().items()))
        lines += [
            f"{len(self.rows)} trials ({counts}); channel `{self.channel}`; sorted by "
            f"{self.sort_title}, lowest first.",
            "",
        ]
        if SEED_NAME in self.varied:
            names = [n for n in self.varied if n != SEED_NAME]
            lines += [f"## Mean ± standard deviation of {self.sort_title} over seeds", ""]
            lines += _markdown_table(
                names + ["seeds done", f"{self.sort_title} mean ± sd", "min", "max"],
                [
                    [labels[n] for n in names] + [str(len(values))] + _spread(values)
                    for labels, values in self.settings()
                ],
            )
            lines += ["", "## Trials", ""]
        lines += _markdown_table(self.header(), [self.cells(r, _format) for r in self.rows])
        return "\n".join(lines) + "\n"

    def write_csv(self, path):
        with serial.open_output(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(self.header())
            for row in self.rows:
                writer.writerow(self.cells(row, _full))

    def plot(self, path):
        """The sort column against each varied value but the seed (one point per trial);
        False when matplotlib is missing."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            from matplotlib import pyplot
        except ImportError:
            return False
        done = [r for r in self.rows if r["status"] == "done" and r[self.sort_column] is not None]
        names = [n for n in self.varied if n != SEED_NAME] or self.varied or ["trial"]
        figure, axes = pyplot.subplots(
            1, len(names), figsize=(max(6.4, 4.8 * len(names)), 4.8), squeeze=False
        )
        for axis, name in zip(axes[0], names, strict=True):
            labels = [r["labels"].get(name, r["trial"]) for r in done]
            numbers = [_number(label) for label in labels]
            ys = [r[self.sort_column] for r in done]
            if labels and all(n is not None for n in numbers):
                axis.plot(numbers, ys, "o", alpha=0.7)
                rates = "learning_rate" in name or name in ("lr", "learning_rate")
                if min(numbers) > 0 and (rates or max(numbers) / min(numbers) > 20):
                    axis.set_xscale("log")  # learning rates are compared by their ratios
            else:
                order = sorted(set(labels))
                axis.plot([order.index(label) for label in labels], ys, "o", alpha=0.7)
                axis.set_xticks(range(len(order)), order, rotation=30, fontsize=7)
            axis.set_xlabel(name)
        axes[0][0].set_ylabel(self.sort_title)
        figure.suptitle(f"{self.sort_title} of {len(done)} finished trials (one point per trial)")
        figure.tight_layout()
        serial.check_output_path(path)
        figure.savefig(path, dpi=100)
        pyplot.close(figure)
        return True


def _number(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _format(value, digits=3):
    if value is None:
        return ""
    return f"{value:.{digits}f}"


def _full(value, digits=None):
    return "" if value is None else repr(value)


def _spread(values):
    if not values:
        return ["", "", ""]
    mean = f"{statistics.fmean(values):.2f}"
    if len(values) > 1:  # one seed has no spread to show: the value alone
        mean += f" ± {statistics.stdev(values):.2f}"
    return [
        mean,
        f"{min(values):.2f}",
        f"{max(values):.2f}",
    ]


def _markdown_table(header, rows):
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return [line(header), line(["---"] * len(header))] + [line(row) for row in rows]


def load_table(sweep_dir):
    """The :class:`Table` of the sweep folder ``sweep_dir``."""
    path = os.path.join(sweep_dir, MANIFEST)
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise SweepError(
            f"{sweep_dir} is not a sweep folder (it has no {MANIFEST}): give the folder a "
            "sweep wrote (its --out)"
        ) from None
    records = {name: read_result(os.path.join(sweep_dir, name)) for name in manifest["trials"]}
    return Table(manifest, records)


def write_report(sweep_dir):
    """Write ``results.csv``, ``results.md`` (and ``results.png``); return the table."""
    table = load_table(sweep_dir)
    table.write_csv(os.path.join(sweep_dir, "results.csv"))
    with serial.open_output(os.path.join(sweep_dir, "results.md"), encoding="utf-8") as f:
        f.write(table.markdown())
    table.plotted = table.plot(os.path.join(sweep_dir, "results.png"))
    return table
