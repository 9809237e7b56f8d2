"""Install pylearn-vae: ``pip install -e '.[test]'``."""

import ast
import os
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

# The embedded digits live once in the repository, at data/mnist10k.npz; a built package
# (``pip install .``, a wheel) carries a copy as pylearn_vae/data/mnist10k.npz, where
# pylearn_vae.datasets.mnist10k.default_path looks first.
EMBEDDED_DATA = [os.path.join("data", "mnist10k.npz")]


HERE = os.path.dirname(os.path.abspath(__file__))


def console_scripts():
    """``pylearn-vae-NAME=pylearn_vae.scripts.MODULE:main`` for each script of the registry,
    ``SCRIPTS`` in pylearn_vae/scripts/_commands.py (its file in bin/ -> its module),
    read from the file's text so that nothing of the package, nor its dependencies, is
    imported. NAME is the module's name with dashes, as ``_commands.console_script``
    says."""
    path = os.path.join(HERE, "pylearn_vae", "scripts", "_commands.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [
            "SCRIPTS"
        ]:
            modules = ast.literal_eval(node.value).values()
            return [
                f"pylearn-vae-{module.replace('_', '-')}=pylearn_vae.scripts.{module}:main"
                for module in modules
            ]
    raise RuntimeError(f"{path} has no SCRIPTS = {{...}}: setup.py reads its scripts there")


class BuildWithData(build_py):
    """``build_py`` that also copies the embedded data files into the built package."""

    def run(self):
        super().run()
        if self.dry_run:
            return
        target = os.path.join(self.build_lib, "pylearn_vae", "data")
        os.makedirs(target, exist_ok=True)
        for path in EMBEDDED_DATA:
            shutil.copyfile(path, os.path.join(target, os.path.basename(path)))


setup(
    name="pylearn-vae",
    version="0.1.0",
    description=(
        "Pylearn2's variational autoencoder framework, reimplemented on NumPy and "
        "autograd, with CuPy for the GPU"
    ),
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    python_requires=">=3.10",
    packages=find_packages(include=["pylearn_vae", "pylearn_vae.*"]),
    package_data={"pylearn_vae.scripts": ["demo_page.html"]},
    install_requires=[
        "numpy>=1.23",
        "autograd>=1.6",
        "scipy>=1.9",
        "pyyaml>=6.0",
        # pylearn_vae.threads sets OpenBLAS's threads (training adapts them to the load).
        "threadpoolctl>=3.1",
    ],
    extras_require={
        "test": [
            "pytest>=7",
            "ruff>=0.5",
            "pillow>=9",
            "matplotlib>=3.6",
            "tqdm>=4.60",
            "selenium>=4.10",
            # tests/test_packaging.py builds a wheel with this environment's setuptools and
            # wheel, without build isolation (no download), never the base Python's.
            "setuptools>=61",
            "wheel",
            # tests/test_notebook.py runs docs/tutorial.ipynb; --tensorboard's test.
            "nbclient>=0.7",
            "nbformat>=5",
            "ipykernel>=6",
            "tensorboardX>=2.6",
            "dask[distributed]>=2023.1",
            # tests/test_download_mnist.py downloads through pooch from file:// mirrors.
            "pooch>=1.6",
            # The sweep's local cluster: TLS with temporary credentials.
            "cryptography>=3.4",
            # tests/test_fuzz.py; benchmarks/fuzz.py also uses atheris where it installs.
            "hypothesis>=6",
        ],
        # bin/download_mnist.py downloads (checked, with a progress bar) through pooch;
        # --from DIR installs a copy without it.
        "data": ["pooch>=1.6", "tqdm>=4.60"],
        "viz": ["pillow>=9", "matplotlib>=3.6", "tqdm>=4.60"],
        # The demo page's browser test (tests/test_demo_page.py) drives Debian's
        # chromium + chromium-driver with selenium.
        "demo": ["selenium>=4.10"],
        "gpu": ["cupy>=12"],
        # train.py --tensorboard DIR (pylearn_vae.train_extensions.tensorboard) writes with
        # tensorboardX; `tensorboard --logdir DIR` shows it.
        "tensorboard": ["tensorboardX>=2.6", "tensorboard>=2.10"],
        # Execute docs/tutorial.ipynb: jupyter nbconvert --to notebook --execute, or
        # python -m pylearn_vae.testing.notebook (stores the outputs and their sources' hashes).
        "docs": [
            "nbconvert>=7",
            "nbclient>=0.7",
            "nbformat>=5",
            "ipykernel>=6",
            "pillow>=9",
            "matplotlib>=3.6",
        ],
        "bench": ["torch", "jax", "threadpoolctl"],
        # bin/sweep.py runs its trials on Dask (a LocalCluster, or a running scheduler).
        # Its LocalCluster speaks TLS with temporary credentials (cryptography).
        "sweep": ["dask[distributed]>=2023.1", "cryptography>=3.4"],
        # benchmarks/fuzz.py (atheris only where it installs).
        "fuzz": ["hypothesis>=6", "atheris; python_version < '3.12'"],
    },
    cmdclass={"build_py": BuildWithData},
    entry_points={"console_scripts": console_scripts()},
)
