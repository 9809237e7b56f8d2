"""docs/contributing.md stays true: every path it cites exists, every dotted name
imports, and every test it names is defined in the file it names."""

import importlib
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAP = os.path.join(REPO, "docs", "contributing.md")


def _spans():
    with open(MAP, encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"`([^`\n]+)`", text)


def _resolve(dotted):
    """The object a dotted name names: the longest importable module prefix, then
    attributes."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:end]))
        except ImportError:
            continue
        for name in parts[end:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(dotted)


def test_every_cited_path_exists():
    paths = [s for s in _spans() if re.fullmatch(r"[\w.-]+(/[\w.-]+)+/?", s)]
    assert len(paths) > 30
    for path in paths:
        if "NAME" in path:
            path = os.path.dirname(path)  # a pattern: the folder must exist
        assert os.path.exists(os.path.join(REPO, path)), path


def test_every_cited_name_imports():
    names = [s for s in _spans() if re.fullmatch(r"pylearn_vae(\.\w+)+", s)]
    assert len(names) > 15
    for name in names:
        _resolve(name)  # raises if the module or the attribute is gone


def test_every_cited_test_is_defined_where_the_map_says():
    with open(MAP, encoding="utf-8") as f:
        text = f.read()
    tests = re.findall(r"`(test_\w+)`", text)
    assert tests
    with open(os.path.join(REPO, "tests", "test_accel.py"), encoding="utf-8") as f:
        accel = f.read()
    for name in tests:
        assert f"def {name}(" in accel, name
    assert re.search(r"^CASES = \{", accel, re.M)


def test_the_methods_and_hooks_it_names_exist():
    from pylearn_vae.train_extensions import TrainExtension
    from pylearn_vae.training_algorithms.learning_rule import LearningRule

    for hook in ("setup", "on_monitor", "on_save"):
        assert callable(getattr(TrainExtension, hook))
    for method in ("get_updates", "get_updates_in_place"):
        assert callable(getattr(LearningRule, method))
    assert hasattr(LearningRule, "_state_params") and hasattr(LearningRule, "_state_dicts")
    from pylearn_vae.accel import cpu, gpu

    assert cpu.IMPLEMENTATIONS and isinstance(gpu.IMPLEMENTATIONS, dict)
