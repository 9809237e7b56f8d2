"""Build a training from a YAML file and run it: the library side of ``train.py``.

:func:`train_file` loads the file (``${PYLEARN2_TRAIN_...}`` variables set, every object
built, so every argument is checked before training starts), applies the run options
(:class:`pylearn_vae.run_options.RunOptions`), refuses to replace an earlier run's
results, and runs each phase's ``main_loop``. Failures are exceptions:
:class:`RunRefused`, :class:`RunFinished`,
:class:`pylearn_vae.train.TrainingInterrupted`, and whatever loading or training raises.

Stopping and resuming (see :mod:`pylearn_vae.train`): a run keeps a checkpoint beside
its save path; ``resume=True`` continues from it, ``overwrite=True`` starts again from
scratch. Without either, a run whose output files exist is refused, and one whose
every phase finished raises :class:`RunFinished`.
"""

import contextlib
import fcntl
import gc
import os

from pylearn_vae import run_options
from pylearn_vae.config import settings as run_settings
from pylearn_vae.config.yaml_parse import instantiate, load_train_file
from pylearn_vae.train_checkpoint import SettingsChanged, check_settings
from pylearn_vae.utils.stop_signals import describe_position

__all__ = ["RunFinished", "RunRefused", "describe_error", "load_run", "run_phases", "train_file"]


class RunRefused(Exception):
    """Starting the run would replace the results of an earlier one."""


class RunFinished(Exception):
    """The run finished earlier: there is nothing to do."""


def train_file(
    config,
    options=None,
    time_budget=None,
    allow_modules=None,
    trusted=False,
    resume=False,
    overwrite=False,
):
    """Load ``config`` and train each of its phases; what each phase reached and wrote.

    Parameters
    ----------
    config : str
        Path of the YAML file.
    options : RunOptions or argparse.Namespace, optional
        Run controls and output options (default: none given).
    time_budget : float, optional
        Seconds; training stops at the end of the epoch that exceeds it.
    allow_modules : list of str, optional
        Modules the file may build from besides ``pylearn_vae`` (see ``docs/security.md``).
    trusted : bool
        Build whatever the file names.
    resume, overwrite : bool
        Continue from the checkpoints, or start from scratch even if outputs exist.

    Returns
    -------
    list of dict
        :func:`pylearn_vae.run_options.describe_run` of each phase.

    Raises
    ------
    RunRefused, RunFinished, pylearn_vae.train.TrainingInterrupted
    """
    options = run_options.RunOptions() if options is None else options
    with run_options.use_backend(options):
        train_obj = load_run(config, allow_modules, trusted, options)
        return run_phases(train_obj, time_budget, config, resume, overwrite, options)


def load_run(config, allow_modules=None, trusted=False, options=None):
    """The file's objects, with the run controls of ``options`` applied to the file
    before anything is built (:func:`pylearn_vae.run_options.override_graph`), each
    ``Train`` knowing its settings (:mod:`pylearn_vae.config.settings`) for its
    checkpoint."""
    if os.environ.get("DISPLAY") is None:
        os.environ.setdefault("MPLBACKEND", "Agg")
    run_options.check_config_path(config)
    graph = load_train_file(
        config, allow_modules=allow_modules, trusted=trusted, instantiate=False
    )
    run_options.override_graph(graph, run_options.RunOptions() if options is None else options)
    described = run_settings.describe(graph)
    built = instantiate(graph)
    pairs = zip(built, described, strict=True) if isinstance(built, list) else [(built, described)]
    for phase, phase_settings in pairs:
        if hasattr(phase, "settings"):
            phase.settings = phase_settings
    return built


def run_phases(train_obj, time_budget, config=None, resume=False, overwrite=False, options=None):
    """Train each phase of ``train_obj`` (a ``Train`` or a list) with the run options;
    see :func:`train_file` for the parameters and what it returns."""
    if resume and overwrite:
        raise ValueError("resume and overwrite exclude each other")
    options = run_options.RunOptions() if options is None else options
    is_list = isinstance(train_obj, (list, tuple))
    phases = list(train_obj) if is_list else [train_obj]
    del train_obj
    # --out-dir moves the outputs (and checkpoints) before they are looked for.
    reports = [
        run_options.apply_run_options(phase, options, f"phase{n + 1}" if is_list else None)
        for n, phase in enumerate(phases)
    ]
    runs = []
    _check_output_kinds(phases)
    with _run_lock(phases, config):
        if overwrite:
            for phase in phases:
                _remove_checkpoint(phase)
        else:
            _check_outputs(config, phases, resume)
        for number in range(len(phases)):
            if is_list:
                os.environ["PYLEARN2_TRAIN_PHASE"] = f"phase{number + 1}"
            phase = phases[number]
            if resume and _checkpoint_state(phase) is not None:
                phase.load_checkpoint()
            phase.main_loop(time_budget=time_budget)
            runs.append(run_options.describe_run(phase, reports[number]))
            phases[number] = phase = None  # free this phase before the next one starts
            gc.collect()
    return runs


@contextlib.contextmanager
def _run_lock(phases, config):
    """Hold ``<first checkpoint>.lock`` for the run: a second process training the same
    run (the same outputs) is refused, naming the first; nothing to hold without a
    checkpoint. The lock (``flock``) goes with the process, however it ends."""
    path = getattr(phases[0], "checkpoint_path", None) if phases else None
    if not path:
        yield
        return
    lock_path = path + ".lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise RunRefused(
                f"{config} is being trained by another process (pid {holder}, holding "
                f"{lock_path}): wait for it to end, or give this run another --out-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            os.unlink(lock_path)
    finally:
        os.close(fd)


def _check_output_kinds(phases):
    """Refuse, before anything is written or removed, an output path where a symbolic
    link, a device, a FIFO or a folder is (``--overwrite`` included)."""
    from pylearn_vae.utils.serial import NotARegularFileError, check_output_path

    for phase in phases:
        paths = phase.output_paths() if hasattr(phase, "output_paths") else []
        paths += [getattr(phase, "checkpoint_path", None)]
        extensions = list(getattr(phase, "extensions", ()))
        extensions += [e for ext in extensions for e in getattr(ext, "extensions", ())]
        paths += [getattr(ext, "path", None) for ext in extensions]
        for path in [p for p in paths if isinstance(p, str)]:
            try:
                check_output_path(path)
            except NotARegularFileError as exc:
                raise RunRefused(str(exc)) from None


def _checkpoint_state(phase):
    """The phase's checkpoint, or None if it has none (a broken one is refused)."""
    from pylearn_vae.utils.checkpoint import read_checkpoint

    path = getattr(phase, "checkpoint_path", None)
    if path is None or not os.path.exists(path):
        return None
    try:
        return read_checkpoint(path)
    except (OSError, ValueError) as exc:
        raise RunRefused(
            f"the checkpoint {path} cannot be read ({_one_line(exc)}): use --overwrite to "
            "start again from scratch"
        ) from exc


def _existing_outputs(phase):
    """The phase's output files that exist (a top object that is not a Train has none)."""
    paths = phase.output_paths() if hasattr(phase, "output_paths") else []
    return [path for path in paths if os.path.exists(path)]


def _check_outputs(config, phases, resume):
    """Refuse (or report a finished run) when earlier results would be replaced, or
    when ``resume`` would continue a checkpoint with other settings."""
    states = [_checkpoint_state(phase) for phase in phases]
    if resume:
        for phase, state in zip(phases, states, strict=True):
            if state is not None:
                try:
                    check_settings(phase, state, phase.checkpoint_path)
                except SettingsChanged as exc:
                    raise RunRefused(f"--resume: {exc}") from None
    extended = [
        resume and state is not None and hasattr(phase, "extends") and phase.extends(state)
        for phase, state in zip(phases, states, strict=True)
    ]
    if not any(extended) and all(state is not None and state["finished"] for state in states):
        outputs = ", ".join(path for phase in phases for path in _existing_outputs(phase))
        raise RunFinished(
            f"{config} has finished already ({_describe_state(states[-1])}); its outputs: "
            f"{outputs}. Use --overwrite to train it again, or --resume with more --epochs."
        )
    for phase, state in zip(phases, states, strict=True):
        if state is None:
            existing = _existing_outputs(phase)
            if existing:
                path = getattr(phase, "checkpoint_path", None)
                missing = f"needs {path}, which is missing" if path else "has no checkpoint"
                raise RunRefused(
                    f"{existing[0]} exists already and would be replaced: use --overwrite to "
                    f"train again from scratch (--resume {missing})"
                )
        elif not state["finished"] and not resume:
            raise RunRefused(
                f"an unfinished run of {config} stopped at {_describe_state(state)} "
                f"({phase.checkpoint_path}): use --resume to continue it, or --overwrite "
                "to start again from scratch"
            )
    if resume and all(state is None for state in states):
        path = getattr(phases[0], "checkpoint_path", None)
        where = f"there is no {path}" if path else "its Train keeps no checkpoint"
        raise RunRefused(
            f"--resume: nothing to continue of {config} ({where}): train it without --resume"
        )


def _describe_state(state):
    return describe_position(state["epochs_done"], state["batch"])


def _remove_checkpoint(phase):
    path = getattr(phase, "checkpoint_path", None)
    if path is not None and os.path.exists(path):
        os.remove(path)


def describe_error(exc, config):
    """One line for an error of the run of ``config``: ``file:line:column: problem`` for
    YAML errors, else the message (prefixed with ``config`` unless it names it)."""
    seen, cause = set(), exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        mark = getattr(cause, "problem_mark", None) or getattr(cause, "context_mark", None)
        if mark is not None and getattr(mark, "line", None) is not None:
            name = getattr(mark, "name", None)
            name = config if not name or name.startswith("<") else name
            where = f"{name}:{mark.line + 1}:{mark.column + 1}"
            parts = [getattr(cause, "context", None), getattr(cause, "problem", None)]
            problem = ": ".join(p for p in parts if p)
            if cause is exc or not problem:
                return f"{where}: {problem or type(cause).__name__}"
            return f"{where}: {_one_line(exc)}"
        cause = cause.__cause__ or cause.__context__
    message = _one_line(exc)
    return message if config in message else f"{config}: {message}"


def _one_line(exc):
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines) or "(no message)"
