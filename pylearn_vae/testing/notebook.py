"""Execute a notebook and store its outputs with the hash of each code cell's source.

``python -m pylearn_vae.testing.notebook docs/tutorial.ipynb`` runs the notebook from
its folder's parent (the repository root, as Jupyter would with the notebook's own
first cell) and writes it back with its outputs; every code cell gets
``metadata["pylearn_vae"]["source_sha256"]``, the SHA-256 of the source that made its
outputs, so a test can tell when a cell was edited after the outputs were stored
(:func:`stale_cells`). Needs the ``docs`` extra (nbclient, nbformat, ipykernel).
"""

import hashlib
import os
import sys

__all__ = ["execute", "source_hash", "stale_cells"]

KEY = "pylearn_vae"


def source_hash(source):
    """SHA-256 (hex) of a cell's source text."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def execute(path, timeout=1200):
    """Run the notebook at ``path`` top to bottom and write it back with its outputs and
    each code cell's :func:`source_hash`; returns the executed notebook."""
    import nbclient
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    folder = os.path.dirname(os.path.abspath(path))
    client = nbclient.NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": folder}}
    )
    client.execute()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.metadata.setdefault(KEY, {})["source_sha256"] = source_hash(cell.source)
    nbformat.write(notebook, path)
    return notebook


def stale_cells(notebook):
    """Indices of the code cells whose stored outputs did not come from their current
    source (no stored hash, or another one)."""
    stale = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        stored = cell.metadata.get(KEY, {}).get("source_sha256")
        if stored != source_hash(cell.source):
            stale.append(index)
    return stale


if __name__ == "__main__":
    for notebook_path in sys.argv[1:] or ["docs/tutorial.ipynb"]:
        execute(notebook_path)
        print(f"executed {notebook_path}")
