"""The bad-input corpus: every case ends with one clear line and the right exit status.

Each case is made from a working example by one change: a value of
``docs/tutorial_tiny.yaml`` replaced by a bad one, a data file truncated or corrupted, a
saved model broken, or one bad option of a ``bin/`` script. Every case runs the script's
``main(argv)`` in-process and checks

* the exit status: 2 for a usage or input error, 1 for a failure while running;
* stderr is one line, with no traceback;
* that line names what is wrong (the argument, the value, the file);
* nothing was trained or saved (no silent success).

A few cases at the end run the real ``bin/`` scripts in a subprocess.
"""

import gzip
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

from pylearn_vae.datasets.idx import write_idx
from pylearn_vae.scripts import (
    _cli,
    _memory,
    demo,
    interpolate,
    latent_report,
    latent_scatter,
    manifold,
    nll,
    plot_monitor,
    print_monitor,
    reconstruct,
    samples,
    show_weights,
    summarize_model,
)
from pylearn_vae.scripts import train as train_script
from pylearn_vae.scripts.download_binarized_mnist import main as download_main
from pylearn_vae.utils import serial

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(REPO, "docs", "tutorial_tiny.yaml")
MNIST10K = os.path.join(REPO, "data", "mnist10k.npz")
USAGE, RUNTIME = 2, 1


# -- the files the cases point at ----------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Broken data and model files, and a small trained model, made once."""
    root = tmp_path_factory.mktemp("bad_inputs")
    paths = {"root": root}
    blob = Path(MNIST10K).read_bytes()
    paths["npz_truncated"] = root / "truncated.npz"
    paths["npz_truncated"].write_bytes(blob[: len(blob) // 2])
    flipped = bytearray(blob)
    flipped[len(blob) // 3 : len(blob) // 3 + 1000] = b"x" * 1000
    paths["npz_corrupt"] = root / "corrupt.npz"
    paths["npz_corrupt"].write_bytes(bytes(flipped))
    paths["npz_text"] = root / "text.npz"
    paths["npz_text"].write_text("this is not a numpy archive\n")
    grey = numpy.random.default_rng(0).integers(0, 256, (20, 28, 28)).astype("uint8")
    write_idx(root / "good.idx", grey)
    idx_bytes = (root / "good.idx").read_bytes()
    paths["gz_truncated"] = root / "truncated-idx3-ubyte.gz"
    paths["gz_truncated"].write_bytes(gzip.compress(idx_bytes)[:200])
    paths["gz_not_gzip"] = root / "plain-idx3-ubyte.gz"
    paths["gz_not_gzip"].write_bytes(idx_bytes)
    paths["idx_magic"] = root / "magic.idx"
    paths["idx_magic"].write_bytes(b"\x01\x02" + idx_bytes[2:])
    paths["idx_short"] = root / "short.idx"
    paths["idx_short"].write_bytes(idx_bytes[:-100])
    floats = grey.astype("float32") / 255
    write_idx(root / "floats.idx", floats)
    paths["idx_floats"] = root / "floats.idx"
    floats_nan = floats.copy()
    floats_nan[3, 4, 5] = numpy.nan
    write_idx(root / "nan.idx", floats_nan)
    paths["idx_nan"] = root / "nan.idx"
    write_idx(root / "negative.idx", floats - 0.5)
    paths["idx_negative"] = root / "negative.idx"
    paths["good.idx"] = root / "good.idx"
    paths["in_the_way"] = root / "a_file"
    paths["in_the_way"].write_text("a file, not a folder\n")
    paths["junk_pkl"] = root / "junk.pkl"
    paths["junk_pkl"].write_text("not a pickle")
    paths["dict_pkl"] = root / "dict.pkl"
    paths["dict_pkl"].write_bytes(pickle.dumps({"a": 1}))
    paths["empty_pkl"] = root / "empty.pkl"
    paths["empty_pkl"].write_bytes(b"")
    paths["bad_yaml"] = root / "broken.yaml"
    paths["bad_yaml"].write_text("!obj:pylearn_vae.datasets.mnist10k.MNIST10k {which_set: [\n")

    # A model trained for one epoch by the tutorial's tiny configuration.
    config = root / "tiny.yaml"
    config.write_text(Path(TINY).read_text().replace("max_epochs: 2", "max_epochs: 1"))
    assert train_script.main([str(config)]) == 0
    paths["model"] = root / "tiny.pkl"
    model = serial.load(str(paths["model"]))
    paths["pkl_truncated"] = root / "truncated.pkl"
    paths["pkl_truncated"].write_bytes(paths["model"].read_bytes()[:500])
    param = model.get_params()[0]
    value = param.get_value()
    value[0, 0] = numpy.nan
    param.set_value(value)
    paths["model_nan"] = root / "nan.pkl"
    serial.save(str(paths["model_nan"]), model)
    paths["nan_param"] = param.name
    return paths


# -- bad YAML values: one change to docs/tutorial_tiny.yaml each ---------------------------

# (old text, new text, what the message must name)
YAML_CASES = [
    # SGD
    ("learning_rate: 1e-2", "learning_rate: -0.01", ["learning_rate", "-0.01"]),
    ("learning_rate: 1e-2", "learning_rate: 0", ["learning_rate", "got 0"]),
    ("learning_rate: 1e-2", "learning_rate: .nan", ["learning_rate", "nan"]),
    ("learning_rate: 1e-2", "learning_rate: .inf", ["learning_rate", "inf"]),
    ("learning_rate: 1e-2", "learning_rate: 'fast'", ["learning_rate", "'fast'"]),
    ("learning_rate: 1e-2", "learning_rate: true", ["learning_rate", "True"]),
    ("batch_size: 50", "batch_size: 0", ["batch_size", "got 0"]),
    ("batch_size: 50", "batch_size: -5", ["batch_size", "-5"]),
    ("batch_size: 50", "batch_size: 2.5", ["batch_size", "2.5"]),
    ("batch_size: 50", "batch_size: 50.0", ["batch_size", "50.0"]),
    ("batch_size: 50", "batch_size: 'big'", ["batch_size", "'big'"]),
    ("batch_size: 50", "batch_size: true", ["batch_size", "True"]),
    ("batch_size: 50,", "batch_size: 50, monitoring_batch_size: 0,", ["monitoring_batch_size"]),
    ("batch_size: 50,", "batch_size: 50, monitoring_batches: -1,", ["monitoring_batches"]),
    ("batch_size: 50,", "batch_size: 50, batches_per_iter: 0,", ["batches_per_iter"]),
    ("batch_size: 50,", "batch_size: 50, batches_per_iter: 1.5,", ["batches_per_iter", "1.5"]),
    (
        "batch_size: 50,",
        "batch_size: 50, train_iteration_mode: 'randomly',",
        ["train_iteration_mode", "randomly", "shuffled_sequential"],
    ),
    (
        "batch_size: 50,",
        "batch_size: 50, monitor_iteration_mode: 'sideways',",
        ["monitor_iteration_mode", "sideways"],
    ),
    ("batch_size: 50,", "batch_size: 50, learning_rule: 3,", ["learning_rule", "3"]),
    ("batch_size: 50,", "batch_size: 50, seed: -1,", ["SGD", "seed", "-1"]),
    ("batch_size: 50,", "batch_size: 50, seed: 2.5,", ["SGD", "seed", "2.5"]),
    ("batch_size: 50,", "batch_size: 50, update_callbacks: [3],", ["update_callbacks", "3"]),
    ("batch_size: 50,", "batch_size: 50, monitoring_costs: {'x': 1},", ["monitoring_costs"]),
    (
        "cost: !obj:pylearn_vae.costs.vae.VAECriterion {num_samples: 1},",
        "cost: 'vae',",
        ["SGD", "cost", "'vae'"],
    ),
    ("    extensions: [", "    extensions: [ 3,", ["Train", "extensions", "3"]),
    # learning rules
    *[
        (
            "batch_size: 50,",
            f"batch_size: 50, learning_rule: !obj:pylearn_vae.training_algorithms."
            f"learning_rule.{rule} {{{arg}: {value}}},",
            [rule, arg, shown],
        )
        for rule, arg, value, shown in [
            ("Momentum", "init_momentum", "1.0", "1.0"),
            ("Momentum", "init_momentum", "-0.1", "-0.1"),
            ("Momentum", "init_momentum", "1.5", "1.5"),
            ("Momentum", "init_momentum", "'high'", "'high'"),
            ("Adam", "beta1", "1", "got 1"),
            ("Adam", "beta2", "-0.5", "-0.5"),
            ("Adam", "epsilon", "0", "got 0"),
            ("Adam", "epsilon", "-1e-8", "-1e-08"),
            ("RMSProp", "decay", "1.2", "1.2"),
            ("RMSProp", "max_scaling", "0", "got 0"),
            ("AdaDelta", "decay", "-1", "-1"),
            ("AdaGrad", "max_scaling", "-1", "-1"),
        ]
    ],
    # learning-rate schedules
    *[
        (
            "batch_size: 50,",
            f"batch_size: 50, update_callbacks: [!obj:pylearn_vae.training_algorithms.sgd."
            f"{schedule} {{{args}}}],",
            [schedule, name],
        )
        for schedule, args, name in [
            ("ExponentialDecay", "decay_factor: 0.5, min_lr: 0.0001", "decay_factor"),
            ("ExponentialDecay", "decay_factor: 0, min_lr: 0.0001", "decay_factor"),
            ("ExponentialDecay", "decay_factor: .nan, min_lr: 0.0001", "decay_factor"),
            ("ExponentialDecay", "decay_factor: 1.001, min_lr: -1", "min_lr"),
            ("ExponentialDecay", "decay_factor: 1.001, min_lr: .inf", "min_lr"),
            ("ExponentialDecay", "decay_factor: 1.001, min_lr: 'tiny'", "min_lr"),
            ("LinearDecay", "start: 0, saturate: 10, decay_factor: 0.1", "start"),
            ("LinearDecay", "start: 5, saturate: 2, decay_factor: 0.1", "saturate"),
            ("LinearDecay", "start: 1, saturate: 10, decay_factor: 0", "decay_factor"),
            ("LinearDecay", "start: 1, saturate: 10, decay_factor: -2", "decay_factor"),
            ("AnnealedLearningRate", "anneal_start: 0", "anneal_start"),
            ("AnnealedLearningRate", "anneal_start: -3", "anneal_start"),
        ]
    ],
    # termination criteria
    ("max_epochs: 2", "max_epochs: 0", ["EpochCounter", "max_epochs", "got 0"]),
    ("max_epochs: 2", "max_epochs: -1", ["EpochCounter", "max_epochs", "-1"]),
    ("max_epochs: 2", "max_epochs: 2.5", ["max_epochs", "2.5"]),
    ("max_epochs: 2", "max_epochs: 'ten'", ["max_epochs", "'ten'"]),
    ("max_epochs: 2", "max_epochs: true", ["max_epochs", "True"]),
    *[
        (
            "termination_criterion: !obj:pylearn_vae.termination_criteria.EpochCounter {\n"
            "            max_epochs: 2}",
            f"termination_criterion: !obj:pylearn_vae.termination_criteria.{criterion} {{{args}}}",
            [criterion, name],
        )
        for criterion, args, name in [
            ("MonitorBased", "N: 0", "N"),
            ("MonitorBased", "N: 2.5", "N"),
            ("MonitorBased", "prop_decrease: 1.5", "prop_decrease"),
            ("MonitorBased", "prop_decrease: -0.1", "prop_decrease"),
            ("MonitorBased", "channel_name: 7", "channel_name"),
            ("ChannelTarget", "channel_name: 'valid_objective', target: .nan", "target"),
            ("ChannelTarget", "channel_name: '', target: 90", "channel_name"),
        ]
    ],
    # extensions
    (
        "channel_name: 'valid_objective'",
        "channel_name: 7",
        ["MonitorBasedSaveBest", "channel_name"],
    ),
    (
        "channel_name: 'valid_objective',",
        "channel_name: 'valid_objective', start_epoch: -1,",
        ["MonitorBasedSaveBest", "start_epoch", "-1"],
    ),
    (
        'save_path: "${PYLEARN2_TRAIN_FILE_FULL_STEM}_best.pkl"',
        'save_path: "{in_the_way}/best.pkl"',
        ["MonitorBasedSaveBest", "save_path", "a_file"],
    ),
    *[
        (
            "    extensions: [",
            "    extensions: [\n        !obj:pylearn_vae.training_algorithms.learning_rule."
            f"MomentumAdjustor {{{args}}},",
            ["MomentumAdjustor", name],
        )
        for args, name in [
            ("final_momentum: 1.5, start: 1, saturate: 2", "final_momentum"),
            ("final_momentum: -0.5, start: 1, saturate: 2", "final_momentum"),
            ("final_momentum: 0.9, start: -1, saturate: 2", "start"),
            ("final_momentum: 0.9, start: 1, saturate: 2.5", "saturate"),
        ]
    ],
    # Train
    ("save_freq: 1", "save_freq: -1", ["Train", "save_freq", "-1"]),
    ("save_freq: 1", "save_freq: 'often'", ["Train", "save_freq", "'often'"]),
    ("save_freq: 1", "save_freq: 1.5", ["Train", "save_freq", "1.5"]),
    ("save_freq: 1", "save_freq: true", ["Train", "save_freq", "True"]),
    (
        'save_path: "${PYLEARN2_TRAIN_FILE_FULL_STEM}.pkl"',
        'save_path: "{in_the_way}/model.pkl"',
        ["Train", "save_path", "a_file", "not a folder"],
    ),
    (
        'save_path: "${PYLEARN2_TRAIN_FILE_FULL_STEM}.pkl"',
        'save_path: "{root}"',
        ["Train", "save_path", "is a folder"],
    ),
    # datasets
    ("which_set: 'train'", "which_set: 'tain'", ["which_set", "'tain'"]),
    ("which_set: 'valid'", "which_set: 'validation'", ["which_set", "'validation'"]),
    ("stop: 400", "stop: 0", ["stop=0"]),
    ("stop: 400", "stop: 100000", ["stop=100000"]),
    ("stop: 400", "start: -1, stop: 400", ["start=-1"]),
    ("stop: 400", "stop: 400, binarize: 'yes'", ["binarize", "'yes'"]),
    ("stop: 400", "stop: 400, path: '{root}/missing.npz'", ["missing.npz"]),
    ("stop: 400", "stop: 400, path: '{npz_truncated}'", ["truncated.npz"]),
    ("stop: 400", "stop: 400, path: '{npz_corrupt}'", ["corrupt.npz"]),
    ("stop: 400", "stop: 400, path: '{npz_text}'", ["text.npz"]),
    *[
        (
            "'valid': !obj:pylearn_vae.datasets.mnist10k.MNIST10k {which_set: 'valid', stop: 200}",
            "'valid': !obj:pylearn_vae.datasets.idx.IDXImages "
            f"{{images_path: '{{{key}}}'{extra}}}",
            ["gzip" if key.startswith("gz") else "IDX", *names],
        )
        for key, extra, names in [
            ("gz_truncated", "", ["truncated-idx3-ubyte.gz", "truncated or corrupt"]),
            ("gz_not_gzip", "", ["plain-idx3-ubyte.gz"]),
            ("idx_magic", "", ["magic.idx", "magic number"]),
            ("idx_short", "", ["short.idx", "truncated or corrupt"]),
            ("idx_floats", "", ["floats.idx", "scale: 1.0"]),
            ("idx_nan", ", scale: 1.0, binarize: null", ["nan.idx", "non-finite"]),
            ("idx_negative", ", scale: 1.0", ["negative.idx", "outside [0, scale]"]),
            ("idx_floats", ", scale: 0", ["scale", "got 0"]),
            ("idx_floats", ", scale: -255", ["scale", "-255"]),
            ("good.idx", ", seed: -1", ["seed", "-1"]),
        ]
    ],
    # YAML itself
    ("batch_size: 50,", "batch_size: 50, learning_rate: 1,", ["learning_rate"]),
    ("!obj:pylearn_vae.train.Train {", "!obj:pylearn_vae.train.Trian {", ["Trian"]),
    ("nhid: 5,", "nhid: 5, bogus_argument: 1,", ["bogus_argument"]),
    ("save_freq: 1,\n}", "save_freq: 1,\n", ["tiny_bad.yaml"]),
]

# The same, for the arguments of the models (checked in pylearn_vae/models).
MODEL_YAML_CASES = [
    ("nhid: 5", "nhid: 0", ["nhid", "got 0"]),
    ("nhid: 5", "nhid: 2.5", ["nhid", "2.5"]),
    ("nvis: 784", "nvis: -1", ["nvis", "-1"]),
    ("nvis: 784", "nvis: 'big'", ["nvis", "'big'"]),
    ("dim: 20", "dim: 0", ["dim", "got 0"]),
    ("dim: 20", "dim: 2.5", ["dim", "2.5"]),
    ("dim: 20", "dim: -20", ["dim", "-20"]),
    ("irange: 0.1", "irange: -0.1", ["irange", "-0.1"]),
]


def _yaml_id(case):
    return case[1].split("{")[-1][:60] if "!obj" in case[1] else case[1][:60]


def fill(text, files):
    """``text`` with each ``{name}`` of ``files`` replaced by its path (or value)."""
    for key, value in files.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def run_train(files, old, new, capsys):
    """Write the tutorial's tiny YAML with ``old`` replaced by ``new``; run train.py on it."""
    text = Path(TINY).read_text()
    assert old in text, old
    new = fill(new, files)
    config = files["root"] / "cases" / "tiny_bad.yaml"
    config.parent.mkdir(exist_ok=True)
    for stale in config.parent.glob("*.pkl"):
        stale.unlink()
    config.write_text(text.replace(old, new, 1))
    capsys.readouterr()
    status = train_script.main([str(config)])
    err = capsys.readouterr().err
    saved = sorted(p.name for p in config.parent.glob("*.pkl"))
    return status, err, saved


def assert_one_clear_line(err, names):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith(tuple(f"{p}: error: " for p in _PROGS)), err
    for name in names:
        assert name in lines[0], f"{name!r} not in {lines[0]!r}"
    return lines[0]


_PROGS = [
    "train.py",
    "vae_samples.py",
    "vae_reconstruct.py",
    "vae_nll.py",
    "vae_latent_report.py",
    "show_weights.py",
    "plot_monitor.py",
    "print_monitor.py",
    "summarize_model.py",
    "download_binarized_mnist.py",
    "vae_manifold.py",
    "vae_latent_scatter.py",
    "vae_interpolate.py",
    "vae_demo.py",
]


_ALL_YAML_CASES = [pytest.param(*c, id=_yaml_id(c)) for c in YAML_CASES] + [
    pytest.param(*c, id=c[1]) for c in MODEL_YAML_CASES
]


@pytest.mark.parametrize("old,new,names", _ALL_YAML_CASES)
def test_bad_yaml_value_is_refused_before_training(files, old, new, names, capsys):
    status, err, saved = run_train(files, old, new, capsys)
    assert status == USAGE, err
    assert_one_clear_line(err, names)
    assert saved == []


# Found while setting up, before the first epoch: status 1, and nothing saved.
SETUP_CASES = [
    (
        "channel_name: 'valid_objective'",
        "channel_name: 'valid_objectiv'",
        ["MonitorBasedSaveBest", "'valid_objectiv'", "valid_objective"],
    ),
    (
        "termination_criterion: !obj:pylearn_vae.termination_criteria.EpochCounter {\n"
        "            max_epochs: 2}",
        "termination_criterion: !obj:pylearn_vae.termination_criteria.ChannelTarget {"
        "channel_name: 'valid_nll', target: 90}",
        ["valid_nll"],
    ),
]


@pytest.mark.parametrize("old,new,names", SETUP_CASES, ids=[c[1][-40:] for c in SETUP_CASES])
def test_bad_channel_name_stops_before_the_first_epoch(files, old, new, names, capsys):
    status, err, saved = run_train(files, old, new, capsys)
    assert status == USAGE, err  # a bad value in the file, found at setup
    assert_one_clear_line(err, names)
    assert saved == []


# -- bad command lines of the evaluation scripts -------------------------------------------

# (script main, argv with {placeholders}, status, what the message must name)
SCRIPT_CASES = []


def _add(main, argv, status, names):
    SCRIPT_CASES.append((main, argv, status, names))


_GRID_SCRIPTS = [samples.main, reconstruct.main, show_weights.main]
_VAE_SCRIPTS = _GRID_SCRIPTS + [nll.main, latent_report.main]
_MODEL_SCRIPTS = _VAE_SCRIPTS + [plot_monitor.main, print_monitor.main, summarize_model.main]
for _main in _MODEL_SCRIPTS:
    extra = ["-o", "{root}/out/x.png"] if _main in _GRID_SCRIPTS + [plot_monitor.main] else []
    _add(_main, ["{root}/none.pkl"] + extra, USAGE, ["none.pkl", "no such file"])
    _add(_main, ["{junk_pkl}"] + extra, USAGE, ["junk.pkl", "not a saved pylearn_vae model"])
    _add(_main, ["{empty_pkl}"] + extra, USAGE, ["empty.pkl"])
    _add(_main, ["{pkl_truncated}"] + extra, USAGE, ["truncated.pkl"])
    _add(_main, ["{root}"] + extra, USAGE, ["is a folder"])
    _add(_main, ["{model}", "--frobnicate"] + extra, USAGE, ["--frobnicate"])
for _main in _VAE_SCRIPTS + [summarize_model.main]:
    extra = ["-o", "{root}/out/x.png"] if _main in _GRID_SCRIPTS else []
    _add(_main, ["{model_nan}"] + extra, RUNTIME, ["nan.pkl", "{nan_param}", "non-finite"])
for _main in _VAE_SCRIPTS:
    extra = ["-o", "{root}/out/x.png"] if _main in _GRID_SCRIPTS else []
    _add(_main, ["{dict_pkl}"] + extra, USAGE, ["dict.pkl", "not a VAE"])
for _main in _GRID_SCRIPTS:
    for out, names in [
        ("{root}/samples.xyz", ["samples.xyz", ".png", ".xyz"]),
        ("{root}/samples.jpg", ["samples.jpg", ".png"]),
        ("{root}/noext", ["noext", "without an extension"]),
        ("{root}", ["is a folder"]),
        ("{in_the_way}/x.png", ["a_file", "output path"]),
    ]:
        _add(_main, ["{model}", "-o", out], USAGE, names)
    for option, value in [
        ("--cols", "0"),
        ("--cols", "many"),
        ("--border", "-1"),
        ("--zoom", "0"),
        ("--zoom", "-2"),
        ("--shape", "28x0"),
        ("--shape", "abc"),
    ]:
        _add(_main, ["{model}", "-o", "{root}/out/x.png", option, value], USAGE, [option, value])
    _add(_main, ["{model}", "-o", "{root}/out/x.png", "--shape", "20x20"], USAGE, ["--shape"])
for _main in (samples.main, reconstruct.main):
    for value in ("0", "-3", "x", "1.5"):
        _add(_main, ["{model}", "-o", "{root}/out/x.png", "-n", value], USAGE, ["-n", value])
    _add(_main, ["{model}", "-o", "{root}/out/x.png", "--seed", "-1"], USAGE, ["--seed", "-1"])
for _main in (reconstruct.main, nll.main, latent_report.main):
    extra = ["-o", "{root}/out/x.png"] if _main in _GRID_SCRIPTS else []
    if _main is nll.main:
        extra = ["-k", "2"]
    for dataset, names in [
        ("{bad_yaml}", ["--dataset", "broken.yaml"]),
        ("!obj:pylearn_vae.datasets.mnist10k.MNIST10k {which_set: [", ["--dataset"]),
        ("!obj:pylearn_vae.datasets.nowhere.Nothing {}", ["--dataset", "nowhere"]),
        ("!obj:pylearn_vae.datasets.mnist10k.MNIST10k {bogus: 1}", ["--dataset", "bogus"]),
        (
            "!obj:pylearn_vae.datasets.mnist10k.MNIST10k {path: '{npz_truncated}'}",
            ["truncated.npz"],
        ),
        ("!obj:pylearn_vae.datasets.mnist10k.MNIST10k {path: '{npz_corrupt}'}", ["corrupt.npz"]),
        ("!obj:pylearn_vae.datasets.idx.IDXImages {images_path: '{gz_truncated}'}", ["ubyte.gz"]),
        ("!obj:pylearn_vae.datasets.idx.IDXImages {images_path: '{idx_magic}'}", ["magic.idx"]),
        ("!obj:pylearn_vae.datasets.idx.IDXImages {images_path: '{idx_floats}'}", ["scale"]),
        ("{root}/missing.yaml", ["--dataset", "missing.yaml"]),
        ("mnist100k", ["--dataset", "mnist100k"]),
    ]:
        _add(_main, ["{model}", "--dataset", dataset] + extra, USAGE, names)
    _add(_main, ["{model}", "--which-set", "tain"] + extra, USAGE, ["which_set", "tain"])
for option, value in [
    ("-k", "0"),
    ("-k", "-1"),
    ("--memory-mb", "0"),
    ("--memory-mb", "-5"),
    ("--memory-mb", "nan"),
    ("--memory-mb", "lots"),
    ("--batch-size", "0"),
    ("--limit", "0"),
    ("--seed", "-1"),
]:
    _add(nll.main, ["{model}", option, value], USAGE, [option, value])
for option, value in [("--threshold", "-1"), ("--threshold", "inf"), ("--limit", "-1")]:
    _add(latent_report.main, ["{model}", option, value], USAGE, [option, value])
_add(latent_report.main, ["{model}", "-o", "{root}/chart.xyz"], USAGE, ["chart.xyz", ".png"])
_add(plot_monitor.main, ["{model}", "-o", "{root}/curves.xyz"], USAGE, ["curves.xyz", ".pdf"])
_add(plot_monitor.main, ["{model}", "-o", "{root}/c.png", "--x", "days"], USAGE, ["--x", "days"])
_add(plot_monitor.main, ["{model}", "-o", "{root}/c.png", "--yrange", "1"], USAGE, ["--yrange"])
_add(plot_monitor.main, ["{model}", "-o", "{root}/c.png", "--yrange", "5:1"], USAGE, ["5:1"])
_add(plot_monitor.main, ["{model}", "-o", "{root}/c.png", "--channels", "x*"], USAGE, ["'x*'"])
# The latent-space scripts, each with an output in the test's folder.
_LATENT_SCRIPTS = {
    manifold.main: ["-o", "{root}/out/x.png"],
    interpolate.main: ["-o", "{root}/out/x.png"],
    latent_scatter.main: ["-o", "{root}/out/x.png"],
    demo.main: ["-o", "{root}/out/demo"],
}
for _main, out in _LATENT_SCRIPTS.items():
    _add(_main, ["{root}/none.pkl"] + out, USAGE, ["none.pkl", "no such file"])
    _add(_main, ["{junk_pkl}"] + out, USAGE, ["junk.pkl"])
    _add(_main, ["{dict_pkl}"] + out, USAGE, ["dict.pkl", "not a VAE"])
    _add(_main, ["{model_nan}"] + out, RUNTIME, ["nan.pkl", "{nan_param}", "non-finite"])
    _add(_main, ["{model}", "--frobnicate"] + out, USAGE, ["--frobnicate"])
    _add(_main, ["{model}", "--dataset", "{bad_yaml}"] + out, USAGE, ["--dataset", "broken.yaml"])
    _add(_main, ["{model}", "--which-set", "tain"] + out, USAGE, ["which_set", "tain"])
for _main, extension in [(manifold.main, ".png"), (interpolate.main, ".png")]:
    _add(_main, ["{model}", "-o", "{root}/m.xyz"], USAGE, ["m.xyz", extension])
_add(latent_scatter.main, ["{model}", "-o", "{root}/s.xyz"], USAGE, ["s.xyz", ".pdf"])
_add(latent_scatter.main, ["{model}", "-o", "{root}/s.png", "--dpi", "0"], USAGE, ["--dpi"])
_add(manifold.main, ["{model}", "-o", "{root}/m.png", "-n", "0"], USAGE, ["-n", "0"])
for option, value in [("--steps", "-1"), ("--seed", "-1"), ("--pairs", "1")]:
    argv = ["{model}", "-o", "{root}/i.png", option, value]
    _add(interpolate.main, argv, USAGE, [option, value])
for option, value in [("--port", "-1"), ("--port", "70000"), ("--sliders", "0")]:
    _add(demo.main, ["{model}", "-o", "{root}/d", option, value], USAGE, [option, value])
_add(print_monitor.main, ["{dict_pkl}"], USAGE, ["dict.pkl", "no monitor"])
_add(plot_monitor.main, ["{dict_pkl}", "-o", "{root}/c.png"], USAGE, ["dict.pkl", "no monitor"])
_add(summarize_model.main, ["{dict_pkl}"], USAGE, ["dict.pkl", "not a model"])
_add(download_main, ["--data-path", "{in_the_way}/data", "--no-progress"], RUNTIME, ["a_file"])
_add(train_script.main, ["{root}/missing.yaml"], USAGE, ["missing.yaml"])
_add(train_script.main, ["{bad_yaml}"], USAGE, ["broken.yaml"])
_add(train_script.main, ["--time-budget", "0", "{bad_yaml}"], USAGE, ["--time-budget", "0"])
_add(train_script.main, ["--time-budget", "-5", "{bad_yaml}"], USAGE, ["--time-budget", "-5"])
_add(train_script.main, [], USAGE, ["config"])


def _script_id(case):
    main, argv, _, _ = case
    return f"{main.__module__.split('.')[-1]}:{' '.join(argv)}".replace("{", "").replace("}", "")


def run_script(files, main, argv, capsys):
    argv = [fill(a, files) for a in argv]
    capsys.readouterr()
    try:
        status = main(argv)
    except SystemExit as exc:
        status = exc.code
    return status, capsys.readouterr()


@pytest.mark.parametrize("main,argv,status,names", SCRIPT_CASES, ids=map(_script_id, SCRIPT_CASES))
def test_bad_command_line_gives_one_line_and_status(files, main, argv, status, names, capsys):
    got, captured = run_script(files, main, argv, capsys)
    assert got == status, captured.err
    names = [fill(n, files) for n in names]
    assert_one_clear_line(captured.err, names)
    assert captured.out == ""
    assert not (files["root"] / "out" / "x.png").exists()


def test_corpus_size():
    assert len(YAML_CASES) + len(MODEL_YAML_CASES) + len(SETUP_CASES) + len(SCRIPT_CASES) >= 120


# -- runtime failures ------------------------------------------------------------------------


def test_too_many_samples_is_refused_up_front(files, capsys, monkeypatch):
    monkeypatch.setattr(_memory, "available_memory", lambda: 2**30)
    argv = [str(files["model"]), "-n", "1000000", "-o", str(files["root"] / "out" / "x.png")]
    status, captured = run_script(files, samples.main, argv, capsys)
    assert status == RUNTIME
    assert_one_clear_line(captured.err, ["1000000 samples", "GiB", "ask for less"])


def test_memory_error_is_one_line(files, capsys, monkeypatch):
    def no_memory(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(nll, "importance_sampled_nll", no_memory)
    status, captured = run_script(files, nll.main, [str(files["model"]), "-k", "2"], capsys)
    assert status == RUNTIME
    assert_one_clear_line(captured.err, ["not enough memory"])


def test_an_empty_binarized_mnist_file_is_named(files, capsys, monkeypatch):
    folder = files["root"] / "data" / "binarized_mnist"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "binarized_mnist_test.npy").write_bytes(b"")
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(files["root"] / "data"))
    argv = [str(files["model"]), "--dataset", "binarized_mnist", "-k", "2"]
    status, captured = run_script(files, nll.main, argv, capsys)
    assert status == USAGE
    assert_one_clear_line(captured.err, ["binarized_mnist_test.npy", "not a valid .npy"])


def test_debug_option_and_environment_show_the_traceback(files, capsys, monkeypatch):
    argv = [str(files["junk_pkl"]), "-o", str(files["root"] / "out" / "x.png")]
    with pytest.raises(_cli.CliError, match="junk.pkl"):
        samples.main(argv + ["--debug"])
    monkeypatch.setenv("PYLEARN_VAE_DEBUG", "1")
    with pytest.raises(_cli.CliError, match="junk.pkl"):
        samples.main(argv)
    monkeypatch.setenv("PYLEARN_VAE_DEBUG", "0")
    assert run_script(files, samples.main, argv, capsys)[0] == USAGE


def _run_bin(script, *args, env=None):
    return subprocess.run(
        [sys.executable, os.path.join(REPO, "bin", script), *map(str, args)],
        capture_output=True,
        text=True,
        env=dict(os.environ, **(env or {})),
        check=False,
    )


@pytest.mark.slow
def test_real_scripts_exit_with_one_line(files):
    root = files["root"]
    text = Path(TINY).read_text().replace("learning_rate: 1e-2", "learning_rate: -0.01")
    config = root / "subprocess.yaml"
    config.write_text(text)
    done = _run_bin("train.py", config)
    assert done.returncode == USAGE
    assert done.stderr.count("\n") == 1 and "learning_rate" in done.stderr
    assert "Traceback" not in done.stderr and not (root / "subprocess.pkl").exists()

    done = _run_bin("vae_samples.py", files["model"], "-o", root / "s.xyz")
    assert done.returncode == USAGE and done.stderr.count("\n") == 1
    assert "s.xyz" in done.stderr and not (root / "s.xyz").exists()

    done = _run_bin("vae_nll.py", files["model_nan"], "-k", "2")
    assert done.returncode == RUNTIME and done.stderr.count("\n") == 1
    assert files["nan_param"] in done.stderr and done.stdout == ""

    done = _run_bin("vae_nll.py", files["model"], "--memory-mb", "0")
    assert done.returncode == USAGE and done.stderr.count("\n") == 1
    assert "--memory-mb" in done.stderr

    done = _run_bin("vae_nll.py", files["junk_pkl"], env={"PYLEARN_VAE_DEBUG": "1"})
    assert done.returncode == 1 and "Traceback" in done.stderr
