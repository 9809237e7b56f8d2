"""The repository's text points only at what a reader can open, and says one thing once.

Code and docs cite the original by its Pylearn2 source path and the original's quirks by
their anchors in ``docs/quirks.md``; the main job's figures the README quotes are the ones
measured in ``benchmarks/README.md`` and ``docs/results.md``.
"""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXT_EXTENSIONS = (".py", ".yaml", ".yml", ".sh", ".md", ".toml", ".cfg")
SKIPPED_DIRS = {".git", "__pycache__", "build", "dist", ".venv", "venv", ".pytest_cache"}
SKIPPED_DIRS |= {".ruff_cache", "data", "gpu_check_out", ".whl"}

# A private design document the repository does not ship (written so that this file,
# scanned like any other, does not match itself).
UNPUBLISHED = re.compile(r"spec[ ](section|quirk)|PYLEARN2[_]SPEC|\u00a7", re.IGNORECASE)
BARE_QUIRK = re.compile(r"\bquirks?[ ]\d", re.IGNORECASE)
QUIRK_LINK = re.compile(r"quirks\.md#([\w-]+)")
PLACEHOLDER = "quirk-N"  # how the docs describe the scheme
QUIRK_ANCHOR = re.compile(r'<a id="(quirk-(\d+))"></a>(\d+) \|')


def repository_text_files():
    """Relative paths of the repository's source, config and documentation files."""
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
        )
        in_ci = os.path.relpath(dirpath, ROOT).split(os.sep)[0] == ".ci"
        for name in sorted(filenames):
            if in_ci or name.endswith(TEXT_EXTENSIONS):
                yield os.path.relpath(os.path.join(dirpath, name), ROOT)


def read(relpath):
    with open(os.path.join(ROOT, relpath), encoding="utf-8") as f:
        return f.read()


def lines_matching(predicate):
    """``path:line: text`` for every line of every repository file where predicate holds."""
    hits = []
    for relpath in repository_text_files():
        for number, line in enumerate(read(relpath).splitlines(), 1):
            if predicate(line):
                hits.append(f"{relpath}:{number}: {line.strip()}")
    return hits


def test_the_scan_sees_code_tests_docs_and_ci():
    files = set(repository_text_files())
    for expected in ("pylearn_vae/train.py", "tests/test_docs.py", "docs/quirks.md", ".ci/run"):
        assert expected in files
    assert "yaml_examples/vae.yaml" in files and "README.md" in files


def test_nothing_cites_the_unpublished_spec_or_a_bare_quirk_number():
    hits = lines_matching(
        lambda line: (
            UNPUBLISHED.search(line) or (BARE_QUIRK.search(line) and "docs/quirks.md" not in line)
        )
    )
    assert not hits, (
        "These lines cite a document the repository does not have; cite the Pylearn2 source "
        "path (e.g. pylearn2/models/mlp.py) or docs/quirks.md#quirk-N instead:\n" + "\n".join(hits)
    )


def quirk_anchors():
    """The anchors of docs/quirks.md, checked to match the number of their table row."""
    anchors = []
    for anchor, number, row_number in QUIRK_ANCHOR.findall(read("docs/quirks.md")):
        assert number == row_number, f"docs/quirks.md: anchor {anchor} sits on row {row_number}"
        anchors.append(anchor)
    return anchors


def test_every_quirk_has_its_anchor_once():
    anchors = quirk_anchors()
    assert anchors == [f"quirk-{n}" for n in range(1, len(anchors) + 1)]
    stated = re.search(r"Below are (\d+) places", read("docs/quirks.md"))
    assert stated and int(stated.group(1)) == len(anchors), "docs/quirks.md miscounts its rows"


def test_every_quirk_link_names_an_existing_anchor():
    anchors = set(quirk_anchors())
    links = {}
    for relpath in repository_text_files():
        for target in QUIRK_LINK.findall(read(relpath)):
            if target != PLACEHOLDER:
                links.setdefault(target, relpath)
    assert len(links) > 10  # the code does cite the quirks it fixes
    broken = [
        f"{path}: quirks.md#{target}" for target, path in links.items() if target not in anchors
    ]
    assert not broken, "links to anchors docs/quirks.md does not have:\n" + "\n".join(broken)


def readme_table_row(start):
    """The cells of the README's main-job table row whose first cell starts with start."""
    for line in read("README.md").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0].startswith(start):
            return cells
    raise AssertionError(f"README.md's table has no row starting {start!r}")


def results_row(name):
    """docs/results.md's main-job row named ``name`` (its first cell), as text."""
    for line in read("docs/results.md").splitlines():
        if line.startswith(f"| {name} |"):
            return line
    raise AssertionError(f"docs/results.md has no row {name!r}")


def test_readme_main_job_figures_are_the_measured_ones():
    # The README's one table quotes docs/results.md's main-job rows, natively and
    # imitating an AVX2 CPU: the 300 epochs' wall clock and the NLL at k = 5000.
    time_row = readme_table_row("300 epochs")
    nll_row = readme_table_row("test NLL of the best model, k = 5000")
    for column, name in ((1, "main job, this code"), (2, "main job, this code, imitating AVX2")):
        row = results_row(name)
        assert time_row[column] in row, (name, time_row[column])
        measured = re.search(r"k = 5000: (\d+\.\d+)", row).group(1)
        assert nll_row[column] == f"{float(measured):.1f} nats", name


def test_readme_is_short_and_names_no_issue_or_session():
    readme = read("README.md")
    assert len(readme.splitlines()) <= 150
    for relpath in ["README.md", "benchmarks/README.md"] + [
        os.path.join("docs", name) for name in os.listdir(os.path.join(ROOT, "docs"))
    ]:
        if relpath.endswith(".md"):
            text = read(relpath)
            assert not re.search(r"\bsessions?\b|\bissue ?#?[0-9]+", text, re.I), relpath


def test_readme_commands_are_the_ci_commands():
    readme = read("README.md")
    first, second = re.search(r"```bash\n(.*)\n(.*)\n```", readme).groups()
    assert (
        first == "pip install -e '.[test]' && python bin/train.py yaml_examples/vae_mnist10k.yaml"
    )
    assert second == "python -m pytest -q"
    ci = read(".ci/run")
    assert "pip install --quiet --disable-pip-version-check -e '.[test]'" in ci
    assert "python3 -m pytest -q\n" in ci
