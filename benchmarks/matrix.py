"""The benchmark on both machine classes at 1 and 2 threads, as one table (issue 13).

Command line (from the repository root)::

    python benchmarks/matrix.py [--out DIR] [bench_vae.py options ...]
    python benchmarks/bench_vae.py --matrix [bench_vae.py options ...]

Runs ``benchmarks/bench_vae.py --isa ISA --threads T --json DIR/ISA-T.json --no-memory``
for each of :data:`CONFIGS`, one after the other, each in its own process (their output
goes to this one's), then prints one markdown table of every row: machine class,
threads, what, ours, each peer, the ratios to PyTorch eager and to the fastest peer, the
fraction of the matmul limit, the targets and whether they are met. The main-job rows do
not depend on ``--threads`` (each framework keeps its default threads there), so they are
measured once per machine class, in its 2-thread run.

Unless given, ``--repeats 15`` (step) and ``--nll-repeats 3`` are passed on.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from benchmarks.tables import ROW_HEADER, markdown, row_cells  # noqa: E402

BENCH = ROOT / "benchmarks" / "bench_vae.py"
CONFIGS = (("native", 1), ("native", 2), ("avx2", 1), ("avx2", 2))
DEFAULTS = {"--repeats": "15", "--nll-repeats": "3"}
# Options the matrix sets itself for each run.
RESERVED = ("--isa", "--threads", "--json", "--matrix", "--device", "--profile")


def bench_command(isa, threads, json_path, passed):
    """The ``bench_vae.py`` command of one configuration."""
    command = [sys.executable, str(BENCH), "--isa", isa, "--threads", str(threads)]
    command += ["--json", str(json_path), "--no-memory"]
    if threads != max(t for _, t in CONFIGS):
        command.append("--no-main-job")
    given = {a.split("=", 1)[0] for a in passed}
    for option, value in DEFAULTS.items():
        if option not in given and "--quick" not in given:
            command += [option, value]
    return command + list(passed)


def combine(results):
    """One markdown table of the rows of every configuration's JSON result.

    Parameters
    ----------
    results : list of dict
        What ``bench_vae.py --json`` writes: ``isa``, ``threads`` and ``rows`` (each as
        :func:`bench_vae.make_row` returns it).
    """
    table = []
    for result in results:
        for row in result["rows"]:
            threads = row.get("threads") or result["threads"]
            table.append([result["isa"], str(threads), *row_cells(row)])
    return markdown(["machine class", "threads", *ROW_HEADER], table)


def check_passed(passed):
    """Stop on an option the matrix sets itself."""
    for arg in passed:
        if arg.split("=", 1)[0] in RESERVED:
            raise SystemExit(
                f"matrix.py: {arg} is set by the matrix for each configuration; leave it out "
                f"(it runs {', '.join(f'{i} x {t} thread(s)' for i, t in CONFIGS)})"
            )


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="matrix.py",
        description="bench_vae.py on {native, avx2} x {1, 2 threads}, as one table; other "
        "options are passed on to bench_vae.py",
    )
    parser.add_argument("--out", help="directory for the JSON results (default: temporary)")
    args, passed = parser.parse_known_args(argv)
    check_passed(passed)
    with tempfile.TemporaryDirectory(prefix="bench_matrix_") as tmp:
        out = Path(args.out or tmp)
        out.mkdir(parents=True, exist_ok=True)
        results = []
        for isa, threads in CONFIGS:
            path = out / f"{isa}-{threads}.json"
            command = bench_command(isa, threads, path, passed)
            print(f"\n## {isa}, {threads} thread(s): {' '.join(command[1:])}", flush=True)
            code = subprocess.call(command, cwd=ROOT)
            if code:
                raise SystemExit(f"matrix.py: {' '.join(command)} exited with {code}")
            results.append(json.loads(path.read_text(encoding="utf-8")))
    print()
    for result in results:
        print(f"{result['isa']}, {result['threads']} thread(s): {'; '.join(result['machine'])}")
        for name, calls in result["first_calls"].items():
            shown = ", ".join(f"{what} {s:.1f} s" for what, s in calls.items())
            print(f"  {name}: first call (compilation included): {shown}")
    print()
    print(combine(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
