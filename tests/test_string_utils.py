import os

import pytest

from pylearn_vae.utils.string_utils import EnvironmentVariableError, NoDataPathError, preprocess


def test_substitutes_from_environ_before_os_environ(monkeypatch):
    monkeypatch.setenv("PYLVAE_TEST_A", "from-os")
    monkeypatch.setenv("PYLVAE_TEST_B", "b")
    assert preprocess("${PYLVAE_TEST_A}/${PYLVAE_TEST_B}") == "from-os/b"
    assert preprocess("${PYLVAE_TEST_A}/x", {"PYLVAE_TEST_A": "mine"}) == "mine/x"


def test_string_without_variables_is_unchanged():
    assert preprocess("plain {text} $HOME") == "plain {text} $HOME"


def test_missing_data_path_explains_what_to_set(monkeypatch):
    monkeypatch.delenv("PYLEARN2_DATA_PATH", raising=False)
    with pytest.raises(NoDataPathError, match="binarized_mnist/"):
        preprocess("${PYLEARN2_DATA_PATH}/binarized_mnist/train.npy")
    assert issubclass(NoDataPathError, EnvironmentVariableError)
    assert issubclass(EnvironmentVariableError, ValueError)


def test_missing_viewer_command(monkeypatch):
    monkeypatch.delenv("PYLEARN2_VIEWER_COMMAND", raising=False)
    with pytest.raises(EnvironmentVariableError, match="PYLEARN2_VIEWER_COMMAND") as info:
        preprocess("${PYLEARN2_VIEWER_COMMAND} a.png")
    assert not isinstance(info.value, NoDataPathError)


def test_unknown_variable_suggests_the_closest(monkeypatch):
    monkeypatch.setenv("PYLVAE_TEST_VARIABLE", "1")
    with pytest.raises(ValueError) as info:
        preprocess("${PYLVAE_TEST_VARIABEL}")
    assert str(info.value) == (
        'Unrecognized environment variable "PYLVAE_TEST_VARIABEL". '
        "Did you mean PYLVAE_TEST_VARIABLE?"
    )


def test_unclosed_brace_is_an_error():
    with pytest.raises(ValueError, match="not followed by"):
        preprocess("${PYLEARN2_DATA_PATH/mnist", {"PYLEARN2_DATA_PATH": "/d"})


def test_home_is_expanded_quirk_13(monkeypatch):
    monkeypatch.setenv("HOME", "/home/someone")
    assert preprocess("~/data") == "/home/someone/data"
    assert preprocess("${D}/x", {"D": "~"}) == "/home/someone/x"
    assert preprocess("a~b") == "a~b"
    assert os.path.isabs(preprocess("~"))
