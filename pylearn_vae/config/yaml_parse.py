"""YAML experiment files -> Python objects.

Loading runs in two phases. PyYAML first parses the text into a graph of `Proxy` objects
(one per ``!obj:`` node), dicts, lists and scalars; then the graph is instantiated depth
first, each `Proxy` calling its class with its instantiated keywords.

Tags
----
``!obj:a.b.C {k: v, ...}``
    ``a.b.C(k=v, ...)``; the object gets ``yaml_src``, the YAML text of its node. The class
    is imported while parsing.
``!import:a.b.c`` or ``!import 'a.b.c'``
    The object ``a.b.c`` itself, imported while parsing.
``!pkl: 'path'``
    ``serial.load(path)`` after ``${NAME}`` substitution, while parsing; not instantiated
    again.
``!float 'x'``
    ``float(x)``. Plain scalars in scientific notation (``1e-2``, ``-3E+4``, ``2.5e3``)
    are floats too (plain YAML 1.1 reads them as strings).

Class path mapping rule: a dotted path that starts with ``pylearn2.`` is resolved as
``pylearn_vae.`` followed by the rest of the path (``pylearn2.models.mlp.Linear`` ->
``pylearn_vae.models.mlp.Linear``), so Pylearn2 YAML files load unchanged. A path is
resolved by importing its module part, one package at a time, and taking the remaining
names as attributes; a path without a dot names a builtin (``!obj:dict``).

What a file may build: ``!obj:`` and ``!import`` call or return whatever they name, so
a file could name ``os.system``. By default they may only name the classes and functions
defined in ``pylearn_vae`` (except in the modules that load, save, import or run other
files: ``config``, ``scripts``, ``utils.serial``, ...), NumPy's scalar types, ``dtype`` and random
generators, and the plain builtins (``dict``, ``list``, ...); a path may only walk
through modules and classes of those packages (``pylearn_vae.utils.serial.os.system``
is refused). The user allows more with ``allow_modules`` (``--allow-module`` on the
command line, ``$PYLEARN_VAE_ALLOW_MODULES``), or turns the checks off for a trusted
file with ``trusted=True``; ``!pkl:`` files are loaded under the same settings. See
:mod:`pylearn_vae.utils.safe_load` and ``docs/security.md``. Every name in the document
is checked before anything is built and before a module that is not allowed is
imported, so a refused name anywhere (say, in a ``Train``'s extensions) builds nothing.
Besides what those tags name, nothing runs: the loader is a ``yaml.SafeLoader`` (no
``!!python/...`` tags) and no text is ``eval``'d.

Nodes that share an anchor (``&a`` ... ``*a``) give one shared instance. Every string is
passed through `preprocess` with `environ` (Pylearn2 applied `environ` to ``!pkl:`` paths
only, docs/quirks.md#quirk-14).

Limits on input: a file (or text) larger than `MAX_BYTES`, nested deeper than
`MAX_DEPTH` levels, or holding more than `MAX_NODES` values once every alias is expanded
(a "billion laughs" file: a few lines of nested ``&a [*b, *b, ...]`` that stand for 10^9
values) is refused before anything in it is built, in one line that names the file and
the limit (`YAMLLimitError`). Shared nodes stay shared when built; the limit is on what
they would stand for if expanded, since a validation message or a list copy expands them.

Errors name the file (when loaded with `load_path`) and line, e.g.
``vae.yaml, line 12: pylearn_vae.models.mlp.Linear does not support the following
keywords: irnage. Did you mean irange?``. An exception raised by a constructor keeps its
type and gets the same ``file, line N:`` prefix.
"""

import builtins
import collections
import difflib
import importlib
import importlib.util
import inspect
import os
import pkgutil
import re
import sys

import yaml
from yaml.constructor import ConstructorError

from pylearn_vae.utils import safe_load, serial
from pylearn_vae.utils.string_utils import preprocess

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "Proxy",
    "YAMLLimitError",
    "initialize",
    "instantiate",
    "load",
    "load_path",
    "load_train_file",
]

#: The largest YAML text accepted, in bytes (the examples are a few KB).
MAX_BYTES = 4 << 20
#: The deepest nesting of mappings and sequences accepted.
MAX_DEPTH = 100
#: The most values (scalars, mappings, sequences) a document may stand for with every
#: alias expanded.
MAX_NODES = 100_000

SCIENTIFIC_NOTATION_REGEXP = r"^[\-\+]?(\d+\.?\d*|\d*\.?\d+)[eE][\-\+]?\d+$"
_PREFIX_FROM, _PREFIX_TO = "pylearn2.", "pylearn_vae."
_KEYWORD_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


class Proxy(collections.namedtuple("Proxy", ["callable", "positionals", "keywords", "yaml_src"])):
    """A call not made yet: ``callable(*positionals, **keywords)``, from YAML `yaml_src`.

    Hashed and compared by identity, so two equal-looking nodes stay two objects. The
    loader also records ``mark`` (where the node starts), ``name`` (the dotted path) and
    ``key_marks`` (where each keyword is written) for error messages.
    """

    mark = None
    name = None
    key_marks = None

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other


class YAMLLimitError(ValueError):
    """A YAML file is too large, too deep or expands to too many values."""


class _Loader(yaml.SafeLoader):
    """``SafeLoader`` plus our tags, duplicate-key checks, the nesting limit, and the
    `environ`, allowed modules and trust for ``!obj:``, ``!import`` and ``!pkl:``."""

    environ = None
    allow_modules = None
    trusted = False
    policy = safe_load.LoadPolicy()
    _depth = 0

    def compose_node(self, parent, index):
        # The composer recurses once per level: refuse before Python's stack runs out.
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YAMLLimitError(
                    f"{_where(mark)}the YAML nests deeper than {MAX_DEPTH} levels (the "
                    "limit on nesting): flatten the file"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            _check_duplicate_keys(self, node)
        return super().construct_mapping(node, deep=deep)


def _check_duplicate_keys(loader, node):
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            is_duplicate = key in seen
        except TypeError:
            continue  # unhashable: the base constructor reports it
        if is_duplicate:
            raise ConstructorError(
                "while constructing a mapping", key_node.start_mark, f"found duplicate key ({key})"
            )
        seen.add(key)


def _where(mark):
    """``'file, line N: '`` (or ``'line N: '`` for a string) for a PyYAML mark."""
    if mark is None:
        return ""
    line = f"line {mark.line + 1}: "
    if mark.name and not mark.name.startswith("<"):
        return f"{mark.name}, {line}"
    return line


def _add_context(exc, mark):
    """Prefix `exc`'s message with where it happened, keeping its type; once only."""
    if mark is None or getattr(exc, "_yaml_context", False):
        return
    if isinstance(exc, yaml.MarkedYAMLError):
        return  # PyYAML errors print their own file and line
    prefix = _where(mark)
    args = exc.args
    if args and isinstance(args[0], str):
        before = str(exc)
        exc.args = (prefix + args[0],) + args[1:]
        if str(exc) == before:
            exc.args = args
    if isinstance(exc, ImportError) and isinstance(exc.msg, str):
        exc.msg = prefix + exc.msg  # ImportError prints .msg, not .args
    elif isinstance(exc, OSError) and isinstance(exc.strerror, str):
        exc.strerror = prefix + exc.strerror  # OSError prints "[Errno N] strerror: file"
    if prefix not in str(exc) and hasattr(exc, "add_note"):
        exc.add_note(f"(while loading the YAML node at {prefix.rstrip(': ')})")
    try:
        exc._yaml_context = True
    except AttributeError:
        pass


def _closest(word, candidates):
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1)
    return matches[0] if matches else None


def _import_dotted(path, check_step=None, may_import=None):
    """The object named by dotted `path` (after the ``pylearn2.`` mapping), no eval.

    ``check_step(prefix, obj)`` sees every object the walk passes through before the
    last (a module or a class); it raises to stop the walk. ``may_import(prefix)``
    says whether the module ``prefix`` may be imported; one it refuses is looked up
    as an attribute only, so a name that is not on the list is never imported.
    """
    parts = path.split(".")
    if not all(part.isidentifier() for part in parts):
        raise ImportError(f"{path!r} is not a dotted Python name like package.module.Class")
    if len(parts) == 1:
        return _builtin(path)
    obj = None
    for j, part in enumerate(parts):
        prefix = ".".join(parts[: j + 1])
        if j > 0 and check_step is not None:
            check_step(".".join(parts[:j]), obj)
        if j > 0 and hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        importable = may_import is None or may_import(prefix)
        if importable and (j == 0 or hasattr(obj, "__path__")):  # `part` may be a submodule
            module = _import_module(prefix)
            if module is not None:
                obj = module
                continue
        if j == 0:
            raise _no_module_error(path)
        raise _no_attribute_error(parts, j, obj)
    return obj


def _builtin(name):
    """The builtin ``name``; ImportError suggesting the closest one when there is none."""
    if hasattr(builtins, name):
        return getattr(builtins, name)
    guess = _closest(name, dir(builtins))
    hint = f" Did you mean {guess}?" if guess else ""
    raise ImportError(f"Could not import {name}: it is not a builtin.{hint}")


def _import_module(prefix):
    """The module ``prefix``, or None when there is no such module (an ImportError while
    importing one that exists is raised, naming it)."""
    try:
        return importlib.import_module(prefix)
    except ModuleNotFoundError as e:
        if e.name != prefix:
            raise ImportError(f"Could not import {prefix}; ImportError was {e}") from e
    except ImportError as e:
        raise ImportError(f"Could not import {prefix}; ImportError was {e}") from e
    return None


def _no_attribute_error(parts, j, obj):
    """AttributeError for ``parts[j]``, missing from ``obj``, suggesting the closest name."""
    part, prefix = parts[j], ".".join(parts[: j + 1])
    names = dir(obj)
    if hasattr(obj, "__path__"):
        names += [m.name for m in pkgutil.iter_modules(obj.__path__)]
    guess = _closest(part, names)
    hint = f" Did you mean {'.'.join(parts[:j] + [guess])}?" if guess else ""
    return AttributeError(f"Could not evaluate {prefix}.{hint} ({parts[j - 1]!r} has no {part!r})")


def _no_module_error(path):
    """ImportError for `path`, whose first part is no module, suggesting the closest."""
    part = path.split(".")[0]
    top = [m.name for m in pkgutil.iter_modules()] + list(sys.builtin_module_names)
    guess = _closest(part, top)
    hint = f" Did you mean {guess}?" if guess else ""
    return ImportError(f"Could not import {path}: there is no module {part}.{hint}")


def _map_path(path):
    if path.startswith(_PREFIX_FROM):
        path = _PREFIX_TO + path[len(_PREFIX_FROM) :]
    return safe_load.current_path(path)


def _resolve(path, mark, policy):
    """``(dotted path, object)`` for `path`, if `policy` allows it; errors name `mark`."""
    dotted = _map_path(path)
    try:
        try:
            policy.check_yaml_name(dotted)  # before anything is imported
        except safe_load.UnsafeFileError:
            top = dotted.split(".")[0]
            if "." in dotted and importlib.util.find_spec(top) is None:  # finds, runs nothing
                raise _no_module_error(dotted) from None  # a typo: say so, not "refused"
            raise
        target = safe_load.yaml_names().get(dotted)
        if target is None:
            target = _import_dotted(
                dotted,
                lambda prefix, obj: policy.check_yaml_step(dotted, prefix, obj),
                policy.may_import,
            )
        policy.check_yaml_object(dotted, target)
        return dotted, target
    except (ImportError, AttributeError, safe_load.UnsafeFileError) as e:
        _add_context(e, mark)
        raise


def _named_path(node):
    """The dotted path an ``!obj:``/``!import`` node names, or None."""
    if node.tag.startswith("!obj:"):
        return node.tag[len("!obj:") :]
    if node.tag.startswith("!import:"):
        return node.tag[len("!import:") :]
    if node.tag == "!import" and isinstance(node, yaml.ScalarNode) and "." in node.value:
        return node.value
    return None


def _check_expanded_size(root, source):
    """Refuse a document that stands for more than `MAX_NODES` values with every alias
    expanded (counted without expanding: each node's count is computed once), or that
    holds an alias inside its own anchor (it would stand for infinitely many)."""
    where = f"{source}: " if source else ""
    counts, open_nodes, stack = {}, set(), [(root, False)]
    while stack:
        node, children_done = stack.pop()
        children = []
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        if children_done:
            open_nodes.discard(id(node))
            counts[id(node)] = count = 1 + sum(counts[id(c)] for c in children)
            if count > MAX_NODES:
                raise YAMLLimitError(
                    f"{where}the YAML stands for more than {MAX_NODES:,} values once its "
                    "aliases (*name) are expanded (the limit on alias expansion): use fewer "
                    "nested aliases"
                )
            continue
        if id(node) in counts:
            continue
        if id(node) in open_nodes:
            raise YAMLLimitError(
                f"{_where(node.start_mark) or where}an alias stands for a node that contains "
                "it (a recursive structure, with no end once expanded): remove the alias"
            )
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in counts)


def _read_limited(stream, source):
    """The text of `stream` (a str or a file), refused when over `MAX_BYTES`."""
    text = stream if isinstance(stream, (str, bytes)) else stream.read(MAX_BYTES + 1)
    if len(text) > MAX_BYTES:
        where = f"{source}: " if source else ""
        raise YAMLLimitError(
            f"{where}the YAML is larger than {MAX_BYTES >> 20} MiB (the limit on a YAML "
            "file's size): keep data in dataset files (.npy, .npz), not in the YAML"
        )
    return text


def _check_names(root, policy):
    """Refuse the first name in the document `policy` does not allow, before anything is
    built (a path that does not resolve is left for construction to report in order)."""
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        path = _named_path(node)
        if path:
            try:
                _resolve(path, node.start_mark, policy)
            except (ImportError, AttributeError):
                pass
        if isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in reversed(node.value) for n in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))


def _construct_obj(loader, tag_suffix, node):
    if not isinstance(node, yaml.MappingNode):
        raise ConstructorError(
            None,
            None,
            f"!obj:{tag_suffix} needs a mapping of keyword arguments, found a {node.id}",
            node.start_mark,
        )
    yaml_src = yaml.serialize(node, Dumper=yaml.SafeDumper)
    key_marks = {k.value: k.start_mark for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    keywords = loader.construct_mapping(node, deep=True)
    for key in keywords:
        if not isinstance(key, str):
            raise TypeError(
                f"{_where(node.start_mark)}Received non string object ({key}) as key in mapping."
            )
    name, target = _resolve(tag_suffix, node.start_mark, loader.policy)
    proxy = Proxy(callable=target, positionals=(), keywords=keywords, yaml_src=yaml_src)
    proxy.mark, proxy.name, proxy.key_marks = node.start_mark, name, key_marks
    return proxy


def _do_not_recurse(value):
    """Marks a `Proxy` whose value is already built (``!pkl:``)."""
    return value


def _construct_pkl(loader, tag_suffix, node):
    if tag_suffix != "":
        raise AssertionError(
            f'{_where(node.start_mark)}Expected the tag suffix to be "" but it is '
            f'"{tag_suffix}": put a space between !pkl: and the file name.'
        )
    path = loader.construct_scalar(node)
    try:
        value = serial.load(
            preprocess(path, loader.environ),
            allow_modules=loader.allow_modules,
            trusted=loader.trusted,
        )
    except Exception as e:
        _add_context(e, node.start_mark)
        raise
    yaml_src = yaml.serialize(node, Dumper=yaml.SafeDumper)
    proxy = Proxy(_do_not_recurse, (), {"value": value}, yaml_src)
    proxy.mark = node.start_mark
    return proxy


def _import_checked(loader, path, node):
    if "." not in path:
        raise yaml.YAMLError(
            f"{_where(node.start_mark)}!import needs a dotted path like package.module.name, "
            f"got {path!r}"
        )
    return _resolve(path, node.start_mark, loader.policy)[1]


def _construct_import_suffix(loader, tag_suffix, node):
    return _import_checked(loader, tag_suffix, node)


def _construct_import(loader, node):
    return _import_checked(loader, loader.construct_scalar(node), node)


def _construct_float(loader, node):
    text = loader.construct_scalar(node)
    try:
        return float(text)
    except ValueError as e:
        raise ValueError(f"{_where(node.start_mark)}!float needs a number, got {text!r}") from e


_initialized = False


def initialize():
    """Register our tags and the scientific-notation float resolver (idempotent)."""
    global _initialized
    if _initialized:
        return
    _Loader.add_multi_constructor("!obj:", _construct_obj)
    _Loader.add_multi_constructor("!pkl:", _construct_pkl)
    _Loader.add_multi_constructor("!import:", _construct_import_suffix)
    _Loader.add_constructor("!import", _construct_import)
    _Loader.add_constructor("!float", _construct_float)
    _Loader.add_implicit_resolver(
        "!float", re.compile(SCIENTIFIC_NOTATION_REGEXP), list("-+0123456789.")
    )
    _initialized = True


def load(stream, environ=None, instantiate=True, allow_modules=None, trusted=False, **kw):
    """Build the objects described by YAML `stream`.

    Parameters
    ----------
    stream : str or file
        YAML text, or an open file (its ``name`` is used in error messages).
    environ : dict, optional
        Values for ``${NAME}`` that take precedence over ``os.environ``.
    instantiate : bool
        False returns the parsed graph of `Proxy` objects without calling anything.
    allow_modules : str or list of str, optional
        Modules (with their submodules) whose classes and functions ``!obj:``,
        ``!import`` and ``!pkl:`` may also build, besides ``pylearn_vae`` and
        ``$PYLEARN_VAE_ALLOW_MODULES``: e.g. ``['mymodule']`` for one's own ``Prior``.
    trusted : bool
        The file is trusted: build whatever it names, and load its ``!pkl:`` files
        unrestricted. This runs any code the file names.
    **kw
        ``Loader``: a subclass of this module's loader, to add tags.

    Returns
    -------
    object
        The top-level object (usually a ``Train``), or its `Proxy` graph.

    Raises
    ------
    pylearn_vae.utils.safe_load.UnsafeFileError
        (a ValueError) The file names something outside the allowed modules; the
        message gives the line, the name and how to allow it. Nothing was built.
    """
    source = getattr(stream, "name", None)
    return _load(stream, source, environ, instantiate, allow_modules, trusted, **kw)


def load_path(path, environ=None, instantiate=True, allow_modules=None, trusted=False, **kw):
    """`load` the YAML file at `path`; errors name `path` and the line."""
    with open(path, encoding="utf-8") as f:
        content = _read_limited(f, str(path))
    return _load(content, str(path), environ, instantiate, allow_modules, trusted, **kw)


def _load(stream, source, environ, instantiate, allow_modules, trusted, Loader=None):
    initialize()
    Loader = _Loader if Loader is None else Loader
    if not (isinstance(Loader, type) and issubclass(Loader, _Loader)):
        raise TypeError("Loader must be a subclass of pylearn_vae.config.yaml_parse._Loader")
    policy = safe_load.LoadPolicy(allow_modules, trusted)
    loader = Loader(_read_limited(stream, source))
    if source is not None:
        loader.name = source
    loader.environ = environ
    loader.allow_modules, loader.trusted, loader.policy = allow_modules, trusted, policy
    try:
        root = loader.get_single_node()
        graph = None
        if root is not None:
            _check_expanded_size(root, source)
            _check_names(root, policy)
            graph = loader.construct_document(root)
    finally:
        loader.dispose()
    if not instantiate:
        return graph
    return _instantiate(graph, environ, {})


def instantiate(graph, environ=None):
    """Build the objects of a `Proxy` graph (what ``load(..., instantiate=False)`` gave)."""
    return _instantiate(graph, environ, {})


def _instantiate(node, environ, memo):
    if isinstance(node, Proxy):
        if id(node) not in memo:
            memo[id(node)] = _call(node, environ, memo)
        return memo[id(node)]
    if isinstance(node, dict):
        if id(node) not in memo:
            memo[id(node)] = out = {}
            for key, value in node.items():
                out[_instantiate(key, environ, memo)] = _instantiate(value, environ, memo)
        return memo[id(node)]
    if isinstance(node, list):
        if id(node) not in memo:
            memo[id(node)] = out = []
            out.extend(_instantiate(item, environ, memo) for item in node)
        return memo[id(node)]
    if isinstance(node, str):
        return preprocess(node, environ)
    return node


def _call(proxy, environ, memo):
    if proxy.callable is _do_not_recurse:
        return proxy.keywords["value"]
    key_marks = proxy.key_marks or {}
    kwargs = {}
    for key, value in proxy.keywords.items():
        try:
            kwargs[key] = _instantiate(value, environ, memo)
        except Exception as e:
            _add_context(e, key_marks.get(key, proxy.mark))
            raise
    args = [_instantiate(value, environ, memo) for value in proxy.positionals]
    try:
        obj = proxy.callable(*args, **kwargs)
    except TypeError as e:
        _raise_diagnosed(proxy, args, kwargs, e)
    except Exception as e:
        _add_context(e, proxy.mark)
        raise
    try:
        obj.yaml_src = proxy.yaml_src
    except AttributeError:
        pass
    return obj


def _raise_diagnosed(proxy, args, kwargs, error):
    """Explain a TypeError from a call against the callable's signature, then raise."""
    name = proxy.name or getattr(proxy.callable, "__qualname__", repr(proxy.callable))
    message, mark = _signature_problem(proxy, name, args, kwargs)
    if message is None:
        _add_context(error, proxy.mark)
        raise error
    diagnosed = TypeError(_where(mark) + message)
    diagnosed._yaml_context = True
    raise diagnosed from error


def _signature_problem(proxy, name, args, kwargs):
    try:
        signature = inspect.signature(proxy.callable)
    except (TypeError, ValueError):
        return None, None  # no signature to check against (some builtins)
    try:
        signature.bind(*args, **kwargs)
    except TypeError:
        pass
    else:
        return None, None  # the arguments fit: the TypeError came from inside the call
    params = signature.parameters
    valid = [p for p, param in params.items() if param.kind in _KEYWORD_KINDS]
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = [] if takes_any else [k for k in kwargs if k not in valid]
    if unknown:
        guesses = [(k, _closest(k, valid)) for k in unknown]
        guesses = [(k, g) for k, g in guesses if g]
        message = f"{name} does not support the following keywords: {', '.join(unknown)}."
        if len(unknown) == 1 and guesses:
            message += f" Did you mean {guesses[0][1]}?"
        elif guesses:
            message += " Did you mean " + ", ".join(f"{g} (for {k})" for k, g in guesses) + "?"
        else:
            message += f" Valid keywords: {', '.join(valid)}."
        key_marks = proxy.key_marks or {}
        return message, key_marks.get(unknown[0], proxy.mark)
    positional = [
        p
        for p in params.values()
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    given = {p.name for p in positional[: len(args)]} | set(kwargs)
    missing = [
        p.name
        for p in params.values()
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        and p.name not in given
    ]
    if missing:
        return f"{name} did not get these expected arguments: {', '.join(missing)}", proxy.mark
    return None, None


initialize()

def load_train_file(
    config_file_path, environ=None, allow_modules=None, trusted=False, **kwargs
):
    """Set the ``PYLEARN2_TRAIN_*`` variables for ``config_file_path``, then load it.

    Pylearn2 kept this in ``pylearn2/utils/serial.py``; here it sits beside the loader it
    calls, since this module imports :mod:`pylearn_vae.utils.serial` (for ``!pkl:``).

    Parameters
    ----------
    config_file_path : str
    environ : dict, optional
    allow_modules : list of str, optional
    trusted : bool
        Passed to :func:`load_path` (``docs/security.md``).
        ``kwargs`` go there too (``instantiate=False`` gives the object graph).
    """
    path = str(config_file_path)
    full_stem = path[: -len(".yaml")] if path.endswith(".yaml") else path
    directory = "/".join(path.split("/")[:-1])
    os.environ["PYLEARN2_TRAIN_FILE_FULL_STEM"] = full_stem
    os.environ["PYLEARN2_TRAIN_DIR"] = directory + "/" if directory else ""
    os.environ["PYLEARN2_TRAIN_BASE_NAME"] = path.split("/")[-1]
    os.environ["PYLEARN2_TRAIN_FILE_STEM"] = full_stem.split("/")[-1]
    return load_path(
        path, environ=environ, allow_modules=allow_modules, trusted=trusted, **kwargs
    )
