"""Every script's --help gives defaults and examples, without reStructuredText markup."""

import importlib
import os

import pytest

from pylearn_vae.scripts import _cli

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPTS = {
    "demo": "vae_demo.py",
    "download_mnist": "download_mnist.py",
    "interpolate": "vae_interpolate.py",
    "latent_report": "vae_latent_report.py",
    "latent_scatter": "vae_latent_scatter.py",
    "manifold": "vae_manifold.py",
    "nll": "vae_nll.py",
    "plot_monitor": "plot_monitor.py",
    "print_monitor": "print_monitor.py",
    "reconstruct": "vae_reconstruct.py",
    "samples": "vae_samples.py",
    "show_weights": "show_weights.py",
    "summarize_model": "summarize_model.py",
    "train": "train.py",
}


def _parser(module_name):
    module = importlib.import_module(f"pylearn_vae.scripts.{module_name}")
    build = getattr(module, "build_parser", None) or module.make_argument_parser
    return build()


@pytest.mark.parametrize("module_name", sorted(SCRIPTS))
def test_help_has_defaults_and_examples(module_name, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.setattr("sys.argv", [os.path.join("bin", SCRIPTS[module_name])])
    parser = _parser(module_name)
    text = parser.format_help()
    assert "``" not in text
    assert f"examples:\n  python bin/{SCRIPTS[module_name]} " in text
    for action in parser._actions:
        if action.option_strings and action.default not in (None, False, [], "==SUPPRESS=="):
            shown = str(action.default)
            help_text = action.help or ""
            assert "default" in help_text.lower() or f"(default: {shown})" in text, (
                action.option_strings,
                shown,
            )


def test_download_script_help_has_no_backticks(capsys):
    from pylearn_vae.scripts import download_binarized_mnist

    with pytest.raises(SystemExit):
        download_binarized_mnist.main(["--help"])
    text = capsys.readouterr().out
    assert "save it as .npy files" in text and "``" not in text


def test_every_example_names_an_existing_script():
    import os

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for prog in _cli.EXAMPLES:
        assert os.path.isfile(os.path.join(repo, "bin", prog)), prog
