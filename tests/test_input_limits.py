"""Limits on input: YAML size, alias expansion and nesting, and sizes checked against
memory before anything is allocated or written. Each is refused in one line that names
the limit (or the argument) and the file."""

import os

import pytest

from pylearn_vae.config import yaml_parse
from pylearn_vae.models.mlp import MLP, Linear, RectifiedLinear
from pylearn_vae.scripts import train as train_script
from pylearn_vae.utils import validation
from pylearn_vae.utils.memory import available_memory

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(REPO, "docs", "tutorial_tiny.yaml")
HUGE = 10**12  # needs terabytes on any machine


def _billion_laughs(levels=9):
    """A YAML of ``levels`` lists of 9 aliases of the previous one: 9**levels values."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_naming_the_limit_and_the_file(tmp_path):
    path = tmp_path / "laughs.yaml"
    path.write_text(_billion_laughs())
    assert len(path.read_bytes()) < 3000
    with pytest.raises(yaml_parse.YAMLLimitError) as info:
        yaml_parse.load_path(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message and "alias expansion" in message
    assert f"{yaml_parse.MAX_NODES:,}" in message


def test_aliases_within_the_limit_stay_shared():
    loaded = yaml_parse.load(_billion_laughs(levels=4))
    assert loaded["l3"][0] is loaded["l3"][1] is loaded["l2"]


def test_an_alias_inside_its_own_anchor_is_refused():
    with pytest.raises(yaml_parse.YAMLLimitError, match="recursive structure"):
        yaml_parse.load("a: &a [1, *a]\n")


def test_a_large_yaml_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "large.yaml"
    line = "- " + "x" * 98 + "\n"
    path.write_text("a:\n" + line * (yaml_parse.MAX_BYTES // len(line) + 1))
    with pytest.raises(yaml_parse.YAMLLimitError) as info:
        yaml_parse.load_path(path)
    assert str(path) in str(info.value) and "limit on a YAML file's size" in str(info.value)
    with pytest.raises(yaml_parse.YAMLLimitError):
        yaml_parse.load(path.read_text())


@pytest.mark.parametrize("opening,closing", [("[", "]"), ("{a: ", "}"), ("- ", "")])
def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path, opening, closing):
    depth = 5000 if closing else yaml_parse.MAX_DEPTH + 5
    if closing:
        text = opening * depth + "1" + closing * depth
    else:  # block sequences, one level of indentation each
        text = "".join("  " * n + "- \n" for n in range(depth - 1)) + "  " * depth + "- 1\n"
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    with pytest.raises(yaml_parse.YAMLLimitError) as info:
        yaml_parse.load_path(path)
    assert f"deeper than {yaml_parse.MAX_DEPTH} levels" in str(info.value)
    assert str(path) in str(info.value)


def test_nesting_at_the_limit_loads():
    depth = yaml_parse.MAX_DEPTH - 1
    value = yaml_parse.load("[" * depth + "1" + "]" * depth)
    for _ in range(depth):
        value = value[0]
    assert value == 1


def test_a_validation_message_never_spells_out_a_huge_value(tmp_path):
    # Within the expansion limit, but the repr of dim would be 50 KB.
    anchors = "\n".join("  " + line for line in _billion_laughs(levels=5).splitlines())
    path = tmp_path / "huge_value.yaml"
    path.write_text(
        f"- \n{anchors}\n"
        "- !obj:pylearn_vae.models.mlp.Linear {layer_name: h, irange: 0.1, dim: *l3}\n"
    )
    with pytest.raises(ValueError) as info:
        yaml_parse.load_path(path)
    message = str(info.value)
    assert "dim must be a positive integer" in message and str(path) in message
    assert len(message) < 400


def test_short_repr_is_short_and_fast_on_a_shared_structure():
    value = ["lol"] * 9
    for _ in range(12):  # 9**13 values if walked
        value = [value] * 9
    text = validation.short_repr(value)
    assert len(text) <= 160 and text.startswith("[[")


def test_check_fits_in_memory_names_the_argument_and_both_sizes():
    with pytest.raises(ValueError) as info:
        validation.check_fits_in_memory(
            "VAE", "nhid (7)", 3 << 30, "its weights", available=1 << 30
        )
    assert str(info.value) == (
        "VAE: its weights would need 3.0 GiB, more than the 1.0 GiB of memory available: "
        "make nhid (7) smaller"
    )
    validation.check_fits_in_memory("VAE", "nhid", 1 << 20, "its weights", available=1 << 30)


def test_available_memory_is_positive_here():
    available = available_memory()
    assert available is None or available > 0


def test_a_huge_layer_is_refused_before_its_weights_are_drawn():
    with pytest.raises(ValueError) as info:
        MLP(nvis=10**6, layers=[RectifiedLinear(layer_name="h", dim=10**7, irange=0.1)])
    message = str(info.value)
    assert message.startswith("RectifiedLinear 'h': drawing its 1000000 x 10000000 weight")
    assert "make nvis (1000000) or dim (10000000) smaller" in message
    with pytest.raises(ValueError, match=r"Linear 'o': its bias .* make dim \(10+\) smaller"):
        Linear(layer_name="o", dim=HUGE, irange=0.1)


def _tiny(tmp_path, old, new):
    with open(TINY, encoding="utf-8") as f:
        text = f.read()
    assert old in text
    path = tmp_path / "job.yaml"
    path.write_text(text.replace(old, new))
    return path


def test_a_huge_nhid_is_refused_naming_nhid(tmp_path):
    path = _tiny(tmp_path, "nhid: 5,", f"nhid: {HUGE},")
    with pytest.raises(ValueError) as info:
        yaml_parse.load_path(path)
    assert str(path) in str(info.value) and f"nhid ({HUGE})" in str(info.value)


def test_a_decoder_too_wide_for_its_nhid_names_nhid(tmp_path, monkeypatch):
    # With 1 MiB available, nhid=5000 fits its biases but not the first decoder layer.
    monkeypatch.setattr("pylearn_vae.utils.memory.available_memory", lambda: 1 << 20)
    path = _tiny(tmp_path, "nhid: 5,", "nhid: 5000,")
    with pytest.raises(ValueError, match=r"'h_d_1'.* make nhid \(5000\) or dim \(20\)"):
        yaml_parse.load_path(path)
    path = _tiny(tmp_path, "'h_d_1', dim: 20", "'h_d_1', dim: 3000")
    with pytest.raises(ValueError, match=r"'mu'.* the dim of 'h_d_1' \(3000\) or nvis \(784\)"):
        yaml_parse.load_path(path)


@pytest.mark.parametrize("argument", ["batch_size", "monitoring_batch_size"])
def test_a_huge_batch_is_refused_before_anything_is_written(tmp_path, capsys, argument):
    text = "batch_size: 50,"
    new = f"batch_size: {HUGE}," if argument == "batch_size" else (
        f"batch_size: 50, monitoring_batch_size: {HUGE},"
    )
    path = _tiny(tmp_path, text, new)
    status = train_script.main([str(path)])
    err = capsys.readouterr().err.strip()
    assert status == 2  # a bad value, found when training is set up: nothing written
    assert "\n" not in err
    assert f"{argument} ({HUGE})" in err and str(path) in err
    assert sorted(os.listdir(tmp_path)) == ["job.yaml"]


def test_a_huge_yaml_given_to_train_py_exits_2_in_one_line(tmp_path, capsys):
    path = tmp_path / "laughs.yaml"
    path.write_text(_billion_laughs())
    assert train_script.main([str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "limit on alias expansion" in err and str(path) in err


def test_an_idx_gzip_bomb_and_a_wrapping_shape_are_refused(tmp_path, monkeypatch):
    import gzip
    import struct

    from pylearn_vae.datasets import idx

    bomb = tmp_path / "bomb-idx3-ubyte.gz"
    with gzip.open(bomb, "wb") as f:
        f.write(b"\x00\x00\x08\x01" + struct.pack(">I", 3 << 20) + bytes(3 << 20))
    monkeypatch.setattr(idx, "available_memory", lambda: 4 << 20)  # 2 MiB may be unpacked
    with pytest.raises(ValueError, match="unpacks to more than"):
        idx.read_idx(str(bomb))
    monkeypatch.undo()
    assert idx.read_idx(str(bomb)).shape == (3 << 20,)
    # Dimensions whose product wraps around in int64 to the file's length are refused.
    wrap = tmp_path / "wrap-idx3-ubyte"
    wrap.write_bytes(b"\x00\x00\x08\x04" + struct.pack(">4I", 65536, 65536, 65536, 65536))
    with pytest.raises(ValueError, match="needs"):
        idx.read_idx(str(wrap))
