"""What a file may build when it is opened: the allow-list behind YAML and pickle loading.

Opening a YAML experiment file or a saved model must not run code its author chose.
Both formats name Python callables (``!obj:os.system``, a pickle's ``__reduce__``), so
every name a file gives is checked against an allow-list of exact names *before* any
module is imported, and the object found is checked again (see ``docs/security.md``):

- The modules of ``pylearn_vae`` a file may name are listed from the package's files,
  without importing them (:func:`package_modules`); ``pylearn2.*`` paths map there. A
  file may build the classes they define, and the functions in ``_YAML_FUNCTIONS``.
- NumPy and the builtins are reached only by the exact names of :func:`yaml_names`
  (NumPy's scalar types, ``dtype``, the random generators and bit generators, and the
  plain builtins ``dict``, ``list``, ``tuple``, ``set``, ``frozenset``, ``int``,
  ``float``, ``str``, ``bool``, ``complex``, ``bytes``, ``bytearray``, ``slice`` and
  ``range``); any other NumPy name, submodules included, is refused unimported.
- A pickle may build the classes defined in those ``pylearn_vae`` modules, and the
  exact NumPy, ``pickle`` and container globals of ``_PICKLE_GLOBALS``.
- Neither may reach the modules of this package that load, save or run other files
  with their own trust settings (``_NEVER_FROM_A_FILE``), and a dotted path walks only
  through listed modules and the classes they define, so
  ``pylearn_vae.models.mlp.numpy.f2py`` is refused like ``numpy.f2py``.
- The user widens the list with modules they trust: ``allow_modules=[...]`` in
  Python, ``--allow-module NAME`` on the command line, or the environment variable
  ``PYLEARN_VAE_ALLOW_MODULES=name,other``. Everything defined in those modules (and
  their submodules) may then be built.
- ``trusted=True`` (``--trust``) turns all checks off for a file the user trusts.
"""

import builtins
import functools
import importlib
import inspect
import os
import sys

import numpy
import numpy.random

__all__ = [
    "ENV_VAR",
    "MOVED",
    "LoadPolicy",
    "UnsafeFileError",
    "allowed_modules",
    "current_path",
    "package_modules",
    "checked_dtype",
    "yaml_names",
]

ENV_VAR = "PYLEARN_VAE_ALLOW_MODULES"
PACKAGE = "pylearn_vae"

# Modules of this package whose functions load, save, import or run other files, the
# loaders each with its own trust settings (serial.load(trusted=True), scripts'
# main(["--trust"])), images.require importing any module by name, testing.browser
# starting Chromium, sweep starting training processes, run and run_options
# training other files, the data-file and unpickling readers and train_checkpoint
# (which saves and reads checkpoints): a file naming them could get
# around the checks, so no file reaches them unless the user allows them.
_NEVER_FROM_A_FILE = tuple(
    f"{PACKAGE}.{name}"
    for name in (
        "config",
        "run",
        "run_options",
        "scripts",
        "sweep",
        "testing.browser",
        "train_checkpoint",
        "utils.datafile",
        "utils.images",
        "utils.safe_load",
        "utils.safe_unpickle",
        "utils.serial",
    )
)
_WHY_NEVER = "loads, saves, imports or runs other files"

# The functions of this package a YAML file may call: each builds an object from its
# arguments and touches no file, process or global state.
_YAML_FUNCTIONS = frozenset(
    {
        "pylearn_vae.utils.rng.make_np_rng",
        "pylearn_vae.testing.datasets.random_dense_design_matrix",
    }
)

_PLAIN_BUILTINS = (
    "dict list tuple set frozenset int float str bool complex bytes bytearray slice range"
).split()

# The globals pickle and NumPy write for containers, arrays, dtypes, scalars and random
# generators, and file paths (datasets hold them): constructors that build data and call
# nothing they are given.
_PICKLE_GLOBALS = {
    "builtins": frozenset(_PLAIN_BUILTINS + ["object"]),
    "collections": frozenset({"OrderedDict", "defaultdict", "deque", "Counter"}),
    "copyreg": frozenset({"_reconstructor"}),
    "_codecs": frozenset({"encode"}),
    "numpy": frozenset({"dtype", "ndarray"}),
    "pathlib": frozenset({"PosixPath", "WindowsPath", "PurePosixPath", "PureWindowsPath"}),
    "pathlib._local": frozenset({"PosixPath", "WindowsPath", "PurePosixPath", "PureWindowsPath"}),
    "numpy.random._pickle": frozenset(
        {"__bit_generator_ctor", "__generator_ctor", "__randomstate_ctor"}
    ),
    "numpy.random._mt19937": frozenset({"MT19937"}),
    "numpy.random._pcg64": frozenset({"PCG64", "PCG64DXSM"}),
    "numpy.random._philox": frozenset({"Philox"}),
    "numpy.random._sfc64": frozenset({"SFC64"}),
    "numpy.random._generator": frozenset({"Generator"}),
    "numpy.random.mtrand": frozenset({"RandomState"}),
    "numpy.random.bit_generator": frozenset({"SeedSequence", "__pyx_unpickle_SeedSequence"}),
}
for _core in ("numpy.core", "numpy._core"):  # NumPy 1.x and 2.x spellings
    _PICKLE_GLOBALS[_core + ".multiarray"] = frozenset({"_reconstruct", "scalar"})
    _PICKLE_GLOBALS[_core + ".numeric"] = frozenset({"_frombuffer"})


#: Where classes moved, old dotted path -> new one (a module, or a module's class): YAML
#: files and saved models that name the old path build what lives at the new one.
MOVED = {
    "pylearn_vae.models.vae.laplace": "pylearn_vae.models.vae_extensions.laplace",
    "pylearn_vae.models.vae.mixture": "pylearn_vae.models.vae_extensions.mixture",
    "pylearn_vae.models.vae.conditional.ContinuousBernoulli": (
        "pylearn_vae.models.vae_extensions.continuous_bernoulli.ContinuousBernoulli"
    ),
}


def current_path(path):
    """The dotted path where what ``path`` names lives now (:data:`MOVED`)."""
    for old, new in MOVED.items():
        if path == old or path.startswith(old + "."):
            return new + path[len(old) :]
    return path


def current_global(module, name):
    """``(module, name)`` of a pickle global, after :data:`MOVED`."""
    if current_path(module) != module:
        return current_path(module), name
    moved = current_path(f"{module}.{name}")
    return tuple(moved.rsplit(".", 1)) if moved != f"{module}.{name}" else (module, name)


class UnsafeFileError(ValueError):
    """A file names something it may not build; the message says how to allow it."""


def allowed_modules(allow_modules=None):
    """The modules the user allows: ``allow_modules`` plus ``$PYLEARN_VAE_ALLOW_MODULES``.

    Parameters
    ----------
    allow_modules : str or iterable of str, optional
        Dotted module names (``'mymodule'``, ``'mypackage.priors'``).

    Returns
    -------
    tuple of str
    """
    if isinstance(allow_modules, str):
        allow_modules = [allow_modules]
    given = [(name, "allow_modules") for name in allow_modules or ()]
    from_env = os.environ.get(ENV_VAR, "")
    given += [(name.strip(), ENV_VAR) for name in from_env.split(",") if name.strip()]
    for name, source in given:
        if not isinstance(name, str) or not all(p.isidentifier() for p in name.split(".")):
            raise ValueError(
                f"{source}: {name!r} is not a dotted module name like mymodule or mypackage.priors"
            )
    return tuple(name for name, _ in given)


def _in_modules(name, modules):
    return any(name == m or name.startswith(m + ".") for m in modules)


def _how_to_allow(module):
    if module is None:
        return "only --trust (trusted=True) builds it, for a file you trust; see docs/security.md"
    return (
        f"if you trust {module}, pass --allow-module {module} (or {ENV_VAR}={module}, "
        f"allow_modules=['{module}']); see docs/security.md"
    )


class LoadPolicy:
    """What one load may build: this package, NumPy data, plain containers, and
    ``allow_modules``; everything when ``trusted``.

    Parameters
    ----------
    allow_modules : str or iterable of str, optional
        Extra modules, on top of ``$PYLEARN_VAE_ALLOW_MODULES``.
    trusted : bool
        The user trusts the file: build whatever it names.
    """

    def __init__(self, allow_modules=None, trusted=False):
        self.trusted = bool(trusted)
        self.modules = allowed_modules(allow_modules)

    def _user(self, name):
        return _in_modules(name, self.modules)

    def _package(self, name):
        return _in_modules(name, (PACKAGE,)) and not _in_modules(name, _NEVER_FROM_A_FILE)

    def _listed(self, module):
        """Whether ``module`` is a module of this package a file may name."""
        return module in package_modules()

    # -- YAML -------------------------------------------------------------------------------------
    def check_yaml_name(self, path):
        """Refuse dotted ``path`` (``!obj:``/``!import``) before anything is imported.

        Passes a name of :func:`yaml_names`, a bare name (the walk reads ``builtins``
        only, and `check_yaml_object` narrows what it finds), a user module's name, or a
        path under a module of :func:`package_modules`; refuses everything else.

        Raises
        ------
        UnsafeFileError
            Without the file and line; the caller adds them.
        """
        if self.trusted or self._user(path) or path in yaml_names() or "." not in path:
            return
        if _in_modules(path, _NEVER_FROM_A_FILE):
            module = next(m for m in _NEVER_FROM_A_FILE if _in_modules(path, (m,)))
            raise self._refused(path, module, f"{module} {_WHY_NEVER}")
        if _in_modules(path, (PACKAGE,)):
            return  # the walk imports listed modules only (may_import) and checks each step
        module = path.rsplit(".", 1)[0]
        top = path.split(".")[0]
        if top in ("numpy", "builtins"):
            raise self._refused(path, module, f"{path} is not one of the {top} names allowed")
        raise self._refused(path, module, f"{module} is not part of {PACKAGE}")

    def may_import(self, module):
        """Whether the walk of a checked path may import dotted ``module``: the user's
        modules, the listed modules of this package, and nothing else."""
        return self.trusted or self._user(module) or self._listed(module)

    def check_yaml_step(self, path, prefix, obj):
        """Refuse walking from ``prefix`` (an intermediate of ``path``) to anything but a
        listed module or a class defined in one (``pylearn_vae.utils.rng.numpy``)."""
        if self.trusted:
            return
        last = prefix.rsplit(".", 1)[-1]
        if last.startswith("__"):
            raise self._refused(path, None, f"{prefix} names a Python internal")
        if inspect.ismodule(obj):
            name = obj.__name__
            if self._user(name) or self._listed(name):
                return
            raise self._refused(path, name, f"{prefix} is the module {name}")
        if inspect.isclass(obj) and self._defined_in_allowed(obj):
            return
        raise self._refused(path, None, f"{prefix} is not a module or class of {PACKAGE}")

    def check_yaml_object(self, path, obj):
        """Refuse the object ``path`` resolved to unless it is one of :func:`yaml_names`,
        a class defined in a listed module, a function of ``_YAML_FUNCTIONS``, or
        anything a user module defines."""
        if self.trusted:
            return
        if any(obj is known for known in yaml_names().values()):
            return
        if inspect.ismodule(obj):
            if self._user(obj.__name__):
                return
            raise self._refused(path, obj.__name__, "it is a module, not a class or function")
        target = obj.__func__ if inspect.ismethod(obj) else obj
        if not (inspect.isclass(target) or inspect.isroutine(target)):
            raise self._refused(path, None, "it is not a class or function")
        if self._defined_in_allowed(target):
            return
        module = getattr(target, "__module__", None) or "builtins"
        if inspect.isroutine(target) and self._package(module):
            raise self._refused(
                path, None, f"it is a function of {module} that a file may not call"
            )
        raise self._refused(path, module, f"it is defined in {module}")

    def _defined_in_allowed(self, obj):
        module = getattr(obj, "__module__", None)
        if not isinstance(module, str):
            return False
        if self._user(module):
            return True
        if not self._listed(module):
            return False
        if inspect.isclass(obj):
            return True
        qualified = f"{module}.{getattr(obj, '__qualname__', '')}"
        return inspect.isfunction(obj) and qualified in _YAML_FUNCTIONS

    def _refused(self, path, module, why):
        """``module``: what to allow for ``path`` to build; None when nothing but trust."""
        return UnsafeFileError(
            f"refused to build {path} ({why}): a YAML file may only build the classes and "
            f"functions of {PACKAGE}, NumPy dtypes and generators, and modules you allow; "
            + _how_to_allow(module)
        )

    # -- pickles ----------------------------------------------------------------------------------
    def check_pickle_global(self, filepath, module, name, risk=None):
        """Refuse global ``module.name`` of pickle ``filepath`` before it is imported.

        Returns
        -------
        str or None
            ``'package'`` or ``'user'`` when the global must still pass
            `check_pickle_object` once imported; None when it is one of the registered
            NumPy/container globals (or the file is trusted).
        """
        if self.trusted or name in _PICKLE_GLOBALS.get(module, ()):
            return None
        if self._user(module):
            return "user"
        if self._listed(module):
            return "package"
        if _in_modules(module, _NEVER_FROM_A_FILE):
            why = f"{module} {_WHY_NEVER}"
        elif _in_modules(module, (PACKAGE,)):
            why = f"{module} is not a module of {PACKAGE}"
        else:
            why = f"{module} is not part of {PACKAGE}, NumPy's arrays or the plain containers"
        raise self._pickle_refused(filepath, module, name, why, risk)

    def check_pickle_object(self, filepath, module, name, obj, kind, risk=None):
        """Refuse a global that is not a class (or, in a user module, a function) defined
        in ``module`` under the name ``name``: no walking to ``serial.os.system``. A class
        that defines ``__del__`` is refused too: what its objects do when freed would act
        on the values the file gave them."""
        defined_here = (
            getattr(obj, "__module__", None) == module
            and getattr(obj, "__qualname__", None) == name
        )
        if kind == "user":
            ok = defined_here and (inspect.isclass(obj) or inspect.isfunction(obj))
        else:
            ok = defined_here and inspect.isclass(obj)
        if not ok:
            what = "a function" if inspect.isroutine(obj) else type(obj).__name__
            raise self._pickle_refused(
                filepath, module, name, f"it is {what}, not a class defined in {module}", risk
            )
        if inspect.isclass(obj) and getattr(obj, "__del__", None) is not None:
            why = "its objects run code when they are freed, which a saved model never holds"
            raise self._pickle_refused(filepath, module, name, why, risk)

    def find_class(self, filepath, module, name):
        """The class (or, in a user module, function) ``module.name`` of file
        ``filepath``, after :data:`MOVED`, checked before and after it is imported.

        Unlike a pickle's globals, NumPy's and the containers' are not found here: the
        data files of :mod:`pylearn_vae.utils.datafile` describe those themselves.

        Raises
        ------
        UnsafeFileError
            ``module.name`` is not allowed; nothing it names was imported or called.
        """
        module, name = current_global(module, name)
        risk = f"a data file builds only the classes of {PACKAGE} and of modules you allow"
        kind = "user" if self.trusted else self.check_pickle_global(filepath, module, name, risk)
        if kind is None:
            why = "NumPy's and Python's own values are described, not named, in a data file"
            raise self._pickle_refused(filepath, module, name, why, risk)
        return self.resolve(filepath, module, name, kind, risk)

    def resolve(self, filepath, module, name, kind, risk=None):
        """Import ``module`` (already checked) and walk to ``name``; check what is found
        when ``kind`` is ``'package'`` or ``'user'`` (see `check_pickle_global`)."""
        try:
            importlib.import_module(module)
            obj = sys.modules[module]
            for part in name.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as e:
            raise ValueError(
                f"{filepath}: it names {module}.{name}, which does not exist ({e})"
            ) from None
        if kind is not None and not self.trusted:
            self.check_pickle_object(filepath, module, name, obj, kind, risk)
        return obj

    def _pickle_refused(self, filepath, module, name, why, risk=None):
        risk = risk or "unpickling it could run any code"
        return UnsafeFileError(
            f"{filepath}: refused to load global {module}.{name} ({why}): {risk}. If you "
            f"trust this file, load it with --trust (trusted=True); {_how_to_allow(module)}"
        )


@functools.cache
def package_modules():
    """The dotted names of this package's modules a file may name, read from its files.

    Nothing is imported to list them; the modules of ``_NEVER_FROM_A_FILE`` (and their
    submodules) are left out.

    Returns
    -------
    frozenset of str
    """
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    names = set()
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [d for d in subfolders if d.isidentifier()]
        if "__init__.py" not in files:
            subfolders[:] = []
            continue
        relative = os.path.relpath(folder, root)
        package = ".".join([PACKAGE] + ([] if relative == "." else relative.split(os.sep)))
        names.add(package)
        for file in files:
            stem, ext = os.path.splitext(file)
            if ext == ".py" and stem.isidentifier() and stem not in ("__init__", "__main__"):
                names.add(f"{package}.{stem}")
    return frozenset(n for n in names if not _in_modules(n, _NEVER_FROM_A_FILE))


@functools.cache
def yaml_names():
    """The exact NumPy and builtin names a YAML file may give, and their objects.

    ``numpy.<type>`` for each NumPy scalar type (``numpy.float32``), ``numpy.dtype``,
    the generators and bit generators of ``numpy.random`` and ``default_rng``, and the
    plain builtins, bare (``dict``) and as ``builtins.dict``. Every object here builds
    data from its arguments and calls nothing it is given.

    Returns
    -------
    dict of str to object
    """
    names = {}
    for name, obj in vars(numpy).items():  # vars(): no lazy submodule import
        if isinstance(obj, type) and issubclass(obj, numpy.generic) and not name.startswith("_"):
            names[f"numpy.{name}"] = obj
    names["numpy.dtype"] = numpy.dtype
    for name in (
        "RandomState Generator default_rng SeedSequence MT19937 PCG64 PCG64DXSM Philox SFC64"
    ).split():
        names[f"numpy.random.{name}"] = getattr(numpy.random, name)
    for name in _PLAIN_BUILTINS:
        names[name] = names[f"builtins.{name}"] = getattr(builtins, name)
    return names


def dtype_refused(filepath, what):
    return UnsafeFileError(
        f"{filepath}: refused to load {what}: a NumPy dtype in a model file must be a plain "
        "number type (object and structured dtypes can make NumPy read bytes as pointers). "
        "If you trust this file, load it with --trust (trusted=True)"
    )


def checked_dtype(filepath, spec, align=False, copy=False):
    """``numpy.dtype(spec, align, copy)`` for a plain number, bool, string or time type."""
    if not isinstance(spec, str):
        raise dtype_refused(filepath, f"a dtype made from {type(spec).__name__}")
    try:
        dtype = numpy.dtype(spec, bool(align), bool(copy))
    except (TypeError, ValueError) as e:
        raise dtype_refused(filepath, f"the dtype {spec[:40]!r} ({e})") from None
    if dtype.hasobject or dtype.kind in "OV" or dtype.names is not None or dtype.subdtype:
        raise dtype_refused(filepath, f"the dtype {spec[:40]!r}")
    return dtype
