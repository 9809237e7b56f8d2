"""The package's layers point one way and objects keep their privates.

- No library module imports ``pylearn_vae.scripts``: scripts parse arguments and call the
  library, never the other way round.
- No cross-module reach into a private attribute: ``obj._name`` (or ``getattr(obj,
  "_name")``) where ``obj`` is not ``self``/``cls`` and no class or function of the same
  module defines ``_name``, apart from the few listed in :data:`ALLOWED`. The benchmark
  scripts (``benchmarks/``) are held to the same rule: they time the library through its
  public API.
"""

import ast
import pathlib

import pylearn_vae

PACKAGE = pathlib.Path(pylearn_vae.__file__).parent
BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"

# (module, attribute) pairs a module may reach for although it does not define them.
ALLOWED = {
    # autograd's boxes (ArrayBox, its trace and node) have no public accessors.
    ("backend.py", "_value"),
    ("gradients.py", "_value"),
    ("gradients.py", "_node"),
    ("gradients.py", "_trace"),
    ("space/__init__.py", "_value"),
    # The standard library's pure-Python unpickler, whose find_class the safe loader
    # overrides for every global (the C one cannot be hooked that way).
    ("utils/safe_unpickle.py", "_Unpickler"),
    # namedtuple's _replace is public despite its underscore.
    ("scripts/_loading.py", "_replace"),
    # The mark this module puts on the exceptions it annotates (set on foreign objects).
    ("config/yaml_parse.py", "_yaml_context"),
    # Pylearn2's Train marks the dataset it saves with this attribute of the same name.
    ("train_checkpoint.py", "_serialization_guard"),
    # A Conditional's appended output layer (models/vae/conditional.py), used to word an
    # error message about that layer's size.
    ("models/mlp.py", "_default_output_layer"),
    # os._exit is public (the exit of a forked child that must not run its parent's
    # cleanup); the fuzzer's children end with it.
    ("benchmarks/fuzz.py", "_exit"),
}

_ACCESSORS = ("getattr", "setattr", "hasattr", "delattr")


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def _checked_files():
    """``(name, path)`` of every file the private-reach rule holds: the library's modules
    (named relative to the package) and the benchmark scripts (``benchmarks/...``)."""
    files = [(path.relative_to(PACKAGE).as_posix(), path) for path in _modules()]
    files += [(f"benchmarks/{path.name}", path) for path in sorted(BENCHMARKS.glob("*.py"))]
    return files


def _defined(tree):
    """Private names a module defines: functions, classes, ``self``/``cls`` attributes,
    and names bound at module level or in a class body."""
    names = set()
    scopes = [tree] + [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    for scope in scopes:
        for statement in scope.body:
            targets = []
            if isinstance(statement, ast.Assign):
                targets = statement.targets
            elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
                targets = [statement.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                names.add(node.attr)
    return names


def _is_private(name):
    return name.startswith("_") and not name.startswith("__")


def _is_own(node):
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def private_reach(path):
    """``(line, attribute)`` of each cross-module private access in the file ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defined = _defined(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and not _is_own(node.value):
            name = node.attr
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _ACCESSORS
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and not _is_own(node.args[0])
        ):
            name = node.args[1].value
        else:
            continue
        if _is_private(name) and name not in defined:
            found.append((node.lineno, name))
    return found


def test_no_library_module_imports_the_scripts():
    offenders = []
    for path in _modules():
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("scripts/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            if any(n.split(".")[:2] == ["pylearn_vae", "scripts"] for n in names):
                offenders.append(f"{relative}:{node.lineno}")
    assert offenders == []


def test_no_module_reaches_into_another_modules_privates():
    offenders = []
    for relative, path in _checked_files():
        for line, name in private_reach(path):
            if (relative, name) not in ALLOWED:
                offenders.append(f"{relative}:{line}: {name}")
    assert offenders == [], "use (or add) a public method or attribute instead"


def test_the_allowed_list_has_no_stale_entries():
    used = set()
    for relative, path in _checked_files():
        used.update((relative, name) for _, name in private_reach(path))
    assert ALLOWED <= used


def test_the_benchmarks_are_checked():
    names = {name for name, _ in _checked_files()}
    assert {"benchmarks/bench_vae.py", "benchmarks/count_ops.py", "monitor.py"} <= names


def test_the_check_finds_a_reach(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "class A:\n"
        "    def __init__(self):\n"
        "        self._mine = 1\n"
        "    def f(self, other):\n"
        "        return self._mine, other._mine, other._theirs, getattr(other, '_x', 0)\n"
    )
    assert private_reach(module) == [(5, "_theirs"), (5, "_x")]
