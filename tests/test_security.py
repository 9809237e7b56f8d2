"""Opening a file runs no code its author chose, unless the user allows it (docs/security.md).

Each payload below would create a marker file ``pwned`` if it ran (the tests under
"the payloads are live" run some of them trusted and see the marker appear), or hands
out a callable that would (``!import os.system``, ``__builtins__``). Each test proves
that the marker was not created and that the one-line error names what was refused and
how to allow it. Then: allowing a module (``--allow-module``, ``$PYLEARN_VAE_ALLOW_MODULES``,
``allow_modules=``) or trusting a file (``--trust``, ``trusted=True``) makes the
legitimate case work, and every shipped YAML and a trained model load by default.
"""

import os
import pathlib
import pickle
import subprocess
import sys

import numpy
import pytest

from pylearn_vae.config import yaml_parse
from pylearn_vae.models.vae import VAE
from pylearn_vae.scripts import (
    _cli,
    latent_report,
    nll,
    plot_monitor,
    print_monitor,
    reconstruct,
    samples,
    show_weights,
    summarize_model,
)
from pylearn_vae.scripts import train as train_script
from pylearn_vae.utils import serial
from pylearn_vae.utils.safe_load import ENV_VAR, UnsafeFileError

REPO = pathlib.Path(__file__).resolve().parent.parent
SHIPPED_YAMLS = sorted((REPO / "yaml_examples").glob("*.yaml")) + [
    REPO / "docs/tutorial_tiny.yaml"
]
USER_MODULE = "pylvae_user_prior"  # harmless: a user's own prior, written to a temp folder
EVIL_MODULE = "pylvae_evil_import"  # creates the marker when imported

# A tiny VAE on 10-dimensional random data; {prior} is filled in, {extensions} may be.
TRAIN_YAML = """\
!obj:pylearn_vae.train.Train {{
    dataset: &train !obj:pylearn_vae.testing.datasets.random_dense_design_matrix {{
        rng: !obj:pylearn_vae.utils.rng.make_np_rng {{default_seed: 1}},
        num_examples: 20, dim: 10, num_classes: 0,
    }},
    model: {model},
    algorithm: !obj:pylearn_vae.training_algorithms.sgd.SGD {{
        batch_size: 10, learning_rate: 1.0e-3,
        monitoring_dataset: {{'train': *train}},
        cost: !obj:pylearn_vae.costs.vae.VAECriterion {{num_samples: 1}},
        termination_criterion: !obj:pylearn_vae.termination_criteria.EpochCounter {{
            max_epochs: 1}},
    }},
    extensions: [{extensions}],
    save_path: "{save_path}",
    save_freq: 1,
}}
"""
VAE_YAML = """!obj:pylearn_vae.models.vae.VAE {{
        nvis: 10, nhid: 2, prior: {prior},
        conditional: !obj:pylearn_vae.models.vae.conditional.BernoulliVector {{
            name: 'conditional', mlp: !obj:pylearn_vae.models.mlp.MLP {{layers: [
                !obj:pylearn_vae.models.mlp.Linear {{layer_name: 'h_d', dim: 4, irange: .01}}]}}}},
        posterior: !obj:pylearn_vae.models.vae.conditional.DiagonalGaussian {{
            name: 'posterior', mlp: !obj:pylearn_vae.models.mlp.MLP {{layers: [
                !obj:pylearn_vae.models.mlp.RectifiedLinear {{
                    layer_name: 'h_e', dim: 4, irange: .01}}]}}}},
    }}"""
DEFAULT_PRIOR = "!obj:pylearn_vae.models.vae.prior.DiagonalGaussianPrior {}"
DATASET_YAML = (
    "!obj:pylearn_vae.testing.datasets.random_dense_design_matrix {rng: "
    "!obj:pylearn_vae.utils.rng.make_np_rng {default_seed: 2}, num_examples: 8, dim: 10, "
    "num_classes: 0}"
)

USER_MODULE_SOURCE = '''\
"""A user's own prior and the KL integrator for it (registered by subclassing)."""
from pylearn_vae import ops
from pylearn_vae.models.vae.conditional import DiagonalGaussian
from pylearn_vae.models.vae.kl import KLIntegrator
from pylearn_vae.models.vae.prior import DiagonalGaussianPrior

import os  # so that pylvae_user_prior.os.system exists: allowing this module must not allow it

BUILT = []


class WidePrior(DiagonalGaussianPrior):
    """A diagonal Gaussian prior under another name."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        BUILT.append(self)


class WideKL(KLIntegrator):
    prior_class = WidePrior
    posterior_class = DiagonalGaussian

    def per_component_kl_divergence(self, phi, theta, prior, posterior):
        (mu_q, log_sigma_q), (mu_p, log_sigma_p) = phi, theta
        return ops.diagonal_gaussian_kl(mu_q, log_sigma_q, mu_p, log_sigma_p)

    def kl_divergence(self, phi, theta, prior, posterior):
        return ops.sum(self.per_component_kl_divergence(phi, theta, prior, posterior), axis=1)
'''


@pytest.fixture(autouse=True)
def _no_allowed_modules(monkeypatch):
    """Only what each test allows: not the helper modules tests/conftest.py allows."""
    monkeypatch.delenv(ENV_VAR, raising=False)


@pytest.fixture(scope="module")
def modules_dir(tmp_path_factory):
    """A folder on sys.path with the harmless user module and the evil-on-import one."""
    folder = tmp_path_factory.mktemp("modules")
    marker = folder / "pwned"
    (folder / f"{USER_MODULE}.py").write_text(USER_MODULE_SOURCE)
    (folder / f"{EVIL_MODULE}.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))
    for name in (USER_MODULE, EVIL_MODULE):
        sys.modules.pop(name, None)


@pytest.fixture
def marker(tmp_path, modules_dir):
    """The file a payload would create; the module-wide one is checked too."""
    module_marker = modules_dir / "pwned"
    path = tmp_path / "pwned"
    yield path
    assert not module_marker.exists(), "importing the evil module ran its code"


def _train(tmp_path, name, prior=DEFAULT_PRIOR, extensions="", options=()):
    """Train the tiny VAE with train.py (in-process); the saved model's path."""
    save_path = tmp_path / f"{name}.pkl"
    config = tmp_path / f"{name}.yaml"
    model = VAE_YAML.format(prior=prior)
    text = TRAIN_YAML.format(model=model, extensions=extensions, save_path=save_path)
    config.write_text(text)
    assert train_script.main([*options, str(config)]) == 0
    return save_path


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A tiny VAE trained and saved by this package."""
    return str(_train(tmp_path_factory.mktemp("plain"), "plain"))


@pytest.fixture(scope="module")
def user_model_path(tmp_path_factory, modules_dir):
    """A tiny VAE whose prior is the user's WidePrior (trained with --allow-module)."""
    folder = tmp_path_factory.mktemp("user")
    prior = f"!obj:{USER_MODULE}.WidePrior {{}}"
    return str(_train(folder, "user", prior=prior, options=["--allow-module", USER_MODULE]))


def _command(marker):
    return f"touch {marker}"


def _reduce_pickle(module, name, *args):
    """A protocol-4 pickle that calls ``module.name(*args)`` (dotted names walk)."""

    def short(text):
        data = text.encode()
        return b"\x8c" + bytes([len(data)]) + data  # SHORT_BINUNICODE

    arguments = pickle.dumps(args, protocol=2)[2:-1]  # the tuple's opcodes, no PROTO/STOP
    return b"\x80\x04" + short(module) + short(name) + b"\x93" + arguments + b"R."


class _Reduce:
    """Pickles as ``function(*args)``: what a malicious model file holds."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def _pickle_payloads(marker, tmp_path):
    """name -> bytes of a pickle that would create ``marker`` when unpickled."""
    exec_source = f"open({str(marker)!r}, 'w').close()"
    evil_yaml = tmp_path / "evil_train.yaml"
    evil_yaml.write_text(f"!obj:os.system {{command: '{_command(marker)}'}}\n")
    return {
        "os.system": pickle.dumps(_Reduce(os.system, _command(marker))),
        "subprocess.call": pickle.dumps(_Reduce(subprocess.call, ["touch", str(marker)])),
        "subprocess.Popen": pickle.dumps(_Reduce(subprocess.Popen, ["touch", str(marker)])),
        "builtins.exec": pickle.dumps(_Reduce(exec, exec_source)),
        "builtins.eval": pickle.dumps(_Reduce(eval, f"exec({exec_source!r})")),
        # walking from a module of this package to what it imports
        "pylearn_vae.utils.serial.os.system": _reduce_pickle(
            "pylearn_vae.utils.serial", "os.system", _command(marker)
        ),
        "pylearn_vae.train.os.system": _reduce_pickle(
            "pylearn_vae.train", "os.system", _command(marker)
        ),
        # a function of this package that would run another file trusted
        "pylearn_vae.scripts.train.main": _reduce_pickle(
            "pylearn_vae.scripts.train", "main", ["--trust", str(evil_yaml)]
        ),
    }


PICKLE_PAYLOADS = [
    ("os.system", f"{os.system.__module__}.system"),
    ("subprocess.call", "subprocess.call"),
    ("subprocess.Popen", "subprocess.Popen"),
    ("builtins.exec", "builtins.exec"),
    ("builtins.eval", "builtins.eval"),
    ("pylearn_vae.utils.serial.os.system", "pylearn_vae.utils.serial.os.system"),
    ("pylearn_vae.train.os.system", "pylearn_vae.train.os.system"),
    ("pylearn_vae.scripts.train.main", "pylearn_vae.scripts.train.main"),
]


def _yaml_payloads(marker, tmp_path):
    """name -> YAML text that would create ``marker`` (or hand out what would)."""
    command = _command(marker)
    evil_pkl = tmp_path / "evil.pkl"
    evil_pkl.write_bytes(pickle.dumps(_Reduce(os.system, command)))
    evil_npy = tmp_path / "evil.npy"
    numpy.save(evil_npy, numpy.array([_Reduce(os.system, command)], dtype=object))
    stmt = f"import os; os.system('{command}')"
    return {
        "os.system": f"!obj:os.system {{command: '{command}'}}",
        "subprocess.call": f"!obj:subprocess.call {{args: [touch, '{marker}']}}",
        "subprocess.Popen": f"!obj:subprocess.Popen {{args: [touch, '{marker}']}}",
        "subprocess.run": f"!obj:subprocess.run {{args: [touch, '{marker}']}}",
        "timeit.timeit": f'!obj:timeit.timeit {{stmt: "{stmt}", number: 1}}',
        "builtins.eval": f'!obj:builtins.eval {{source: "{stmt}"}}',
        "builtins.exec": f'!obj:builtins.exec {{source: "{stmt}"}}',
        "builtins.open": f"!obj:builtins.open {{file: '{marker}', mode: w}}",
        "open": f"!obj:open {{file: '{marker}', mode: w}}",
        "__import__": f"!obj:__import__ {{name: {EVIL_MODULE}}}",
        "pickle.loads": "!obj:pickle.loads {data: !!binary " + _b64(evil_pkl) + "}",
        "importlib.import_module": f"!obj:importlib.import_module {{name: {EVIL_MODULE}}}",
        f"{EVIL_MODULE}.anything": f"!obj:{EVIL_MODULE}.anything {{}}",  # refused unimported
        "os.system ": "callback: !import os.system",
        "os.system  ": "callback: !import:os.system",
        # walking through a module of this package to what it imported
        "pylearn_vae.utils.serial.os.system": (
            f"!obj:pylearn_vae.utils.serial.os.system {{command: '{command}'}}"
        ),
        "pylearn_vae.utils.serial.os.system ": (  # the pylearn2. spelling maps there
            f"!obj:pylearn2.utils.serial.os.system {{command: '{command}'}}"
        ),
        "pylearn_vae.backend.numpy.load": (
            f"!obj:pylearn_vae.backend.numpy.load {{file: '{evil_npy}', allow_pickle: true}}"
        ),
        "pylearn_vae.backend.__builtins__": "f: !import pylearn_vae.backend.__builtins__",
        "pylearn_vae.models.vae.VAE.__init__.__globals__": (
            "f: !import pylearn_vae.models.vae.VAE.__init__.__globals__"
        ),
        # functions of this package that load other files with their own trust flag
        "pylearn_vae.utils.serial.load": (
            f"!obj:pylearn_vae.utils.serial.load {{filepath: '{evil_pkl}', trusted: true}}"
        ),
        "pylearn_vae.utils.images.require": (  # imports any module by name
            f"!obj:pylearn_vae.utils.images.require {{module_name: {EVIL_MODULE}, purpose: x}}"
        ),
        "pylearn_vae.config.yaml_parse.load": (
            "!obj:pylearn_vae.config.yaml_parse.load "
            f"{{stream: \"!obj:os.system {{command: '{command}'}}\", trusted: true}}"
        ),
    }


def _b64(path):
    import base64

    return base64.b64encode(path.read_bytes()).decode()


YAML_PAYLOADS = [
    "os.system",
    "subprocess.call",
    "subprocess.Popen",
    "subprocess.run",
    "timeit.timeit",
    "builtins.eval",
    "builtins.exec",
    "builtins.open",
    "open",
    "__import__",
    "pickle.loads",
    "importlib.import_module",
    f"{EVIL_MODULE}.anything",
    "os.system ",
    "os.system  ",
    "pylearn_vae.utils.serial.os.system",
    "pylearn_vae.utils.serial.os.system ",
    "pylearn_vae.backend.numpy.load",
    "pylearn_vae.backend.__builtins__",
    "pylearn_vae.models.vae.VAE.__init__.__globals__",
    "pylearn_vae.utils.serial.load",
    "pylearn_vae.utils.images.require",
    "pylearn_vae.config.yaml_parse.load",
]


def _assert_refusal(message, name, where):
    """One line naming the file/line, the refused callable and how to allow or trust."""
    assert "\n" not in message.strip(), message
    assert where in message, message
    assert f"refused to build {name}" in message or f"refused to load global {name}" in message
    assert "--allow-module" in message or "--trust" in message, message
    assert "docs/security.md" in message


# -- YAML ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", YAML_PAYLOADS)
def test_yaml_payload_is_refused_and_runs_nothing(name, marker, tmp_path):
    text = _yaml_payloads(marker, tmp_path)[name]
    path = tmp_path / "payload.yaml"
    path.write_text("# a harmless-looking comment\n" + text + "\n")
    with pytest.raises(UnsafeFileError) as info:
        yaml_parse.load_path(str(path))
    _assert_refusal(str(info.value), name.strip(), f"{path}, line 2: ")
    assert not marker.exists()


def test_refusal_says_how_to_allow_the_module(tmp_path):
    with pytest.raises(UnsafeFileError) as info:
        yaml_parse.load("!obj:os.system {command: 'true'}")
    message = str(info.value)
    assert message.startswith("line 1: refused to build os.system (os is not part of pylearn_vae)")
    assert "--allow-module os" in message and f"{ENV_VAR}=os" in message
    assert "allow_modules=['os']" in message


def test_a_payload_hidden_in_a_valid_train_builds_nothing(marker, tmp_path):
    from pylvae_user_prior import BUILT  # on sys.path through the modules_dir fixture

    BUILT.clear()
    payload = f"!obj:os.system {{command: '{_command(marker)}'}}"
    prior = f"!obj:{USER_MODULE}.WidePrior {{}}"  # built before the extensions, if at all
    text = TRAIN_YAML.format(
        model=VAE_YAML.format(prior=prior), extensions=payload, save_path=tmp_path / "m.pkl"
    )
    path = tmp_path / "train.yaml"
    path.write_text(text)
    with pytest.raises(UnsafeFileError, match="refused to build os.system"):
        yaml_parse.load_path(str(path), allow_modules=[USER_MODULE])
    assert BUILT == [] and not marker.exists()
    assert not (tmp_path / "m.pkl").exists()


def test_train_py_refuses_a_payload_with_one_line(marker, tmp_path, capsys):
    path = tmp_path / "job.yaml"
    path.write_text(f"!obj:subprocess.call {{args: [touch, '{marker}']}}\n")
    assert train_script.main([str(path)]) == 2  # a refused configuration is an input error
    err = capsys.readouterr().err
    assert f"{path}, line 1: refused to build subprocess.call" in err
    assert "--allow-module subprocess" in err and not marker.exists()


def test_pkl_tag_loads_its_file_safely(marker, tmp_path, capsys):
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps(_Reduce(os.system, _command(marker))))
    text = TRAIN_YAML.format(model=f"!pkl: '{evil}'", extensions="", save_path=tmp_path / "m.pkl")
    path = tmp_path / "job.yaml"
    path.write_text(text)
    assert train_script.main([str(path)]) == 2  # a refused configuration is an input error
    err = capsys.readouterr().err
    assert f"{evil}: refused to load global {os.system.__module__}.system" in err
    assert f"{path}, line " in err and "--trust" in err and not marker.exists()


# -- pickles and .npy -----------------------------------------------------------------------------


@pytest.mark.parametrize("name, shown", PICKLE_PAYLOADS)
def test_pickle_payload_is_refused_and_runs_nothing(name, shown, marker, tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(_pickle_payloads(marker, tmp_path)[name])
    with pytest.raises(UnsafeFileError) as info:
        serial.load(str(path))
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: refused to load global ")
    assert shown in message and "--trust" in message and "docs/security.md" in message
    assert not marker.exists()


def test_python2_names_are_renamed_before_they_are_checked(marker, tmp_path):
    path = tmp_path / "old.pkl"
    path.write_bytes(b"c__builtin__\nset\n((lp0\nI1\naI2\natp1\nRp2\n.")
    assert serial.load(str(path)) == {1, 2}
    exec_source = f"open({str(marker)!r}, 'w').close()"
    path.write_bytes(b"c__builtin__\nexec\n(S" + repr(exec_source).encode() + b"\ntR.")
    with pytest.raises(UnsafeFileError, match="refused to load global builtins.exec"):
        serial.load(str(path))
    assert not marker.exists()
    serial.load(str(path), trusted=True)  # the payload is live
    assert marker.exists()
    marker.unlink()


def test_a_builtin_is_allowed_by_allowing_the_module_that_defines_it(marker):
    text = f"a: !obj:open {{file: '{marker}', mode: w}}"
    with pytest.raises(UnsafeFileError, match=r"open \(it is defined in io\).*allow-module io"):
        yaml_parse.load(text, allow_modules=["builtins"])
    yaml_parse.load(text, allow_modules=["io"])["a"].close()
    assert marker.exists()
    marker.unlink()
    with pytest.raises(UnsafeFileError, match=r"--allow-module builtins"):
        yaml_parse.load("!obj:eval {}")
    assert yaml_parse.load("a: !import builtins.eval", allow_modules=["builtins"])["a"] is eval


def test_npy_of_pickled_objects_is_refused(marker, tmp_path):
    path = tmp_path / "data.npy"
    numpy.save(path, numpy.array([_Reduce(os.system, _command(marker))], dtype=object))
    with pytest.raises(UnsafeFileError, match="refused to load an array of pickled Python"):
        serial.load(str(path))
    assert not marker.exists()
    numpy.save(path, numpy.arange(3.0))
    assert serial.load(str(path)).tolist() == [0.0, 1.0, 2.0]  # plain arrays load


EVAL_SCRIPTS = [
    (nll.main, []),
    (samples.main, ["-o", "s.png"]),
    (reconstruct.main, ["-o", "r.png"]),
    (latent_report.main, []),
    (show_weights.main, ["-o", "w.png"]),
    (summarize_model.main, []),
    (print_monitor.main, []),
    (plot_monitor.main, ["-o", "c.png"]),
]


def _script_error(capsys, main, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    message = str(info.value.code) + capsys.readouterr().err
    assert info.value.code not in (0, None) and "Traceback" not in message
    return message


@pytest.mark.parametrize("main, extra", EVAL_SCRIPTS)
def test_every_evaluation_script_refuses_a_malicious_model(
    main, extra, marker, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "model.pkl"
    path.write_bytes(_pickle_payloads(marker, tmp_path)["subprocess.call"])
    message = _script_error(capsys, main, [str(path), *extra])
    assert f"{path}: refused to load global subprocess.call" in message
    assert "--trust" in message and "--allow-module subprocess" in message
    assert "\n" not in message.strip() and not marker.exists()


@pytest.mark.parametrize("main", [nll.main, reconstruct.main, latent_report.main])
def test_dataset_option_text_is_checked(main, model_path, marker, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = f"!obj:os.system {{command: '{_command(marker)}'}}"
    message = _script_error(capsys, main, [model_path, "--dataset", text])
    assert "--dataset, line 1: refused to build os.system" in message
    assert "--allow-module os" in message and not marker.exists()


def test_dataset_option_file_is_checked(model_path, marker, tmp_path, capsys):
    path = tmp_path / "data.yaml"
    path.write_text(f"!obj:timeit.timeit {{stmt: \"open('{marker}', 'w')\"}}\n")
    message = _script_error(capsys, nll.main, [model_path, "--dataset", str(path)])
    assert f"{path}, line 1: refused to build timeit.timeit" in message and not marker.exists()


# -- the payloads are live: trusting the file runs them -------------------------------------------


def test_trusted_yaml_runs_what_it_names(marker, tmp_path):
    yaml_parse.load(_yaml_payloads(marker, tmp_path)["subprocess.call"], trusted=True)
    assert marker.exists()


def test_trusted_pickle_runs_what_it_holds(marker, tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(_pickle_payloads(marker, tmp_path)["builtins.exec"])
    serial.load(str(path), trusted=True)
    assert marker.exists()


def test_trust_option_reaches_the_pickle_loader(tmp_path, capsys):
    import fractions

    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(fractions.Fraction(1, 3)))  # harmless, but not allowed
    refused = _script_error(capsys, summarize_model.main, [str(path)])
    assert "refused to load global fractions.Fraction" in refused
    trusted = _script_error(capsys, summarize_model.main, [str(path), "--trust"])
    assert "holds a Fraction, not a model" in trusted  # loaded, then judged
    assert serial.load(str(path), trusted=True) == fractions.Fraction(1, 3)
    with pytest.raises(_cli.CliError, match="refused"):  # --trust ended with that command
        _cli.load_model(str(path))


def test_pkl_tag_passes_allowed_modules_and_trust_on(user_model_path, marker, tmp_path):
    text = f"model: !pkl: '{user_model_path}'"
    with pytest.raises(UnsafeFileError, match=f"global {USER_MODULE}.WidePrior"):
        yaml_parse.load(text)
    model = yaml_parse.load(text, allow_modules=[USER_MODULE])["model"]
    assert type(model.prior).__module__ == USER_MODULE
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(_pickle_payloads(marker, tmp_path)["builtins.exec"])
    yaml_parse.load(f"model: !pkl: '{evil}'", trusted=True)
    assert marker.exists()
    marker.unlink()


# -- what loads by default, and what allowing a module allows -------------------------------------


@pytest.mark.parametrize("path", SHIPPED_YAMLS, ids=lambda p: p.name)
def test_every_shipped_yaml_loads_by_default(path):
    graph = yaml_parse.load_path(str(path), instantiate=False)
    assert isinstance(graph, yaml_parse.Proxy) and graph.name == "pylearn_vae.train.Train"


def test_a_trained_model_loads_by_default(model_path, capsys):
    model = serial.load(model_path)
    assert isinstance(model, VAE) and model.monitor.get_epochs_seen() == 1
    assert summarize_model.main([model_path]) == 0
    assert nll.main([model_path, "--dataset", DATASET_YAML, "-k", "2"]) == 0
    assert "dataset: DenseDesignMatrix" in capsys.readouterr().out


def test_numpy_data_generators_and_paths_load_by_default(tmp_path):
    path = str(tmp_path / "data.pkl")
    data = {
        "arrays": [numpy.arange(6.0).reshape(2, 3).T, numpy.float32(2.5), numpy.dtype("i2")],
        "generators": [numpy.random.default_rng(0), numpy.random.RandomState(1)],
        "paths": [pathlib.Path("data/mnist10k.npz"), pathlib.PurePosixPath("/a/b")],
    }
    for protocol in (0, 2, pickle.HIGHEST_PROTOCOL):
        with open(path, "wb") as f:
            pickle.dump(data, f, protocol=protocol)
        loaded = serial.load(path)
        assert (loaded["arrays"][0] == data["arrays"][0]).all()
        assert loaded["arrays"][1:] == data["arrays"][1:]
        assert loaded["generators"][0].random() == numpy.random.default_rng(0).random()
        assert loaded["generators"][1].rand() == numpy.random.RandomState(1).rand()
        assert loaded["paths"] == data["paths"]


def test_a_user_module_needs_allowing(user_model_path, capsys, monkeypatch):
    with pytest.raises(UnsafeFileError) as info:
        serial.load(user_model_path)
    message = str(info.value)
    assert f"refused to load global {USER_MODULE}.WidePrior" in message
    assert f"--allow-module {USER_MODULE}" in message and f"{ENV_VAR}={USER_MODULE}" in message
    refused = _script_error(capsys, summarize_model.main, [user_model_path])
    assert f"--allow-module {USER_MODULE}" in refused


def test_allow_modules_keyword(user_model_path):
    model = serial.load(user_model_path, allow_modules=[USER_MODULE])
    assert (
        type(model.prior).__name__ == "WidePrior" and type(model.prior).__module__ == USER_MODULE
    )


def test_allow_module_option_on_the_evaluation_scripts(user_model_path, tmp_path, capsys):
    allow = ["--allow-module", USER_MODULE]
    assert summarize_model.main([user_model_path, *allow]) == 0
    assert print_monitor.main([user_model_path, *allow]) == 0
    argv = [user_model_path, "--dataset", DATASET_YAML, "-k", "2", *allow]
    assert nll.main(argv) == 0
    assert "gap -ELBO - NLL" in capsys.readouterr().out


def test_allow_modules_environment_variable(user_model_path, monkeypatch, capsys):
    monkeypatch.setenv(ENV_VAR, f"some_other_module, {USER_MODULE}")
    assert isinstance(serial.load(user_model_path), VAE)
    assert summarize_model.main([user_model_path]) == 0


def test_allowed_module_in_yaml_keyword_env_and_train_option(modules_dir, tmp_path, monkeypatch):
    text = f"prior: !obj:{USER_MODULE}.WidePrior {{}}"
    with pytest.raises(UnsafeFileError, match=f"--allow-module {USER_MODULE}"):
        yaml_parse.load(text)
    assert type(yaml_parse.load(text, allow_modules=USER_MODULE)["prior"]).__name__ == "WidePrior"
    monkeypatch.setenv(ENV_VAR, USER_MODULE)
    assert type(yaml_parse.load(text)["prior"]).__name__ == "WidePrior"
    monkeypatch.delenv(ENV_VAR)
    # train.py --allow-module: the user_model_path fixture trains that way; again here
    prior = f"!obj:{USER_MODULE}.WidePrior {{}}"
    saved = _train(tmp_path, "again", prior=prior, options=["--allow-module", USER_MODULE])
    args = train_script.make_argument_parser().parse_args(["--trust", "x.yaml"])
    assert args.trust and args.allow_modules == []
    assert type(serial.load(str(saved), allow_modules=[USER_MODULE]).prior).__name__ == "WidePrior"


def test_allowing_a_module_does_not_allow_what_it_imports(modules_dir, marker, tmp_path):
    text = f"!obj:{USER_MODULE}.os.system {{command: '{_command(marker)}'}}"
    with pytest.raises(UnsafeFileError, match=f"{USER_MODULE}.os is the module os"):
        yaml_parse.load(text, allow_modules=[USER_MODULE])
    path = tmp_path / "walk.pkl"
    path.write_bytes(_reduce_pickle(USER_MODULE, "os.system", _command(marker)))
    with pytest.raises(UnsafeFileError, match=f"global {USER_MODULE}.os.system .it is a function"):
        serial.load(str(path), allow_modules=[USER_MODULE])
    assert not marker.exists()


def test_bad_allow_module_names_are_refused():
    with pytest.raises(ValueError, match="not a dotted module name"):
        yaml_parse.load("a: 1", allow_modules=["os; rm"])


def test_safe_numpy_and_builtins_still_load():
    loaded = yaml_parse.load(
        "a: !obj:numpy.random.RandomState {seed: 0}\nb: !import:numpy.float32\n"
        "c: !obj:dict {x: 1}\nd: !obj:builtins.list {}\ne: !float '1e-3'\n"
        "f: !obj:numpy.dtype {dtype: float32}"
    )
    assert isinstance(loaded["a"], numpy.random.RandomState) and loaded["b"] is numpy.float32
    assert loaded["c"] == {"x": 1} and loaded["d"] == [] and loaded["e"] == 1e-3
    assert loaded["f"] == numpy.float32


def test_numpy_functions_other_than_the_registered_ones_are_refused():
    for name in ("numpy.load", "numpy.fromfile", "numpy.lib._npyio_impl.os.system"):
        with pytest.raises(UnsafeFileError, match=f"refused to build {name}"):
            yaml_parse.load(f"!obj:{name} {{file: x}}")


def test_a_typo_in_a_module_name_is_still_a_typo():
    with pytest.raises(ImportError, match="no module pylearn_vea. Did you mean pylearn_vae"):
        yaml_parse.load("!obj:pylearn_vea.models.mlp.MLP {}")


@pytest.mark.parametrize("script", ["train.py", "vae_nll.py", "summarize_model.py"])
def test_bin_scripts_have_the_options(script):
    out = subprocess.run(
        [sys.executable, str(REPO / "bin" / script), "--help"], capture_output=True, text=True
    )
    assert "--allow-module MODULE" in out.stdout and "--trust" in out.stdout
    assert "docs/security.md" in out.stdout


@pytest.mark.parametrize(
    "name",
    [
        # starts Chromium and writes files wherever it is told
        "pylearn_vae.testing.browser.screenshot_demo",
        # starts a training process on whatever folder it is given
        "pylearn_vae.sweep.trial.run_trial",
    ],
)
def test_modules_that_start_processes_are_never_reachable_from_a_file(name, tmp_path):
    path = tmp_path / "payload.yaml"
    path.write_text(f"!obj:{name} {{path: '{tmp_path}/x'}}\n")
    with pytest.raises(UnsafeFileError) as info:
        yaml_parse.load_path(str(path))
    _assert_refusal(str(info.value), name, f"{path}, line 1: ")
    assert not (tmp_path / "x").exists()


# Run in a fresh interpreter: every name below is refused, and the only modules it may
# have imported are the listed ones of this package (imported first, with what they
# import). Importing numpy.f2py.__main__ runs
# f2py's command line (it parses sys.argv and evaluates expressions from the files it
# is given); numpy.testing and numpy.ctypeslib are NumPy submodules not on the list.
_UNLISTED_IMPORT_PROBE = """
import pickle, sys
from pylearn_vae.config import yaml_parse
from pylearn_vae.utils import serial, safe_load
from pylearn_vae.utils.safe_load import UnsafeFileError

import importlib
for listed in sorted(safe_load.package_modules()):  # with what they import themselves
    importlib.import_module(listed)
before = set(sys.modules)
yaml_paths = [
    "numpy.f2py.__main__.main", "numpy.f2py.f2py2e.main", "numpy.testing.assert_equal",
    "numpy.ctypeslib.load_library", "numpy.f2py", "pylearn_vae.models.mlp.numpy.f2py.main",
    "pylearn_vae.backend.numpy.testing.assert_equal", "pylearn2.models.mlp.numpy.f2py",
    "builtins.exec", "numpy.random._pickle.os", "numpy.lib._npyio_impl.os.system",
]
for path in yaml_paths:
    for tag in ("!obj:", "!import:"):
        try:
            yaml_parse.load(tag + path + (" {}" if tag == "!obj:" else ""))
        except UnsafeFileError:
            continue
        raise SystemExit("not refused: " + tag + path)
for module, name in [("numpy.f2py.__main__", "main"), ("numpy.testing", "assert_equal"),
                     ("pylearn_vae.models.mlp.numpy", "f2py"), ("numpy.f2py", "main")]:
    data = (b"\\x80\\x04\\x8c" + bytes([len(module)]) + module.encode() + b"\\x8c"
            + bytes([len(name)]) + name.encode() + b"\\x93.")
    with open(sys.argv[1], "wb") as f:
        f.write(data)
    try:
        serial.load(sys.argv[1])
    except UnsafeFileError:
        continue
    raise SystemExit("not refused: pickle global " + module + "." + name)
new = sorted(set(sys.modules) - before)
print("unlisted imports:", new)
raise SystemExit(1 if new else 0)
"""


def test_names_off_the_list_are_refused_before_anything_is_imported(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", _UNLISTED_IMPORT_PROBE, str(tmp_path / "global.pkl")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "unlisted imports: []" in out.stdout


def test_the_yaml_list_is_exact_names():
    from pylearn_vae.utils import safe_load

    names = safe_load.yaml_names()
    assert names["numpy.float32"] is numpy.float32 and names["builtins.dict"] is dict
    assert not any(n.startswith(("numpy.f2py", "numpy.testing", "numpy.lib")) for n in names)
    modules = safe_load.package_modules()
    assert "pylearn_vae.models.vae.conditional" in modules
    assert not any(m.startswith(("pylearn_vae.scripts", "pylearn_vae.sweep")) for m in modules)
    # a function of the package that is not registered is refused, named
    with pytest.raises(UnsafeFileError, match="a function of pylearn_vae.utils.rng"):
        yaml_parse.load("!obj:pylearn_vae.utils.rng.set_generator_states {}")


def test_a_class_that_acts_when_freed_is_refused_in_a_pickle(tmp_path):
    from pylearn_vae.train_extensions.tensorboard import TensorBoardLog

    obj = TensorBoardLog.__new__(TensorBoardLog)
    obj.__dict__.update(_writer=None, log_dir="x", _written=0)
    path = tmp_path / "old.pkl"
    with open(path, "wb") as f:
        pickle.Pickler(f, protocol=2).dump(obj)  # as an attacker would write it
    obj.__dict__["_writer"] = None
    with pytest.raises(UnsafeFileError, match="run code when they are freed"):
        serial.load(str(path))
