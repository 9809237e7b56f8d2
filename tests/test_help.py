"""Every registered script's --help gives defaults and examples, without reStructuredText
markup."""

import importlib
import os
import re

import pytest

from pylearn_vae.scripts import _commands, _parsing

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _module(script):
    return importlib.import_module(f"pylearn_vae.scripts.{_commands.SCRIPTS[script]}")


def _parser(script):
    module = _module(script)
    build = getattr(module, "build_parser", None) or module.make_argument_parser
    return build()


@pytest.mark.parametrize("script", sorted(_commands.SCRIPTS))
def test_help_has_defaults_and_examples(script, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.setattr("sys.argv", [os.path.join("bin", script)])
    monkeypatch.setenv("COLUMNS", "200")  # no long default broken across lines
    parser = _parser(script)
    text = parser.format_help()
    assert "``" not in text and "%(default)" not in text
    examples = _module(script).EXAMPLES
    assert examples, f"give pylearn_vae/scripts/{_commands.SCRIPTS[script]}.py its EXAMPLES"
    assert "\nexamples:\n" in text
    for example in examples:
        assert f"\n  python bin/{script} {example}\n" in text + "\n", example
    flat = " ".join(text.split())
    # argparse keeps a parser's options in _actions; it has no public list of them.
    for action in parser._actions:
        if action.option_strings and action.default not in (None, False, [], "==SUPPRESS=="):
            help_text = action.help or ""
            assert "default" in help_text.lower(), (action.option_strings, "say its default")
            if "%(default)s" in help_text:
                shown = re.escape(str(action.default))
                assert re.search(rf"\(default:? {shown}\)", flat), action.option_strings


def test_descriptions_and_epilogs_wrap_by_paragraph_and_keep_indented_lines():
    text = "A ``long`` first paragraph " * 4 + "\n\nexamples:\n  cmd  --x 1\n  cmd --y"
    assert _parsing.help_paragraphs(text, 40) == (
        "A long first paragraph A long first\n"
        "paragraph A long first paragraph A long\n"
        "first paragraph\n\n"
        "examples:\n  cmd  --x 1\n  cmd --y"
    )


def test_help_wraps_to_the_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "42")
    parser = _parsing.ArgumentParser(
        prog="vae_nll.py", description="word " * 20, examples=["m.pkl -k 5000 --seed 1234"]
    )
    lines = parser.format_help().splitlines()
    description = lines[lines.index("") + 1 : lines.index("") + 4]
    assert description == ["word " * 7 + "word"] * 2 + ["word " * 3 + "word"]
    assert lines[-1].endswith(" m.pkl -k 5000 --seed 1234")  # kept whole, over 40 columns


def test_usage_errors_are_one_line(capsys):
    parser = _parsing.ArgumentParser(prog="vae_nll.py")
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["--bogus"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        "vae_nll.py: error: unrecognized arguments: --bogus (see vae_nll.py --help)\n"
    )
