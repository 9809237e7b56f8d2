"""The inspection scripts (pylearn_vae.scripts.*) on a tiny VAE trained by hand."""

import math
import os
import pickle
import re
import subprocess
import sys

import numpy
import pytest

from pylearn_vae import backend
from pylearn_vae.datasets.mnist10k import MNIST10k
from pylearn_vae.evaluation import nll as estimator
from pylearn_vae.evaluation.pictures import draw_samples, interleave_reconstructions
from pylearn_vae.monitor import Monitor, MonitorChannel
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
from pylearn_vae.space import NullSpace
from pylearn_vae.testing.models import tiny_vae, train_by_hand
from pylearn_vae.utils import images, serial

PIL = pytest.importorskip("PIL.Image")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN_SRC = "!obj:pylearn_vae.datasets.mnist10k.MNIST10k {which_set: 'train', stop: 400}"


def attach_monitor(model, objectives):
    """A monitor with the records a training run of len(objectives)-1 epochs leaves."""
    monitor = Monitor(model)
    for name in ("train_objective", "valid_objective", "learning_rate"):
        channel = MonitorChannel(None, name, (NullSpace(), ""), None)
        for epoch, value in enumerate(objectives):
            channel.epoch_record.append(epoch)
            channel.batch_record.append(8 * epoch)
            channel.example_record.append(400 * epoch)
            channel.time_record.append(0.5 * epoch)
            channel.val_record.append(0.01 if name == "learning_rate" else value + epoch % 2)
        monitor.channels[name] = channel
    monitor._epochs_seen = len(objectives) - 1
    monitor._num_batches_seen = 8 * monitor._epochs_seen
    monitor._examples_seen = 400 * monitor._epochs_seen
    monitor.training_succeeded = True
    model.monitor = monitor


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A tiny VAE (nhid 5, 20-unit layers) after 2 epochs of SGD on 400 MNIST10k digits."""
    model = tiny_vae()
    objectives = train_by_hand(model, MNIST10k("train", stop=400).get_design_matrix())
    assert objectives[-1] < objectives[0]
    attach_monitor(model, objectives)
    model.dataset_yaml_src = TRAIN_SRC
    path = tmp_path_factory.mktemp("model") / "tiny.pkl"
    serial.save(str(path), model)
    return str(path)


@pytest.fixture
def model(model_path):
    return serial.load(model_path)


def png_size(path):
    with PIL.open(path) as image:
        return image.size  # (width, height)


def printed_size(out):
    """The ``(width, height)`` the last ``... WxH pixels)`` line of ``out`` gives."""
    width, height = re.findall(r"(\d+)x(\d+) pixels\)", out)[-1]
    return int(width), int(height)


def band(width, title):
    """The height of the title band a grid of ``width`` pixels gets for ``title``."""
    return images.title_band(width, title).shape[0]


# -- NLL ------------------------------------------------------------------------------


def test_nll_matches_direct_log_likelihood_approximation(model):
    X = MNIST10k("test", stop=30).get_design_matrix()
    result = estimator.importance_sampled_nll(model, X, k=40, batch_size=30, seed=7, k_chunk=40)
    model.posterior.noise = backend.RandomStreams(7)  # what set_noise_seed(7) gives q(z|x)
    direct = backend.to_host(model.log_likelihood_approximation(X, 40)).astype("float64")
    numpy.testing.assert_allclose(result.log_likelihood, direct, rtol=1e-5, atol=1e-3)
    assert result.nll == pytest.approx(-direct.mean(), rel=1e-5)
    # In chunks of 7 samples: the same as combining direct calls of 7, 7, ..., 5 samples.
    chunked = estimator.importance_sampled_nll(model, X, k=40, batch_size=30, seed=7, k_chunk=7)
    model.posterior.noise = backend.RandomStreams(7)
    parts = [
        backend.to_host(model.log_likelihood_approximation(X, size)).astype("float64")
        + math.log(size)
        for size in (7, 7, 7, 7, 7, 5)
    ]
    combined = numpy.logaddexp.reduce(numpy.stack(parts), axis=0) - math.log(40)
    numpy.testing.assert_allclose(chunked.log_likelihood, combined, rtol=1e-5, atol=1e-3)
    # Same seed, same numbers; another seed, other numbers.
    again = estimator.importance_sampled_nll(model, X, k=40, batch_size=8, seed=7, k_chunk=40)
    other = estimator.importance_sampled_nll(model, X, k=40, batch_size=30, seed=8)
    numpy.testing.assert_array_equal(
        estimator.importance_sampled_nll(model, X, k=40, batch_size=30, seed=7, k_chunk=7).kl,
        result.kl,
    )
    assert not numpy.allclose(other.log_likelihood, result.log_likelihood)
    assert again.num_examples == 30


def test_nll_bounds_and_standard_error(model):
    X = MNIST10k("test", stop=200).get_design_matrix()
    small = estimator.importance_sampled_nll(model, X[:20], k=20, seed=1)
    large = estimator.importance_sampled_nll(model, X, k=20, seed=1)
    # The IS estimate with k samples is at least the ELBO in expectation: NLL <= -ELBO.
    assert large.nll < -large.elbo
    assert large.elbo == pytest.approx(float((large.expectation - large.kl).mean()))
    assert (large.kl > 0).all()
    expected = large.log_likelihood.std(ddof=1) / math.sqrt(200)
    assert large.nll_stderr == pytest.approx(expected)
    assert large.nll_stderr < small.nll_stderr


def test_chunk_sizes_respect_the_memory_budget():
    batch, k_chunk = estimator.chunk_sizes(5000, 1000, 784, 256 * 2**20)
    assert k_chunk * batch * 784 * 4 * estimator._LIVE_ARRAYS <= 256 * 2**20
    assert 1 <= k_chunk <= 1000 and batch >= 1
    batch, k_chunk = estimator.chunk_sizes(5000, 1000, 784, 2**20, batch_size=100)
    assert batch == 100 and k_chunk == 1


def test_nll_main_prints_the_report(model_path, capsys):
    assert nll.main([model_path, "-k", "5", "--limit", "50", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "NLL (k=5):" in out and "+-" in out and "ELBO:" in out and "KL(" in out
    assert "examples: 50" in out and "MNIST10k (test)" in out


# -- pictures -------------------------------------------------------------------------


def test_samples_png_size(model_path, tmp_path, capsys):
    out = tmp_path / "s.png"
    title = "12 means E[x|z], z from the prior: tiny.pkl"
    assert samples.main([model_path, "-n", "12", "-o", str(out)]) == 0
    # 12 images -> 3 rows of 4 columns, 28x28 each, 1-pixel borders, drawn 2x by default,
    # under a title; the size printed is the file's.
    width = 2 * (4 * 29 + 1)
    assert png_size(out) == (width, band(width, title) + 2 * (3 * 29 + 1))
    assert printed_size(capsys.readouterr().out) == png_size(out)
    assert samples.main([model_path, "-n", "12", "-o", str(out), "--zoom", "1"]) == 0
    assert png_size(out) == (4 * 29 + 1, band(4 * 29 + 1, title) + 3 * 29 + 1)
    assert printed_size(capsys.readouterr().out) == png_size(out)
    with PIL.open(out) as image:
        top = numpy.asarray(image)[: band(4 * 29 + 1, title)]
    assert (top < 100).any() and (top == 255).mean() > 0.5  # dark text on white
    binary = tmp_path / "b.png"
    samples.main([model_path, "-n", "4", "--binary", "--zoom", "2", "-o", str(binary)])
    with PIL.open(binary) as image:
        grid = numpy.asarray(image)[-2 * (2 * 29 + 1) :]
        assert image.width == 2 * (2 * 29 + 1)
        assert set(numpy.unique(grid)) <= {0, 128, 255}


def test_samples_without_o_never_overwrite(model_path, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert samples.main([model_path, "-n", "4"]) == 0
    first = (tmp_path / "samples.png").read_bytes()
    assert samples.main([model_path, "-n", "9"]) == 0
    assert "wrote samples_2.png" in capsys.readouterr().out.splitlines()[-1]
    assert (tmp_path / "samples.png").read_bytes() == first
    assert png_size(tmp_path / "samples_2.png")[0] == 2 * (3 * 29 + 1)


def test_sample_means_are_probabilities(model):
    means = draw_samples(model, 10, seed=3)
    assert means.shape == (10, 784) and ((means > 0) & (means < 1)).all()
    numpy.testing.assert_array_equal(means, draw_samples(model, 10, seed=3))


def test_reconstruct_png_pairs_inputs_and_reconstructions(model_path, model, tmp_path, capsys):
    out = tmp_path / "r.png"
    argv = [model_path, "-n", "6", "-o", str(out), "--cols", "4", "--zoom", "1"]
    assert reconstruct.main(argv) == 0
    # 3 rows of 2 pairs under a strip naming the columns (9-pixel text + 6)
    assert png_size(out) == (4 * 29 + 1, 15 + 3 * 29 + 1)
    assert printed_size(capsys.readouterr().out) == png_size(out)
    with PIL.open(out) as image:
        picture = numpy.asarray(image)
    strip = picture[:15]
    assert (strip == 255).mean() > 0.5
    # dark text above each column: 'input', 'recon', 'input', 'recon'
    for column in range(4):
        assert (strip[:, 1 + column * 29 : 29 + column * 29] < 100).any()
    assert reconstruct.main(argv[:-2]) == 0  # drawn 2x by default
    assert png_size(out) == (2 * (4 * 29 + 1), 20 + 2 * (3 * 29 + 1))
    assert printed_size(capsys.readouterr().out) == png_size(out)
    X = MNIST10k("test", stop=3).get_design_matrix()
    rows = interleave_reconstructions(model, X)
    numpy.testing.assert_array_equal(rows[0::2], X)
    _, means = model.reconstruct(X)
    numpy.testing.assert_allclose(rows[1::2], backend.to_host(means), rtol=1e-6)
    noisy = interleave_reconstructions(model, X, noisy=True, seed=1)
    assert not numpy.allclose(noisy[1::2], rows[1::2])


def test_show_weights_grid_of_encoder_filters(model_path, tmp_path, capsys):
    out = tmp_path / "w.png"
    assert show_weights.main([model_path, "-o", str(out), "--rescale", "global"]) == 0
    title = (
        "the encoder's first-layer filters (20, one per hidden unit; grey levels rescaled: "
        "global): tiny.pkl"
    )
    # 20 filters: ceil(sqrt 20) = 5 wide, under a title
    assert png_size(out) == (5 * 29 + 1, band(5 * 29 + 1, title) + 4 * 29 + 1)
    assert printed_size(capsys.readouterr().out) == png_size(out)


def test_latent_report_counts_active_units(model_path, model, tmp_path, capsys):
    X = MNIST10k("test", stop=100).get_design_matrix()
    report = latent_report.latent_report(model, X, batch_size=30)
    phi = model.encode_phi(X)
    kl = backend.to_host(model.per_component_kl_divergence_term(phi, model.get_prior_theta()))
    numpy.testing.assert_allclose(report.kl, kl.mean(axis=0), rtol=1e-5)
    numpy.testing.assert_allclose(
        report.kl.sum(),
        backend.to_host(model.kl_divergence_term(phi, model.get_prior_theta())).mean(),
        rtol=1e-5,
    )
    variance = backend.to_host(phi[0]).var(axis=0)
    assert report.num_active == int((variance > 0.01).sum())
    out = tmp_path / "latent.png"
    assert latent_report.main([model_path, "--limit", "100", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"active units: {report.num_active} of 5" in text and out.exists()
    assert text.splitlines()[0].startswith("active units: ")  # the answer comes first


def test_latent_report_lists_a_few_units_unless_asked_for_all():
    variance = numpy.linspace(0.0, 0.5, 200)
    report = latent_report.LatentReport(variance * 2, variance, 0.01)
    lines = report.table(20).splitlines()
    assert lines[0] == report.summary() and lines[0].startswith("active units: 196 of 200")
    assert [int(line.split()[0]) for line in lines[2:22]] == list(range(199, 179, -1))
    assert lines[22] == "(20 units of largest Var[mu] shown; --all lists all 200)"
    assert len(lines) == 23
    every = report.table().splitlines()
    assert len(every) == 202 and [int(line.split()[0]) for line in every[2:]] == list(range(200))


# -- monitor and summary ------------------------------------------------------------


def test_print_monitor_last_values(model_path, capsys):
    assert print_monitor.main([model_path]) == 0
    lines = capsys.readouterr().out.splitlines()
    model = serial.load(model_path)
    last = model.monitor.channels["valid_objective"].val_record[-1]
    assert lines[:2] == ["epochs seen:  2", "time trained:  1.0 s"]
    assert f"valid_objective : {float(last):.6g}" in lines
    assert "learning_rate : 0.01" in lines  # float32 0.01 without its float64 noise
    assert lines[2:] == sorted(lines[2:])


def test_plot_monitor_writes_png_with_chosen_channels(model_path, tmp_path, capsys):
    out = tmp_path / "curves.png"
    assert plot_monitor.main([model_path, "-o", str(out), "--channels", "valid_objective"]) == 0
    assert "1 curves" in capsys.readouterr().out and png_size(out)[0] > 100
    plot_monitor.main([model_path, model_path, "-o", str(out), "--x", "epochs"])
    assert "4 curves" in capsys.readouterr().out  # '*objective' twice over two models
    names = ["train_objective", "valid_objective", "learning_rate"]
    assert plot_monitor.select_channels(names, ["*objective"]) == names[:2]


def test_summarize_model(model_path, capsys):
    assert summarize_model.main([model_path]) == 0
    out = capsys.readouterr().out
    model = serial.load(model_path)
    W = model.get_params()[0].get_value()
    assert f"posterior_h_e_1_W: ({W.min():g}, {W.mean():g}, {W.max():g}){W.shape}" in out
    assert "posterior_h_e_1_W row norms:" in out and "trained on 800 examples" in out
    assert out.startswith("(min, mean, max)(shape) of each parameter's values;")
    assert "Trained for 0.000277778 hours (1.0 s)" in out
    assert out.rstrip().endswith("Training succeeded")


# -- bad input -------------------------------------------------------------------------


def one_line_error(capsys, main, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    message = str(info.value.code) if not isinstance(info.value.code, int) else ""
    message += capsys.readouterr().err
    assert info.value.code not in (0, None)
    assert "\n" not in message.strip() and "Traceback" not in message
    return message


def test_bad_inputs_give_one_clear_line(model_path, tmp_path, capsys):
    junk = tmp_path / "junk.pkl"
    junk.write_text("not a pickle")
    assert "not a saved pylearn_vae model" in one_line_error(capsys, nll.main, [str(junk)])
    missing = str(tmp_path / "missing.pkl")
    assert "no such file" in one_line_error(capsys, samples.main, [missing])
    other = tmp_path / "dict.pkl"
    other.write_bytes(pickle.dumps({"a": 1}))
    assert "not a VAE" in one_line_error(capsys, show_weights.main, [str(other)])
    assert "-k" in one_line_error(capsys, nll.main, [model_path, "-k", "0"])
    wrong = (
        "!obj:pylearn_vae.testing.datasets.random_dense_design_matrix {num_examples: 5, "
        "dim: 7, num_classes: 0, rng: !obj:numpy.random.RandomState {seed: 0}}"
    )
    message = one_line_error(capsys, nll.main, [model_path, "--dataset", wrong, "-k", "2"])
    assert "nvis is 784" in message
    blocked = tmp_path / "file.txt"
    blocked.write_text("")
    message = one_line_error(capsys, samples.main, [model_path, "-o", str(blocked / "out.png")])
    assert "output path" in message
    assert "no monitor" in one_line_error(capsys, print_monitor.main, [str(other)])
    assert "no channel matches" in one_line_error(
        capsys, plot_monitor.main, [model_path, "-o", str(tmp_path / "c.png"), "--channels", "x*"]
    )


def test_missing_optional_library_says_what_to_install(model_path, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL.Image", None)  # import now raises ImportError
    message = one_line_error(capsys, samples.main, [model_path, "-o", str(tmp_path / "x.png")])
    assert "pip install 'pylearn-vae[viz]'" in message


def test_dataset_names_and_which_set(model):
    valid = _cli.load_dataset(model, None, "valid")
    # the training set's stop: 400 counted training rows: the valid split is used whole
    assert valid.which_set == "valid" and valid.get_num_examples() == 1000
    assert _cli.load_dataset(model, "mnist10k", "test").get_num_examples() == 1000
    with pytest.raises(_cli.CliError, match="neither a dataset name"):
        _cli.load_dataset(model, "nonsense")


def test_bin_scripts_run_from_a_clone(model_path, tmp_path):
    out = tmp_path / "w.png"
    env = dict(os.environ, PYTHONPATH="")
    done = subprocess.run(
        [sys.executable, os.path.join(REPO, "bin", "show_weights.py"), model_path, "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert out.exists()
    done = subprocess.run(
        [sys.executable, os.path.join(REPO, "bin", "vae_nll.py"), str(tmp_path / "none.pkl")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "no such file" in done.stderr


def test_progress_only_on_request_or_terminal():
    from pylearn_vae.utils.progress import progress

    items = [1, 2, 3]
    assert progress(items) is items  # stderr is captured by pytest: not a terminal
    assert progress(items, enabled=False) is items
    tqdm = pytest.importorskip("tqdm")
    bar = progress(items, desc="x", enabled=True)
    assert isinstance(bar, tqdm.tqdm) and list(bar) == items


@pytest.mark.slow
def test_a_reader_that_stops_early_ends_the_script_quietly(model_path):
    # 2000 reports overflow the pipe's buffer (64 kB) and the reader's (8 kB) many times
    # over, so the script is still writing when `head` (here: one readline)
    # closes the pipe. (200 reports came close to fitting and made the test flaky.)
    script = os.path.join(REPO, "bin", "print_monitor.py")
    proc = subprocess.Popen(
        [sys.executable, script] + [str(model_path)] * 2000,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout.readline().strip() == str(model_path).encode()
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert b"Traceback" not in err and b"BrokenPipe" not in err


def test_latent_chart_stays_readable_with_many_units(tmp_path):
    rng = numpy.random.default_rng(0)
    variance = numpy.where(rng.random(200) < 0.15, 0.5, 0.0)
    report = latent_report.LatentReport(kl=variance * 4, mean_variance=variance, threshold=0.01)
    out = tmp_path / "latent.png"
    latent_report.save_bar_chart(report, str(out))
    assert png_size(out) == (1000, 400)  # not 2400x350 for 200 units


def test_curves_have_a_y_label_and_a_range_set_by_the_later_epochs():
    low, high = plot_monitor.later_range([[543.0, 210.0, 150.0, 120.0, 118.0, 117.0]])
    assert low < 117.0 and 210.0 < high < 300.0  # 543 (before training) is off the axis
    assert plot_monitor.y_label(["train_objective", "valid_objective:m.pkl"]).startswith(
        "objective: -ELBO"
    )
    assert plot_monitor.y_label(["learning_rate"]) == "channel value"
