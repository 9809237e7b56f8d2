import textwrap

import numpy as np
import pytest
import yaml
from yaml.constructor import ConstructorError
from yaml_helpers import Counted, Frozen, Holder, Point

from pylearn_vae.config import yaml_parse
from pylearn_vae.config.yaml_parse import Proxy, load, load_path
from pylearn_vae.space import VectorSpace
from pylearn_vae.utils import serial


def _write(tmp_path, text, name="vae.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return str(path)


@pytest.mark.parametrize(
    "text, value", [("1e-2", 0.01), ("-3E+4", -30000.0), ("2.5e3", 2500.0), (".5e1", 5.0)]
)
def test_scientific_notation_is_a_float(text, value):
    loaded = load(f"x: {text}")["x"]
    assert isinstance(loaded, float) and loaded == value


def test_other_scalars_keep_their_yaml_types():
    loaded = load("a: 3\nb: 0.5\nc: e10\nd: '1e-2'\ne: !float '7'\nf: true")
    assert loaded == {"a": 3, "b": 0.5, "c": "e10", "d": "1e-2", "e": 7.0, "f": True}
    assert isinstance(loaded["a"], int) and isinstance(loaded["e"], float)


def test_obj_builds_with_keywords_and_records_yaml_src():
    point = load("!obj:yaml_helpers.Point {x: 1, y: [2, 3]}")
    assert isinstance(point, Point) and (point.x, point.y) == (1, [2, 3])
    again = load(point.yaml_src)
    assert (again.x, again.y) == (1, [2, 3])


def test_yaml_src_is_unsubstituted():
    point = load("!obj:yaml_helpers.Point {x: '${PYLVAE_X}'}", environ={"PYLVAE_X": "5"})
    assert point.x == "5"
    assert "${PYLVAE_X}" in point.yaml_src


def test_pylearn2_paths_map_to_pylearn_vae():
    space = load("!obj:pylearn2.space.VectorSpace {dim: 3}")
    assert type(space) is VectorSpace and space.dim == 3
    assert load("!import pylearn2.space.VectorSpace") is VectorSpace


def test_import_tags_give_the_object_itself():
    loaded = load("a: !import:numpy.float32\nb: !import 'numpy.random.RandomState'")
    assert loaded == {"a": np.float32, "b": np.random.RandomState}


def test_nested_objects_and_containers():
    holder = load(
        """
        !obj:yaml_helpers.Holder
        child: !obj:yaml_helpers.Point {x: 1}
        items: [!obj:yaml_helpers.Point {x: 2}, {k: !obj:yaml_helpers.Point {x: 3}}]
        """
    )
    assert isinstance(holder, Holder) and holder.child.x == 1
    assert holder.items[0].x == 2 and holder.items[1]["k"].x == 3


def test_aliases_share_one_instance():
    Counted.count = 0
    loaded = load("a: &shared !obj:yaml_helpers.Counted {tag: s}\nb: *shared\nc: [*shared]")
    assert loaded["a"] is loaded["b"] is loaded["c"][0]
    assert Counted.count == 1


def test_equal_nodes_without_alias_are_distinct():
    loaded = load("a: !obj:yaml_helpers.Point {x: 1}\nb: !obj:yaml_helpers.Point {x: 1}")
    assert loaded["a"] is not loaded["b"]


def test_environ_applies_to_every_string_quirk_14(monkeypatch):
    monkeypatch.setenv("PYLVAE_OUT", "from-os")
    loaded = load(
        "a: '${PYLVAE_OUT}/m.pkl'\nb: !obj:yaml_helpers.Point {x: '${PYLVAE_OUT}'}",
        environ={"PYLVAE_OUT": "/mine"},
    )
    assert loaded["a"] == "/mine/m.pkl" and loaded["b"].x == "/mine"
    assert load("a: '${PYLVAE_OUT}'") == {"a": "from-os"}


def test_pkl_tag_loads_and_is_not_rebuilt(tmp_path):
    serial.save(str(tmp_path / "p.pkl"), Point(4, 5))
    holder = load(
        "!obj:yaml_helpers.Holder {child: !pkl: '${PYLVAE_DIR}/p.pkl'}",
        environ={"PYLVAE_DIR": str(tmp_path)},
    )
    assert (holder.child.x, holder.child.y) == (4, 5)
    assert holder.child.yaml_src == f'!pkl: "{tmp_path / "p.pkl"}"'


def test_instantiate_false_returns_the_proxy_graph():
    graph = load(
        "!obj:yaml_helpers.Holder {child: !obj:yaml_helpers.Point {x: 1}}", instantiate=False
    )
    assert isinstance(graph, Proxy) and graph.callable is Holder
    assert isinstance(graph.keywords["child"], Proxy) and graph.positionals == ()
    assert {graph: 1}[graph] == 1 and graph != Proxy(*graph)
    built = yaml_parse.instantiate(graph)
    assert isinstance(built, Holder) and built.child.x == 1


def test_objects_refusing_yaml_src_still_load():
    assert load("!obj:yaml_helpers.Frozen {x: 1}").x == 1
    assert isinstance(load("!obj:yaml_helpers.Frozen {x: 1}"), Frozen)


def test_python_tags_cannot_run_code():
    with pytest.raises(ConstructorError):
        load("!!python/object/apply:os.system ['echo hacked']")
    with pytest.raises(ConstructorError):
        load("!!python/name:os.system ''")


# Errors ------------------------------------------------------------------------------------

VAE_YAML = """
# a comment
top: !obj:yaml_helpers.Holder
  child: !obj:yaml_helpers.Point
    x: 1
    yy: 2
"""


def test_wrong_keyword_names_file_line_class_and_suggestion(tmp_path):
    path = _write(tmp_path, VAE_YAML)
    with pytest.raises(TypeError) as info:
        load_path(path)
    assert str(info.value) == (
        f"{path}, line 5: yaml_helpers.Point does not support the following keywords: yy. "
        "Did you mean y?"
    )


def test_wrong_keyword_without_close_match_lists_the_valid_ones():
    with pytest.raises(TypeError) as info:
        load("!obj:yaml_helpers.Point {x: 1, z: 2, w: 3}")
    assert str(info.value) == (
        "line 1: yaml_helpers.Point does not support the following keywords: z, w. "
        "Valid keywords: x, y."
    )


def test_missing_arguments_are_listed(tmp_path):
    path = _write(tmp_path, "a: 1\nb: !obj:yaml_helpers.Holder {items: []}\n")
    with pytest.raises(TypeError) as info:
        load_path(path)
    assert str(info.value) == (
        f"{path}, line 2: yaml_helpers.Holder did not get these expected arguments: child"
    )


def test_wrong_keyword_of_a_mapped_class():
    with pytest.raises(TypeError, match=r"line 1: pylearn_vae\.space\.VectorSpace .*dimm\. Did"):
        load("!obj:pylearn2.space.VectorSpace {dimm: 3}")


def test_type_error_from_inside_the_constructor_is_not_misdiagnosed():
    with pytest.raises(TypeError) as info:
        load("a: 0\nb: !obj:yaml_helpers.BrokenInside {x: 1}")
    assert str(info.value) == "line 2: broken inside the constructor"


def test_constructor_errors_keep_their_type_with_location(tmp_path):
    path = _write(
        tmp_path,
        "a: !obj:yaml_helpers.Holder\n  child: !obj:yaml_helpers.Positive\n    value: -1\n",
    )
    with pytest.raises(ValueError) as info:
        load_path(path)
    assert type(info.value) is ValueError
    assert str(info.value) == f"{path}, line 2: value must be positive, got -1"


def test_missing_variable_names_the_line(tmp_path):
    path = _write(tmp_path, "a: !obj:yaml_helpers.Point\n  x: 1\n  y: '${PYLVAE_UNSET_VAR}'\n")
    with pytest.raises(ValueError, match=rf"^{path}, line 3: Unrecognized environment variable"):
        load_path(path)


def test_unknown_attribute_suggests_the_closest():
    with pytest.raises(AttributeError) as info:
        load("a: 1\nb: !obj:yaml_helpers.Pointt {x: 1}")
    message = str(info.value)
    assert message.startswith("line 2: Could not evaluate yaml_helpers.Pointt.")
    assert "Did you mean yaml_helpers.Point?" in message


def test_unknown_module_suggests_the_closest():
    with pytest.raises(AttributeError, match="Did you mean pylearn_vae.space?"):
        load("!obj:pylearn2.spaec.VectorSpace {dim: 1}")
    with pytest.raises(
        ImportError, match=r"line 1: .*no module yaml_helperz\. Did you mean yaml_helpers\?"
    ):
        load("!obj:yaml_helperz.Point {x: 1}")


def test_module_failing_to_import_is_reported(tmp_path, monkeypatch):
    (tmp_path / "pylvae_broken_mod.py").write_text("import pylvae_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ImportError, match="Could not import pylvae_broken_mod; ImportError was"):
        load("!obj:pylvae_broken_mod.Thing {}", allow_modules=["pylvae_broken_mod"])


def test_obj_needs_a_mapping():
    with pytest.raises(ConstructorError, match="needs a mapping"):
        load("!obj:yaml_helpers.Point [1, 2]")


def test_duplicate_keys_are_rejected():
    with pytest.raises(ConstructorError) as info:
        load("!obj:yaml_helpers.Point {x: 1, x: 2}")
    assert str(info.value).endswith("found duplicate key (x)")
    with pytest.raises(ConstructorError, match="duplicate key"):
        load("a: 1\na: 2")


def test_merge_keys_are_not_duplicates():
    loaded = load("base: &b {x: 1, y: 2}\np: !obj:yaml_helpers.Point {<<: *b, y: 3}")
    assert (loaded["p"].x, loaded["p"].y) == (1, 3)


def test_non_string_keyword_is_a_type_error():
    with pytest.raises(TypeError, match=r"Received non string object \(1\) as key in mapping\."):
        load("!obj:yaml_helpers.Point {1: 2}")


def test_import_without_dot_is_a_yaml_error():
    with pytest.raises(yaml.YAMLError, match="dotted path"):
        load("!import 'numpy'")


def test_pkl_glued_to_the_path_asks_for_a_space():
    with pytest.raises(AssertionError, match="put a space"):
        load("!pkl:model.pkl ''")


def test_bad_float_names_the_line():
    with pytest.raises(ValueError, match="line 2: !float needs a number"):
        load("a: 1\nb: !float 'abc'")


def test_pkl_of_a_missing_file_names_the_file_and_line(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"line 1: Cannot load .*absent\.pkl"):
        load(f"!pkl: '{tmp_path}/absent.pkl'")


def test_several_wrong_keywords_get_one_suggestion_each():
    with pytest.raises(TypeError, match=r"Did you mean dim \(for dimm\), dtype \(for dtyp\)\?"):
        load("!obj:pylearn2.space.VectorSpace {dimm: 3, dtyp: float32}")


def test_open_file_stream_is_named_in_errors(tmp_path):
    path = _write(tmp_path, VAE_YAML)
    with open(path) as f, pytest.raises(TypeError, match=rf"^{path}, line 5: "):
        load(f)
