"""What a run adds to its YAML file: run controls, logs, output modes (``train.py``'s
options, and :func:`pylearn_vae.run.train_file`'s).

Run controls (``--epochs``, ``--seed``, ``--out-dir``, ``--device``, ``--floatX``)
override the YAML file for one run and are recorded in the saved model, in
``model.tag['train.py']``. Every run that saves gets a CSV log of its channels beside
the save (:mod:`pylearn_vae.train_extensions.channel_log`) and a one-line report per
monitoring step (:mod:`pylearn_vae.train_extensions.progress_report`); ``--tensorboard``
and ``--images-every`` add event files and picture grids. Output is one line per
monitoring step by default, Pylearn2's full log with ``--verbose``, warnings and errors
only with ``--quiet``; the run ends with a summary of what it reached and wrote.
"""

import dataclasses
import inspect
import logging
import os

from pylearn_vae.config.yaml_parse import Proxy
from pylearn_vae.termination_criteria import And, EpochCounter
from pylearn_vae.train import Train
from pylearn_vae.train_extensions import TrainExtension
from pylearn_vae.train_extensions.channel_log import ChannelLog, log_path_for
from pylearn_vae.train_extensions.progress_report import ProgressReport
from pylearn_vae.utils.string_utils import preprocess

__all__ = [
    "RUN_CONTROLS",
    "OutputFilter",
    "RunExtensions",
    "RunOptions",
    "apply_run_options",
    "check_config_path",
    "describe_run",
    "given_controls",
    "output_mode",
    "override_graph",
    "set_seeds",
    "use_backend",
]

RUN_CONTROLS = ("epochs", "seed", "out_dir", "device", "floatX")
TAG = "train.py"


@dataclasses.dataclass
class RunOptions:
    """The run controls and output options of one run; None or False: not given.

    The fields are ``train.py``'s options of the same names (``--epochs``, ``--seed``,
    ``--out-dir``, ``--device``, ``--floatX``, ``--verbose``, ``--quiet``,
    ``--tensorboard``, ``--images-every``, ``--no-channel-log``); an
    :class:`argparse.Namespace` of ``train.py`` serves as well.
    """

    epochs: int = None
    seed: int = None
    out_dir: str = None
    device: str = None
    floatX: str = None
    verbose: bool = False
    quiet: bool = False
    tensorboard: str = None
    images_every: int = None
    no_channel_log: bool = False


def given_controls(args):
    """``{option: value}`` of the run controls given on the command line."""
    return {name: getattr(args, name) for name in RUN_CONTROLS if getattr(args, name) is not None}


# -- overriding the file ---------------------------------------------------------------


def set_seeds(graph, seed):
    """Give ``seed`` to the model, the algorithm and every ``seed:`` of a graph loaded
    with ``instantiate=False``.

    The ``model`` and ``algorithm`` of each ``Train`` in the file get ``seed`` whether the
    file gave them one or not; any other object gets it where the file writes a
    ``seed:`` (a dataset's binarization seed, say). Objects the file leaves unseeded
    keep their defaults (a nested MLP refuses a seed of its own).
    """
    _set_seeds(graph, seed, set())


def _set_seeds(node, seed, seen):
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, Proxy):
        if "seed" in node.keywords:
            node.keywords["seed"] = seed
        if node.callable is Train:
            for role in ("model", "algorithm"):
                part = node.keywords.get(role)
                if isinstance(part, Proxy) and _takes(part.callable, "seed"):
                    part.keywords["seed"] = seed
        children = list(node.positionals) + list(node.keywords.values())
    elif isinstance(node, dict):
        children = list(node.values())
    elif isinstance(node, (list, tuple)):
        children = list(node)
    else:
        return
    for child in children:
        _set_seeds(child, seed, seen)


def override_graph(graph, options):
    """Apply the run controls that change the file to its graph, before anything is
    built: ``--seed`` (:func:`set_seeds`), ``--epochs`` (every ``EpochCounter``'s
    ``max_epochs``, or one added to the termination criterion) and ``--out-dir`` (every
    ``save_path``, expanded, moved into the folder; a ``Train`` that saves without one
    gets its default path there).

    Parameters
    ----------
    graph : Proxy or list of Proxy
        What ``load_train_file(..., instantiate=False)`` gave (changed in place).
    options : RunOptions or argparse.Namespace

    Raises
    ------
    ValueError
        ``--epochs`` for a file whose ``Train`` has no algorithm with a termination
        criterion, or ``--epochs``/``--out-dir`` for a file that is not a ``Train``.
    """
    if options.seed is not None:
        set_seeds(graph, options.seed)
    if options.epochs is None and options.out_dir is None:
        return
    phases = graph if isinstance(graph, list) else [graph]
    for n, phase in enumerate(phases):
        if not _is_train(phase):
            raise ValueError(
                "--epochs and --out-dir need a file whose top object is a Train (or a list "
                f"of them); {'its entry ' + str(n + 1) if len(phases) > 1 else 'it'} is not"
            )
        if options.epochs is not None:
            _set_epochs(phase, options.epochs)
        if options.out_dir is not None:
            _set_out_dir(phase, options.out_dir)


def _is_train(node):
    return isinstance(node, Proxy) and isinstance(node.callable, type) and issubclass(
        node.callable, Train
    )


def _set_epochs(train, epochs):
    algorithm = train.keywords.get("algorithm")
    if not isinstance(algorithm, Proxy) or not _takes(algorithm.callable, "termination_criterion"):
        raise ValueError(
            "--epochs needs a training algorithm with a termination_criterion; this file's "
            "Train has none"
        )
    current = algorithm.keywords.get("termination_criterion")
    counters = _epoch_counters(current)
    for counter in counters:
        counter.keywords["max_epochs"] = epochs
    if not counters:
        counter = Proxy(EpochCounter, (), {"max_epochs": epochs}, None)
        if current is not None:
            counter = Proxy(And, (), {"criteria": [counter, current]}, None)
        algorithm.keywords["termination_criterion"] = counter


def _epoch_counters(node):
    if not isinstance(node, Proxy):
        return []
    if node.callable is EpochCounter:
        return [node]
    parts = list(node.positionals) + list(node.keywords.get("criteria", None) or [])
    return [c for part in parts for c in _epoch_counters(part)]


def _set_out_dir(train, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    save_path = train.keywords.get("save_path")
    if save_path is None and train.keywords.get("save_freq", 0):
        save_path = Train.default_save_path()
    if isinstance(save_path, str):
        train.keywords["save_path"] = _move(preprocess(save_path), out_dir)
    for ext in train.keywords.get("extensions", None) or []:
        if isinstance(ext, Proxy) and isinstance(ext.keywords.get("save_path"), str):
            ext.keywords["save_path"] = _move(preprocess(ext.keywords["save_path"]), out_dir)


def _takes(callable_, name):
    try:
        return name in inspect.signature(callable_).parameters
    except (TypeError, ValueError):
        return False


def _move(path, out_dir):
    return os.path.join(out_dir, os.path.basename(path))


def apply_run_options(train, args, phase=None):
    """Add the logs and the report the options ask for to ``train`` (one ``Train``
    built from a graph :func:`override_graph` changed), and record the run controls
    given in ``model.tag['train.py']``.

    Returns
    -------
    ProgressReport
        The report added to the run (its ``summary()`` ends the run's output).
    """
    controls = given_controls(args)
    if controls:
        train.model.tag[TAG] = controls
    added = []
    if train.save_path is not None and not args.no_channel_log:
        if not any(isinstance(ext, ChannelLog) for ext in _extensions(train)):
            added.append(ChannelLog(log_path_for(train.save_path)))
    board = None
    if args.tensorboard is not None:
        from pylearn_vae.train_extensions.tensorboard import TensorBoardLog

        folder = args.tensorboard if phase is None else os.path.join(args.tensorboard, phase)
        board = TensorBoardLog(folder)
        added.append(board)
    if args.images_every is not None:
        from pylearn_vae.train_extensions.training_images import TrainingImages

        images = TrainingImages(_images_dir(train), freq=args.images_every, tensorboard=board)
        added.append(images)
    report = ProgressReport()
    added.append(report)
    train.extensions.append(RunExtensions(added))
    return report


class RunExtensions(TrainExtension):
    """The extensions ``train.py`` adds, run as one, after the file's own.

    One extension whatever options were given, so a checkpoint written by a run with
    ``--tensorboard`` resumes in a run without it (each of these keeps no state).

    Parameters
    ----------
    extensions : list of TrainExtension
    """

    def __init__(self, extensions):
        self.extensions = list(extensions)

    def setup(self, model, dataset, algorithm):
        for ext in self.extensions:
            ext.setup(model, dataset, algorithm)

    def on_monitor(self, model, dataset, algorithm):
        for ext in self.extensions:
            ext.on_monitor(model, dataset, algorithm)

    def on_save(self, model, dataset, algorithm):
        for ext in self.extensions:
            ext.on_save(model, dataset, algorithm)


def _extensions(train):
    """The run's extensions, those inside :class:`RunExtensions` included."""
    for ext in train.extensions:
        yield from ext.extensions if isinstance(ext, RunExtensions) else (ext,)


def _images_dir(train):
    stem = train.save_path[: -len(".pkl")] if train.save_path else "training"
    return stem + "_images"


# -- what is printed ---------------------------------------------------------------------

_DETAIL_LOGGERS = ("pylearn_vae.monitor", "pylearn_vae.training_algorithms.sgd")


class OutputFilter(logging.Filter):
    """Which log records ``train.py`` prints in each output mode.

    ``'lines'`` (the default): everything but Pylearn2's per-step detail (the monitor's
    channel dump, the learning-rate table, timings and ``Saving to`` lines);
    ``'verbose'``: Pylearn2's full log, without the one-line reports; ``'quiet'``:
    warnings and errors only. Other libraries' messages below WARNING (matplotlib's
    "generated new fontManager" on its first use, say) show only in ``'verbose'``.
    """

    def __init__(self, mode):
        super().__init__()
        self.mode = mode

    def filter(self, record):
        if record.levelno >= logging.WARNING:
            return True
        if not (record.name == "pylearn_vae" or record.name.startswith("pylearn_vae.")):
            return self.mode == "verbose"
        if self.mode == "quiet":
            return False
        report = record.name == "pylearn_vae.train_extensions.progress_report"
        if self.mode == "verbose":
            return not report
        # pylearn_vae.train.log_timing logs the timings and "Saving to ..." lines.
        detail = record.name in _DETAIL_LOGGERS or record.funcName == "log_timing"
        return not detail or record.levelno < logging.INFO


def output_mode(args):
    """``'quiet'``, ``'verbose'`` or ``'lines'`` (see :class:`OutputFilter`)."""
    return "quiet" if args.quiet else "verbose" if args.verbose else "lines"


def use_backend(args):
    """``backend.using`` the ``--device`` and ``--floatX`` of the run (None: unchanged)."""
    from pylearn_vae import backend

    return backend.using(device=args.device, floatX=args.floatX)


def describe_run(train, report):
    """What the closing summary says of one finished ``Train`` (it can then be freed).

    Returns
    -------
    dict
        ``reached`` (lines), ``files`` (``(path, what)`` pairs that exist), ``model``
        (the best model's path, else the final one), ``log`` (the CSV log's path),
        ``vae`` (the model is a VAE) and ``budget`` (the time budget stopped it).
    """
    files, best_model, log_file = [], None, None
    if train.save_path and os.path.exists(train.save_path):
        files.append((train.save_path, "the model at the end"))
    for ext in _extensions(train):
        path = getattr(ext, "save_path", None)
        if isinstance(ext, ChannelLog) and os.path.exists(ext.path):
            files.append((ext.path, "every monitoring step (CSV)"))
            log_file = ext.path
        elif isinstance(path, str) and os.path.exists(path):
            channel = getattr(ext, "channel_name", None)
            files.append((path, f"the model at its best {channel}" if channel else "saved"))
            best_model = path if channel else best_model
        for attribute, what in (("save_dir", "pictures"), ("log_dir", "TensorBoard events")):
            folder = getattr(ext, attribute, None)
            if isinstance(folder, str) and os.path.isdir(folder):
                files.append((folder + "/", what))
    final = train.save_path if files and files[0][1] == "the model at the end" else None
    return {
        "reached": report.summary(),
        "files": files,
        "model": best_model or final,
        "log": log_file,
        "vae": _is_vae(train.model),
        "budget": bool(getattr(train.model.monitor, "time_budget_exceeded", False)),
    }


def check_config_path(path):
    """Catch the usual slips before the file is parsed: a model file, a missing extension.

    Raises
    ------
    ValueError
        One line naming the file and what to do instead.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        for suffix in (".yaml", ".yml"):
            if os.path.isfile(path + suffix):
                raise ValueError(f"{path}: no such file; did you mean {path + suffix}?")
        return  # the loader's own message names the missing file
    if os.path.isdir(path):
        raise ValueError(f"{path} is a folder: give the YAML file that describes the run")
    with open(path, "rb") as f:
        head = f.read(2)
    if head[:1] == b"\x80" or path.endswith(".pkl"):
        raise ValueError(
            f"{path} is a model file (a pickle), not a YAML configuration: train.py runs a "
            ".yaml file such as yaml_examples/vae_mnist10k.yaml; to look at this model use "
            f"print_monitor.py {path}, to train it further name it in a YAML file as "
            f"model: !pkl: '{path}'"
        )


def _is_vae(model):
    from pylearn_vae.models.vae import VAE

    return isinstance(model, VAE)
