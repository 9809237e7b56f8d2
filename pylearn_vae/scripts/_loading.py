"""Loading what a script is given: a saved model, the data to evaluate it on.

:func:`load_model` and :func:`load_vae` read a ``.pkl`` a training run saved;
:func:`load_dataset` builds the dataset named by ``--dataset`` (a short name of
:data:`DATASET_NAMES`, a ``.yaml`` file or YAML text) or the one the model was trained
on; :func:`design_matrix` gives its rows. Both loaders build only what the command
line's ``--allow-module``/``--trust`` allow (:mod:`pylearn_vae.scripts._load_options`),
and every failure is a one-line :class:`~pylearn_vae.scripts._errors.CliError` that
names the file or the option.
"""

import contextlib
import os

import numpy

from pylearn_vae.datasets.dataset import NotInstalledError
from pylearn_vae.scripts import _load_options
from pylearn_vae.scripts._errors import CliError, RuntimeFailure
from pylearn_vae.utils import serial
from pylearn_vae.utils.safe_load import UnsafeFileError

__all__ = [
    "DATASET_NAMES",
    "check_finite_params",
    "dataset_view_shape",
    "design_matrix",
    "for_split",
    "load_dataset",
    "load_model",
    "load_vae",
]

DATASET_NAMES = {
    "mnist10k": "!obj:pylearn_vae.datasets.mnist10k.MNIST10k {which_set: '%s'}",
    "binarized_mnist": "!obj:pylearn_vae.datasets.binarized_mnist.BinarizedMNIST "
    "{which_set: '%s'}",
    "mnist": "!obj:pylearn_vae.datasets.idx.MNIST {which_set: '%s'}",
    "fashion_mnist": "!obj:pylearn_vae.datasets.idx.FashionMNIST {which_set: '%s'}",
}


def load_model(path, args=None):
    """The model saved at ``path``, loaded as the command line ``args`` allows
    (``--allow-module``, ``--trust``); a clear :class:`CliError` if it cannot be."""
    if not os.path.exists(path):
        raise CliError(f"{path}: no such file (give the .pkl a training run saved)")
    if os.path.isdir(path):
        raise CliError(f"{path} is a folder, not a saved model (.pkl)")
    try:
        return serial.load(path, **_load_options.load_options(args))
    except UnsafeFileError as exc:
        raise CliError(str(exc)) from exc
    except Exception as exc:  # any unpickling failure means "not one of our models"
        raise CliError(
            f"{path} is not a saved pylearn_vae model ({type(exc).__name__}: {exc})"
        ) from exc


def load_vae(path, args=None):
    """:func:`load_model`, checking the object is a :class:`~pylearn_vae.models.vae.VAE`."""
    from pylearn_vae.models.vae import VAE

    model = load_model(path, args)
    if not isinstance(model, VAE):
        raise CliError(
            f"{path} holds a {type(model).__module__}.{type(model).__name__}, not a VAE: "
            "give the .pkl of a trained pylearn_vae.models.vae.VAE"
        )
    check_finite_params(model, path)
    return model


def load_dataset(model, spec=None, which_set=None, args=None):
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
    args : argparse.Namespace, optional
        The command line, for ``--allow-module`` and ``--trust``.
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
            graph = yaml_parse.load(src, instantiate=False, **_load_options.load_options(args))
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


def dataset_view_shape(model, spec=None, args=None):
    """The training data's ``(rows, cols, channels)`` view, or None when unknown."""
    try:
        dataset = load_dataset(model, spec, args=args)
    except (CliError, OSError, ValueError, ImportError):
        return None
    view_shape = getattr(dataset, "view_shape", None)
    return view_shape() if callable(view_shape) else None


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
