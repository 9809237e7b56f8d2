"""The settings of a run, as plain data: what a checkpoint records and ``--resume`` checks.

A YAML file is loaded as a graph of calls not made yet
(:class:`pylearn_vae.config.yaml_parse.Proxy`) before anything is built. :func:`describe`
turns one ``Train`` node of that graph (the run options that act on the graph, such as
``--seed``, already applied) into plain data: each call becomes ``{"class": dotted name,
argument: value, ...}``, with the class's current dotted name (a ``pylearn2.`` path and
its ``pylearn_vae.`` twin describe the same run). The checkpoint keeps it; resuming
compares the file's description with the checkpoint's (:func:`changes`) and refuses any
change that alters the model, the data or the optimization.

Run controls may change between the sittings of one run; they are left out of the
comparison (:data:`RUN_CONTROL_ARGUMENTS`): the number of epochs (an ``EpochCounter``'s
``max_epochs``, or ``--epochs``), where outputs go (``save_path``, ``--out-dir``), how
often they are written (``save_freq``), and, not in the file at all,
``--time-budget``, the threads and the verbosity.
"""

import numbers

from pylearn_vae.config.yaml_parse import Proxy

__all__ = ["RUN_CONTROL_ARGUMENTS", "changes", "describe"]

#: ``(class name or None for any class, argument)`` pairs that are run controls.
RUN_CONTROL_ARGUMENTS = frozenset(
    {
        ("pylearn_vae.termination_criteria.EpochCounter", "max_epochs"),
        (None, "save_path"),
        (None, "save_freq"),
    }
)


def _class_name(node):
    target = node.callable
    module = getattr(target, "__module__", None)
    name = getattr(target, "__qualname__", None)
    if module and name:
        return f"{module}.{name}"
    return str(node.name or target)


def describe(node):
    """Plain data (dicts, lists, strings, numbers, None) describing graph ``node``.

    Parameters
    ----------
    node : Proxy, dict, list, tuple or value
        A node of a graph loaded with ``instantiate=False``.

    Returns
    -------
    dict, list, str, int, float, bool or None
    """
    if isinstance(node, Proxy):
        described = {"class": _class_name(node)}
        for n, value in enumerate(node.positionals):
            described[f"argument {n}"] = describe(value)
        for key, value in node.keywords.items():
            described[str(key)] = describe(value)
        return described
    if isinstance(node, dict):
        return {str(key): describe(value) for key, value in node.items()}
    if isinstance(node, (list, tuple)):
        return [describe(value) for value in node]
    if node is None or isinstance(node, (bool, str)):
        return node
    if isinstance(node, numbers.Integral):
        return int(node)
    if isinstance(node, numbers.Real):
        return float(node)
    if isinstance(node, type) or callable(node):
        return f"{getattr(node, '__module__', '')}.{getattr(node, '__qualname__', node)}"
    return f"a {type(node).__name__} object"  # built before the graph (!pkl:)


def changes(old, new, where="the run"):
    """The differences between two :func:`describe` results, run controls left out.

    Parameters
    ----------
    old, new
        The checkpoint's description and the file's.
    where : str
        How the root is named in the lines (``'the run'``).

    Returns
    -------
    list of str
        One line per change, ``'model.nhid: 200 -> 300'``; empty when none.
    """
    found = []
    _compare(old, new, None, None, found)
    return [line.replace("<root>", where) for line in found]


def _compare(old, new, path, cls, found):
    if isinstance(old, dict) and isinstance(new, dict):
        if old.get("class") != new.get("class"):
            found.append(f"{path or '<root>'}: {_short(old)} -> {_short(new)}")
            return
        inner_cls = new.get("class", cls)
        for key in list(old) + [k for k in new if k not in old]:
            if key == "class" or (inner_cls, key) in RUN_CONTROL_ARGUMENTS:
                continue
            if (None, key) in RUN_CONTROL_ARGUMENTS:
                continue
            child = key if path is None else f"{path}.{key}"
            if key not in new:
                found.append(f"{child}: {_short(old[key])} -> (removed)")
            elif key not in old:
                found.append(f"{child}: (not given) -> {_short(new[key])}")
            else:
                _compare(old[key], new[key], child, inner_cls, found)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for n, (a, b) in enumerate(zip(old, new, strict=True)):
            _compare(a, b, f"{path}[{n}]", cls, found)
        return
    if old != new or (type(old) is not type(new) and not _same_number(old, new)):
        found.append(f"{path or '<root>'}: {_short(old)} -> {_short(new)}")


def _same_number(a, b):
    return isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b


def _short(value, limit=60):
    if isinstance(value, dict) and "class" in value:
        text = value["class"].rsplit(".", 1)[-1] + "(...)"
    elif isinstance(value, list):
        text = f"a list of {len(value)}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
