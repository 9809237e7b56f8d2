"""A sweep file: the template it fills, the values it varies, the trials it makes.

A sweep file is YAML::

    template: ../vae_mnist10k_template.yaml   # relative to the sweep file
    channel: valid_objective    # lowest value picks the best epoch; sorts the table
    nll: 500                    # optional: test NLL with k samples (--nll overrides)
    fixed:                      # one value for every trial
      max_epochs: 30
    grid:                       # every combination of these lists
      learning_rate: [0.01, 0.003]
      criterion:                # a mapping gives each value a label for the table
        vae_k1: "!obj:pylearn_vae.costs.vae.VAECriterion {num_samples: 1}"
        is_k5: "!obj:pylearn_vae.costs.vae.ImportanceSamplingCriterion {num_samples: 5}"
    random:                     # `trials` draws, seeded, each combined with the grid
      trials: 4
      seed: 0
      values:
        decay_factor: uniform(1.0, 1.005)
        init_momentum: log-uniform(1e-2, 0.5)
        nhid: choice([50, 100, 200])
    seeds: [1, 2, 3]            # repeats of every setting, filling ${seed}

The template is a training YAML with ``${NAME}`` (or Pylearn2's ``%(name)s``, with any
``%`` conversion such as ``%(lr).4f``) placeholders. ``${PYLEARN2_...}`` names are left
for ``train.py`` to fill (``${PYLEARN2_TRAIN_FILE_FULL_STEM}`` names each trial's saves
after its folder). Every other placeholder must be defined by the sweep and every value
the sweep defines must fill a placeholder (:mod:`pylearn_vae.sweep.template`; its names
are importable from here too). Each trial's YAML is rendered and parsed (its classes
imported) before anything runs; a problem is a :class:`SweepError` naming the trial, the
placeholder and the value.
"""

import ast
import dataclasses
import itertools
import math
import os
import random
import re

import yaml

from pylearn_vae.config import yaml_parse
from pylearn_vae.sweep.errors import SweepError
from pylearn_vae.sweep.template import TRAIN_PREFIX, format_value, placeholders, render

__all__ = [
    "SEED_NAME",
    "TRAIN_PREFIX",
    "Sweep",
    "SweepError",
    "Trial",
    "format_value",
    "load_sweep",
    "parse_assignment",
    "placeholders",
    "render",
]

#: The placeholder the ``seeds`` list fills.
SEED_NAME = "seed"

_KEYS = ("template", "channel", "nll", "fixed", "grid", "random", "seeds")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DRAW = re.compile(r"^\s*(log-uniform|uniform|choice)\s*\((.*)\)\s*$", re.S)


@dataclasses.dataclass
class Trial:
    """One training run: its number, values (by placeholder) and their table labels."""

    number: int
    values: dict
    labels: dict
    width: int = 3

    @property
    def name(self):
        return f"trial-{self.number:0{self.width}d}"

    def describe(self, names):
        return ", ".join(f"{n}={self.labels[n]}" for n in names)


@dataclasses.dataclass
class Sweep:
    """A loaded sweep file.

    Attributes
    ----------
    path, template_path : str
    template : str
        The template's text.
    channel : str
        The channel whose lowest value picks each trial's best epoch and sorts the table.
    nll : int or None
        Importance samples for the test NLL (None: not computed).
    fixed : dict
        name -> value for every trial.
    grid : dict
        name -> list of (label, value).
    draws : dict
        name -> a random distribution's text (``log-uniform(a, b)``, ...).
    random_trials, random_seed : int
    seeds : list
        Values of ``${seed}`` (empty: no repeats).
    allow_modules : tuple of str
    trusted : bool
        What the template may build besides ``pylearn_vae`` (``--allow-module``,
        ``--trust``; see ``docs/security.md``).
    """

    path: str
    template_path: str
    template: str
    channel: str = "valid_objective"
    nll: int = None
    fixed: dict = dataclasses.field(default_factory=dict)
    grid: dict = dataclasses.field(default_factory=dict)
    draws: dict = dataclasses.field(default_factory=dict)
    random_trials: int = 0
    random_seed: int = 0
    seeds: list = dataclasses.field(default_factory=list)
    allow_modules: tuple = ()
    trusted: bool = False

    @property
    def load_flags(self):
        """``train.py``'s ``--allow-module``/``--trust`` for :attr:`allow_modules`,
        :attr:`trusted` (what the template may build besides ``pylearn_vae``)."""
        flags = [f"--allow-module={module}" for module in self.allow_modules]
        return flags + (["--trust"] if self.trusted else [])

    @property
    def varied(self):
        """The names that differ between trials, in table order (seed last)."""
        names = list(self.grid) + list(self.draws)
        return names + ([SEED_NAME] if self.seeds else [])

    @property
    def defined(self):
        return list(self.fixed) + self.varied

    def trials(self):
        """Every trial: the grid's combinations x the random draws x the seeds."""
        draws = self._random_values()
        axes = [self.grid[name] for name in self.grid]
        seeds = [(_label(s), s) for s in self.seeds] or [None]
        combos = list(itertools.product(itertools.product(*axes), draws, seeds))
        width = max(3, len(str(len(combos) - 1)))
        trials = []
        for number, (point, drawn, seed) in enumerate(combos):
            values, labels = dict(self.fixed), {n: _label(v) for n, v in self.fixed.items()}
            for name, (label, value) in zip(self.grid, point, strict=True):
                values[name], labels[name] = value, label
            for name, value in drawn.items():
                values[name], labels[name] = value, _label(value)
            if seed is not None:
                labels[SEED_NAME], values[SEED_NAME] = seed
            trials.append(Trial(number, values, labels, width))
        return trials

    def _random_values(self):
        if not self.draws:
            return [{}]
        rng = random.Random(self.random_seed)
        parsed = {name: _parse_draw(name, text) for name, text in self.draws.items()}
        return [
            {name: draw(rng) for name, draw in parsed.items()} for _ in range(self.random_trials)
        ]

    def override(self, assignments):
        """Apply ``--set NAME=VALUE`` overrides (a list value becomes a grid axis).

        A value that is the label of a grid value (``--set criterion=vae_k1``) stands for
        that value, in a list too (``--set 'criterion=[vae_k1]'``).

        Parameters
        ----------
        assignments : list of (name, value)
            From :func:`parse_assignment`; ``name`` must be one the sweep defines.
        """
        for name, value in assignments:
            if name not in self.defined:
                raise SweepError(
                    f"--set {name}=...: the sweep defines no {name!r} "
                    f"(it defines {', '.join(self.defined) or 'nothing'})"
                )
            if name == SEED_NAME and self.seeds:
                self.seeds = list(value) if isinstance(value, list) else [value]
                continue
            labels = dict(self.grid.get(name, ()))
            if isinstance(value, list) and labels:
                value = {str(v): labels.get(str(v), v) for v in value}
            elif labels and str(value) in labels:
                value = labels[str(value)]
            target = self.grid if isinstance(value, (list, dict)) else self.fixed
            for other in (self.fixed, self.grid, self.draws):
                if other is not target:
                    other.pop(name, None)
            target[name] = _axis(name, value, "--set") if target is self.grid else value

    def check(self):
        """Refuse undefined placeholders, unused values and values that do not fit.

        Returns
        -------
        list of (Trial, str)
            Every trial and its rendered YAML text, checked to parse.
        """
        found = placeholders(self.template)
        used = {p.name for p in found}
        for p in found:
            if p.name not in self.defined:
                raise SweepError(
                    f"every trial (first: {self._first_name()}): placeholder {p.text} at "
                    f"{self.template_path}:{p.line} is not defined by the sweep {self.path} "
                    f"(it defines {', '.join(self.defined) or 'nothing'}): add it to fixed, "
                    "grid or random"
                )
        for name in self.defined:
            if name not in used:
                raise SweepError(
                    f"{self.path}: {name!r} fills no placeholder of {self.template_path} "
                    f"(its placeholders: {', '.join(sorted(used)) or 'none'}); write "
                    f"${{{name}}} where it belongs or remove it from the sweep"
                )
        trials = self.trials()
        if not trials:
            raise SweepError(f"{self.path}: the sweep makes no trials (random trials: 0?)")
        return [(trial, self.render_trial(trial, found)) for trial in trials]

    def _first_name(self):
        trials = self.trials()
        return trials[0].name if trials else "trial-000"

    def render_trial(self, trial, found=None):
        """The trial's YAML text, refused with the placeholder's name if it does not fit."""
        found = placeholders(self.template) if found is None else found
        lines, origin = [], []
        for number, line in enumerate(self.template.splitlines(keepends=True), start=1):
            try:
                text = render(line, trial.values)
            except SweepError as exc:
                raise SweepError(f"{trial.name} ({self.template_path}:{number}): {exc}") from None
            pieces = text.splitlines(keepends=True) or [text]
            lines.extend(pieces)
            origin.extend([number] * len(pieces))
        text = "".join(lines)
        try:
            yaml_parse.load(
                text, instantiate=False, allow_modules=self.allow_modules, trusted=self.trusted
            )
        except Exception as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = origin[min(mark.line, len(origin) - 1)] if mark is not None else None
            culprits = _near(found, line)
            named = ", ".join(f"{p.text} = {trial.values[p.name]!r}" for p in culprits)
            where = f" at {self.template_path}:{line}" if line else ""
            message = " ".join(str(exc).split())
            raise SweepError(
                f"{trial.name} ({trial.describe(self.varied)}): the value of "
                f"{named or 'a placeholder'}{where} does not fit: the rendered YAML fails "
                f"to load: {message}"
            ) from None
        return text


def _near(found, line):
    """The placeholders on ``line``, else on the closest line above it that has some."""
    if line is None:
        return []
    above = [p for p in found if p.line <= line]
    if not above:
        return []
    closest = max(p.line for p in above)
    return [p for p in above if p.line == closest]


def _label(value):
    """A value as the table shows it: short floats as written, long ones to 4 digits."""
    if isinstance(value, float):
        text = repr(value)
        return text if len(text) <= 8 else f"{value:.4g}"
    return str(value)


def _axis(name, values, where):
    """A grid axis: a list of values, or a mapping label -> value."""
    if isinstance(values, dict):
        axis = [(str(label), value) for label, value in values.items()]
    elif isinstance(values, list):
        axis = [(_label(value), value) for value in values]
    else:
        raise SweepError(
            f"{where}: grid value {name!r} must be a list (or a mapping label: value), "
            f"got {values!r}"
        )
    if not axis:
        raise SweepError(f"{where}: grid value {name!r} is an empty list")
    for _, value in axis:
        if isinstance(value, (dict, list)):
            _refuse(name, value)
    return axis


def _refuse(name, value):
    raise SweepError(
        f"value {value!r} of {name!r} is a {type(value).__name__}: a placeholder takes a "
        "number, a boolean or a string (write YAML text as a quoted string)"
    )


def _parse_draw(name, text):
    """``log-uniform(a, b)`` / ``uniform(a, b)`` / ``choice([...])`` -> ``draw(rng)``."""
    match = _DRAW.match(str(text))
    if match is None:
        raise SweepError(
            f"random value {name!r}: {text!r} is not log-uniform(a, b), uniform(a, b) or "
            "choice([v1, v2, ...])"
        )
    kind, body = match.groups()
    try:
        args = ast.literal_eval(f"({body},)")
    except (SyntaxError, ValueError):
        raise SweepError(f"random value {name!r}: cannot read the arguments of {text!r}") from None
    if kind == "choice":
        if len(args) != 1 or not isinstance(args[0], (list, tuple)) or not args[0]:
            raise SweepError(f"random value {name!r}: choice takes one non-empty list: {text!r}")
        options = list(args[0])
        return lambda rng: rng.choice(options)
    if len(args) != 2 or not all(isinstance(a, (int, float)) for a in args):
        raise SweepError(f"random value {name!r}: {kind} takes two numbers: {text!r}")
    low, high = float(args[0]), float(args[1])
    if not low < high:
        raise SweepError(f"random value {name!r}: {text!r} needs low < high")
    if kind == "uniform":
        return lambda rng: rng.uniform(low, high)
    if low <= 0:
        raise SweepError(f"random value {name!r}: log-uniform needs 0 < low, got {text!r}")
    return lambda rng: math.exp(rng.uniform(math.log(low), math.log(high)))


def parse_assignment(text):
    """``NAME=VALUE`` (VALUE read as YAML: ``0.01``, ``[1, 2]``) -> ``(name, value)``."""
    name, equals, value = text.partition("=")
    name = name.strip()
    if not equals or not _NAME.match(name):
        raise SweepError(f"--set {text!r}: expected NAME=VALUE, e.g. --set max_epochs=30")
    try:
        parsed = yaml_parse.load(value, instantiate=False) if value.strip() else ""
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        raise SweepError(
            f"--set {text!r}: the value is not YAML ({message}); quote YAML text: "
            "--set \"name='!obj:...'\""
        ) from None
    return name, parsed


def load_sweep(path):
    """Read and check the sweep file at ``path`` (not its trials: see :meth:`Sweep.check`)."""
    path = os.fspath(path)
    data = _read_mapping(path)
    template_path = os.path.join(os.path.dirname(path), str(data["template"]))
    if not os.path.isfile(template_path):
        raise SweepError(f"{path}: template {data['template']!r} not found at {template_path}")
    with open(template_path, encoding="utf-8") as f:
        template = f.read()
    sweep = Sweep(path=path, template_path=template_path, template=template)
    sweep.channel = str(data.get("channel", sweep.channel))
    sweep.nll = _positive(path, "nll", data.get("nll"))
    sweep.fixed = _load_fixed(path, data.get("fixed") or {})
    grid = data.get("grid") or {}
    if not isinstance(grid, dict):
        raise SweepError(f"{path}: 'grid' must be a mapping name: [values]")
    sweep.grid = {name: _axis(name, values, path) for name, values in grid.items()}
    _load_random(sweep, data.get("random"))
    seeds = data.get("seeds")
    if seeds is not None:
        sweep.seeds = list(range(seeds)) if isinstance(seeds, int) else seeds
        if not isinstance(sweep.seeds, list) or not sweep.seeds:
            raise SweepError(f"{path}: 'seeds' must be a non-empty list of seeds or a count")
    _check_names(path, list(sweep.fixed) + sweep.varied)
    return sweep


def _read_mapping(path):
    """The sweep file's mapping, with known keys only and a ``template``."""
    if not os.path.isfile(path):
        raise SweepError(f"{path}: no such sweep file")
    try:
        data = yaml_parse.load_path(path, instantiate=False)
    except yaml.YAMLError as exc:
        raise SweepError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise SweepError(f"{path}: a sweep file is a mapping with a 'template' key")
    unknown = [key for key in data if key not in _KEYS]
    if unknown:
        raise SweepError(
            f"{path}: unknown key(s) {', '.join(map(str, unknown))} (known: {', '.join(_KEYS)})"
        )
    if "template" not in data:
        raise SweepError(f"{path}: no 'template' (the training YAML with placeholders)")
    return data


def _load_fixed(path, fixed):
    if not isinstance(fixed, dict):
        raise SweepError(f"{path}: 'fixed' must be a mapping name: value")
    for name, value in fixed.items():
        if isinstance(value, (dict, list)):
            _refuse(name, value)
    return dict(fixed)


def _check_names(path, names):
    """Refuse a name that is no placeholder name or that is defined twice."""
    for name in names:
        if not _NAME.match(str(name)):
            raise SweepError(f"{path}: {name!r} is not a placeholder name (letters, digits, _)")
        if names.count(name) > 1:
            raise SweepError(f"{path}: {name!r} is defined twice (fixed, grid, random or seeds)")


def _load_random(sweep, block):
    if block is None:
        return
    path = sweep.path
    if not isinstance(block, dict) or not isinstance(block.get("values"), dict):
        raise SweepError(f"{path}: 'random' needs 'values' (name: distribution) and 'trials'")
    unknown = set(block) - {"values", "trials", "seed"}
    if unknown:
        raise SweepError(f"{path}: unknown key(s) in 'random': {', '.join(sorted(unknown))}")
    sweep.random_trials = _positive(path, "random trials", block.get("trials"))
    if sweep.random_trials is None:
        raise SweepError(f"{path}: 'random' needs 'trials', the number of draws")
    sweep.random_seed = int(block.get("seed", 0))
    sweep.draws = {name: str(text) for name, text in block["values"].items()}
    for name, text in sweep.draws.items():
        _parse_draw(name, text)


def _positive(path, what, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SweepError(f"{path}: {what} must be a positive integer, got {value!r}")
    return value
