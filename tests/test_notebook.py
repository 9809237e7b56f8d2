"""docs/tutorial.ipynb runs from top to bottom (with the tiny configuration)."""

import os

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(REPO, "docs", "tutorial.ipynb")


def test_the_parameters_cell_names_the_main_job():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    assert 'CONFIG = "yaml_examples/vae_mnist10k.yaml"' in cell.source
    assert 'MODEL = "yaml_examples/vae_mnist10k_best.pkl"' in cell.source  # the README's
    assert os.path.isfile(os.path.join(REPO, "yaml_examples", "vae_mnist10k.yaml"))


@pytest.mark.slow
def test_notebook_executes(tmp_path, monkeypatch):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = (
        'CONFIG = "docs/tutorial_tiny.yaml"\nEPOCHS = 1\nOUT_DIR = "runs/notebook"\nMODEL = None'
    )
    for name in ("yaml_examples", "docs"):
        os.symlink(os.path.join(REPO, name), tmp_path / name)
    # The kernel imports this checkout and draws inline, as in Jupyter.
    monkeypatch.setenv("PYTHONPATH", REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    text = "".join(output.get("text", "") for output in outputs)
    assert "epoch 1/1 " in text and "Done in " in text
    assert "runs/notebook/tutorial_tiny_best.pkl holds a VAE" in text and "NLL (k=20)" in text
    assert (tmp_path / "runs" / "notebook" / "tutorial_tiny.monitor.csv").is_file()
    pictures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pictures) == 3  # samples, reconstructions, curves


def test_the_stored_outputs_came_from_the_current_cells():
    # docs/tutorial.ipynb is committed with its outputs (a reader browsing the repository
    # sees the pictures); `python -m pylearn_vae.testing.notebook docs/tutorial.ipynb`
    # stores them with each code cell's source hash. Edit a cell: re-run that command.
    from pylearn_vae.testing.notebook import source_hash, stale_cells

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    stale = stale_cells(notebook)
    assert not stale, (
        f"code cells {stale} of docs/tutorial.ipynb changed after their outputs were stored: "
        "run python -m pylearn_vae.testing.notebook docs/tutorial.ipynb"
    )
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs for cell in code[2:])  # every cell after the setup shows something
    pictures = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(pictures) == 3  # samples, reconstructions, curves
    edited = code[-1].source + "\n"
    assert source_hash(edited) != code[-1].metadata["pylearn_vae"]["source_sha256"]
