"""Paired A/B of two source trees: the main job's training step and NLL call, and a
monitoring round.

Each run is a fresh interpreter importing ``pylearn_vae`` from one tree (``PYTHONPATH``);
runs alternate between the trees (A B B A A B ...), and the table gives each tree's
median over the runs and the median of the pairwise ratios B / A. Within a run: the
main job's ``Train`` (``yaml_examples/vae_mnist10k.yaml``), set up; the median of blocks
of 10 training steps (``SGD.sgd_update`` on a fixed batch of 200); the median of NLL
calls (``VAE.log_likelihood_approximation`` of 10 digits with k = 1000); the median
of monitoring rounds (``Monitor.__call__``, train and valid sets). Only API both trees
have is used.

::

    python benchmarks/ab.py --a /tmp/parent --b . --runs 5 --threads 1 --isa avx2
    python benchmarks/ab.py --a . --b . --b-env PYLEARN_VAE_REFERENCE=1   # reference ops
    python benchmarks/ab.py --a . --b . --b-env AB_REFERENCE_OPS=softplus,affine

``AB_REFERENCE_OPS`` (a tree with ``pylearn_vae.ops``) runs the named ops on their
reference formulas, the rest accelerated: what each accelerated op is worth.

``--a`` and ``--b`` are source trees (a ``git worktree add /tmp/parent HEAD~1`` makes
the parent's). ``--isa avx2`` imitates a CPU without AVX-512 as ``bench_vae.py`` does
(see ``benchmarks/README.md``).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_vae import isa_environment  # noqa: E402

PROBE = r"""
import json, os, sys, tempfile, time
import numpy
from pylearn_vae import backend
from pylearn_vae.config import yaml_parse
steps, nll_calls, rounds = (int(v) for v in sys.argv[1:4])
for name in filter(None, os.environ.get("AB_REFERENCE_OPS", "").split(",")):
    from pylearn_vae import ops  # this tree has the registry: run op `name` as its formula
    ops.register(name, "cpu", None)
stem = os.path.join(tempfile.mkdtemp(), "ab")
train = yaml_parse.load_path("yaml_examples/vae_mnist10k.yaml",
                             environ={"PYLEARN2_TRAIN_FILE_FULL_STEM": stem})
train.setup()
algorithm, model = train.algorithm, train.model
X = backend.asarray(train.dataset.X[:200])
# Trees before the rename call the step _sgd_update.
update = getattr(algorithm, "sgd_update", None) or algorithm._sgd_update
for _ in range(5):
    update(X, 1)
blocks = []
for _ in range(steps // 10):
    start = time.perf_counter()
    for _ in range(10):
        update(X, 1)
    blocks.append((time.perf_counter() - start) / 10)
test = backend.asarray(train.dataset.X[-10:])
model.log_likelihood_approximation(test, 1000)
calls = []
for _ in range(nll_calls):
    start = time.perf_counter()
    backend.to_host(model.log_likelihood_approximation(test, 1000))
    calls.append(time.perf_counter() - start)
monitor = model.monitor
monitor()
monitoring = []
for _ in range(rounds):
    start = time.perf_counter()
    monitor()
    monitoring.append(time.perf_counter() - start)
med = lambda v: sorted(v)[len(v) // 2]
print(json.dumps({"step": med(blocks), "nll": med(calls), "monitor": med(monitoring)}))
"""


def run_once(tree, env, args):
    """One fresh interpreter on ``tree``: ``{"step": s, "nll": s, "monitor": s}``."""
    env = dict(env, PYTHONPATH=os.path.abspath(tree))
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(args.steps), str(args.nll_calls), str(args.rounds)],
        cwd=os.path.abspath(tree),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"the probe failed in {tree}:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def parse_env(pairs):
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--a-env/--b-env take NAME=VALUE, got {pair!r}")
        env[name] = value
    return env


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", required=True, help="source tree A (the baseline)")
    parser.add_argument("--b", required=True, help="source tree B")
    parser.add_argument("--a-env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--b-env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--runs", type=int, default=5, help="runs of each tree (default 5)")
    parser.add_argument("--threads", type=int, default=1, help="PYLEARN_VAE_THREADS")
    parser.add_argument("--isa", choices=("native", "avx2"), default="native")
    parser.add_argument("--steps", type=int, default=100, help="steps per run (default 100)")
    parser.add_argument("--nll-calls", type=int, default=5, help="NLL calls per run")
    parser.add_argument("--rounds", type=int, default=3, help="monitoring rounds per run")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)

    base = isa_environment(args.isa, os.environ, args.threads)
    base["PYLEARN_VAE_THREADS"] = str(args.threads)
    envs = {"A": dict(base, **parse_env(args.a_env)), "B": dict(base, **parse_env(args.b_env))}
    trees = {"A": args.a, "B": args.b}
    results = {"A": [], "B": []}
    for i in range(args.runs):
        order = ("A", "B") if i % 2 == 0 else ("B", "A")
        for who in order:
            results[who].append(run_once(trees[who], envs[who], args))
        last = {w: results[w][-1] for w in "AB"}
        print(
            f"run {i + 1}/{args.runs}: "
            + ", ".join(
                f"{w} step {1e3 * r['step']:.2f} ms nll {1e3 * r['nll']:.1f} ms"
                for w, r in last.items()
            ),
            flush=True,
        )

    print(f"\n{args.isa}, {args.threads} thread(s), {args.runs} alternating runs of each tree")
    print(f"A: {args.a} {' '.join(args.a_env)}\nB: {args.b} {' '.join(args.b_env)}\n")
    print("| measure | A (median) | B (median) | B / A (median of pairs) |")
    print("| --- | --- | --- | --- |")
    summary = {}
    for key, unit, scale in (("step", "ms", 1e3), ("nll", "ms", 1e3), ("monitor", "ms", 1e3)):
        a = [r[key] for r in results["A"]]
        b = [r[key] for r in results["B"]]
        ratio = statistics.median(y / x for x, y in zip(a, b, strict=True))
        summary[key] = {"a": statistics.median(a), "b": statistics.median(b), "ratio": ratio}
        print(
            f"| {key} | {scale * statistics.median(a):.2f} {unit} | "
            f"{scale * statistics.median(b):.2f} {unit} | {ratio:.3f} |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "runs": results, "summary": summary}, f, indent=1)


if __name__ == "__main__":
    main()
