"""Run a sweep's trials on Dask (``dask.distributed``) and keep its folder up to date.

:func:`prepare` writes ``SWEEP_DIR/sweep.json`` and each ``trial-NNN/trial.yaml`` and
decides what each trial needs: nothing (``done``), a fresh start (never run), a restart
from scratch (``failed``) or a resume (``queued``, ``running`` or ``interrupted``: the
sweep stopped while it was waiting or training). :func:`connect` makes the Dask client:
by default a ``LocalCluster`` of one single-threaded worker process per core, or a
client of a running scheduler (``tcp://host:8786``). :func:`run` submits one task per
trial (:func:`pylearn_vae.sweep.trial.run_trial`) and shows done/running/failed as they
change.

Every worker reads and writes the sweep folder, so on a cluster it must be on a file
system they all see, at the same path (an NFS home or scratch folder).
"""

import json
import os
import sys
import time
import uuid

from pylearn_vae.sweep.results import MANIFEST
from pylearn_vae.sweep.spec import SweepError
from pylearn_vae.sweep.trial import CONFIG, THREAD_VARIABLES, read_result, run_trial, write_result
from pylearn_vae.utils import serial

__all__ = ["MissingDask", "connect", "prepare", "run"]

INSTALL_HINT = "pip install 'pylearn-vae[sweep]' (or: pip install 'dask[distributed]')"
_POLL_SECONDS = 0.5


class MissingDask(ImportError):
    """``dask.distributed`` is not installed."""


def prepare(sweep, sweep_dir, rendered):
    """Write the sweep folder; the trials to run as ``(trial, folder, mode)``.

    Parameters
    ----------
    sweep : Sweep
    sweep_dir : str
    rendered : list of (Trial, str)
        What :meth:`Sweep.check` returned.

    Raises
    ------
    SweepError
        A trial folder holds a ``trial.yaml`` that differs from this sweep's rendering of
        that trial (the sweep file or the template changed).
    """
    sweep_dir = os.path.abspath(sweep_dir)
    os.makedirs(sweep_dir, exist_ok=True)
    todo = []
    for trial, text in rendered:
        folder = os.path.join(sweep_dir, trial.name)
        config = os.path.join(folder, CONFIG)
        if os.path.exists(config):
            with open(config, encoding="utf-8") as f:
                if f.read() != text:
                    raise SweepError(
                        f"{config} differs from what {sweep.path} renders now for {trial.name} "
                        f"({trial.describe(sweep.varied)}): the sweep or its template changed "
                        "since that trial ran; give another --out folder, or delete the old one"
                    )
        record = read_result(folder)
        status = (record or {}).get("status")
        if status == "done":
            continue
        if record is None and not os.path.exists(folder):
            mode = "new"
        else:
            mode = "restart" if status == "failed" else "resume"
        os.makedirs(folder, exist_ok=True)
        with serial.open_output(config, encoding="utf-8") as f:
            f.write(text)
        record = dict(record or {}, trial=trial.name, values=trial.values, labels=trial.labels)
        record.update(status="queued", error=None)
        write_result(folder, record)
        todo.append((trial, folder, mode))
    manifest = {
        "name": os.path.splitext(os.path.basename(sweep.path))[0],
        "sweep": os.path.abspath(sweep.path),
        "template": os.path.abspath(sweep.template_path),
        "channel": sweep.channel,
        "nll": sweep.nll,
        "varied": sweep.varied,
        "trials": {
            trial.name: {n: trial.labels[n] for n in sweep.varied} for trial, _ in rendered
        },
    }
    with serial.open_output(os.path.join(sweep_dir, MANIFEST), encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    return todo


def connect(scheduler=None, workers=None, dashboard=None, security=None):
    """A Dask client: of the scheduler at ``scheduler``, or of a new ``LocalCluster``.

    The ``LocalCluster`` belongs to whoever started it: its scheduler and workers listen
    on 127.0.0.1 over TLS with temporary credentials
    (``distributed.security.Security.temporary()``), held only by this process and the
    workers it starts, so another local user's client cannot connect, let alone submit a
    task that would run as the sweep's owner. Its dashboard is off unless asked for, and
    then listens on 127.0.0.1 (unless ``dashboard`` names another host).

    Parameters
    ----------
    scheduler : str, optional
        ``tls://HOST:8786`` (or ``tcp://``) of a running ``dask scheduler``; secure it
        as ``docs/sweeps.md`` shows and give its credentials as ``security``.
    workers : int, optional
        The ``LocalCluster``'s worker processes (default: one per core); each has one
        thread and its BLAS pinned to one thread.
    dashboard : str or None
        The ``LocalCluster``'s dashboard address (``":8787"`` means
        ``127.0.0.1:8787``; ``":0"`` any free port); None: no dashboard.
    security : distributed.security.Security, optional
        The credentials for ``scheduler`` (default: Dask's configuration, ``~/.config/
        dask``); ignored for the ``LocalCluster``, which makes its own.

    Returns
    -------
    (Client, LocalCluster or None)
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise MissingDask(f"running a sweep needs Dask: {INSTALL_HINT}") from exc
    if scheduler:
        try:
            return Client(scheduler, timeout="20s", security=security), None
        except OSError as exc:
            raise SweepError(
                f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc}); start "
                "one with `dask scheduler` and workers with `dask worker "
                f"{scheduler} --nthreads 1`"
            ) from None
    cluster = LocalCluster(
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        protocol="tls://",
        security=local_security(),
        dashboard_address=dashboard_address(dashboard),
        env={name: "1" for name in THREAD_VARIABLES},
    )
    return Client(cluster, security=cluster.security), cluster


def local_security():
    """TLS with a temporary certificate and key, made for one ``LocalCluster``.

    Needs the ``cryptography`` package (``pip install -e '.[sweep]'``).
    """
    try:
        from distributed.security import Security

        return Security.temporary()
    except ImportError as exc:
        raise MissingDask(
            f"a sweep's local cluster needs the cryptography package ({exc}): {INSTALL_HINT}"
        ) from None


def dashboard_address(dashboard):
    """``None`` for no dashboard; ``':8787'`` -> ``'127.0.0.1:8787'``; others unchanged."""
    if dashboard is None or dashboard in ("", "off", "none"):
        return None
    return "127.0.0.1" + dashboard if dashboard.startswith(":") else dashboard


class _Progress:
    """``done N/M, running R, failed F``: a bar on a terminal, and one line per trial."""

    def __init__(self, total, out, enabled):
        self.total, self.out = total, out
        self.done = self.failed = self.running = 0
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, desc="trials", file=sys.stderr, leave=False)

    def counts(self):
        return f"done {self.done}/{self.total}, running {self.running}, failed {self.failed}"

    def update(self, running, finished=()):
        self.running = running
        for name, record, channel in finished:
            if record.get("status") == "done":
                self.done += 1
                best = (record.get("best") or {}).get(channel)
                nll = (record.get("nll") or {}).get("value")
                what = f"best {channel} {best:.3f}" if best is not None else "done"
                what += f", test NLL {nll:.3f}" if nll is not None else ""
            else:
                self.failed += 1
                what = f"{record.get('status')}: {record.get('error')}"
            seconds = record.get("wall_time") or 0.0
            line = f"{name} {what} ({seconds:.1f} s) [{self.counts()}]"
            if self.bar is not None:
                self.bar.write(line, file=self.out)
                self.bar.update(1)
            else:
                print(line, file=self.out, flush=True)
        if self.bar is not None:
            self.bar.set_postfix_str(f"running {self.running}, failed {self.failed}")

    def close(self):
        if self.bar is not None:
            self.bar.close()


def run(sweep, todo, client, out=None, progress=None):
    """Run the trials of ``todo`` on ``client`` (each records itself in its folder).

    Parameters
    ----------
    sweep : Sweep
    todo : list of (Trial, folder, mode)
        What :func:`prepare` returned.
    client : dask.distributed.Client
    out : file, optional
        Where trial lines go (default stdout).
    progress : bool, optional
        A progress bar (default: when stderr is a terminal).
    """
    out = sys.stdout if out is None else out
    if progress is None:
        progress = sys.stderr.isatty()
    bar = _Progress(len(todo), out, progress)
    tag = uuid.uuid4().hex[:8]
    pending = {
        client.submit(
            run_trial,
            folder,
            mode,
            sweep.channel,
            sweep.nll,
            sweep.load_flags,
            key=f"{trial.name}-{tag}",
            pure=False,
        ): (trial, folder)
        for trial, folder, mode in todo
    }
    try:
        while pending:
            finished = [future for future in pending if future.done()]
            if not finished:
                time.sleep(_POLL_SECONDS)
            lines = []
            for future in finished:
                trial, folder = pending.pop(future)
                lines.append((trial.name, _outcome(future, folder), sweep.channel))
            running = sum(
                (read_result(folder) or {}).get("status") == "running"
                for _, folder in pending.values()
            )
            bar.update(running, lines)
    except KeyboardInterrupt:
        for future in pending:
            future.cancel()
        print(
            f"sweep interrupted: {len(pending)} trials not finished; run the same command "
            "again to resume them",
            file=sys.stderr,
        )
        raise
    finally:
        bar.close()


def _outcome(future, folder):
    """The trial's record; a task that raised (a worker died) is recorded as failed."""
    if future.status == "finished":
        record = future.result()
        write_result(folder, record)  # the same file, unless the workers' disks are not ours
        return record
    try:
        error = future.exception(timeout=5)
        message = f"{type(error).__name__}: {' '.join(str(error).split())}"
    except Exception as exc:  # cancelled or lost: say what we know
        message = f"the Dask task ended as {future.status} ({type(exc).__name__})"
    record = read_result(folder) or {}
    record.update(status="failed", error=f"the Dask task failed: {message}")
    record.setdefault("wall_time", time.time() - record.get("started", time.time()))
    write_result(folder, record)
    return record
