"""train.py's output modes, run controls, channel logs, training pictures and slips."""

import csv
import os
import shutil
import struct
from pathlib import Path

import numpy
import pytest

from pylearn_vae import backend
from pylearn_vae.scripts import plot_monitor
from pylearn_vae.scripts.train import load_train_file, main
from pylearn_vae.termination_criteria import And, EpochCounter, MonitorBased, Or, epoch_limit
from pylearn_vae.train_extensions import TrainExtension
from pylearn_vae.train_extensions.channel_log import ChannelLog, read_channel_log
from pylearn_vae.utils import serial
from pylearn_vae.utils.progress import format_duration, format_number

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(REPO, "docs", "tutorial_tiny.yaml")


@pytest.fixture
def config(tmp_path, monkeypatch):
    """docs/tutorial_tiny.yaml (2 epochs of a tiny VAE on 400 digits) in a fresh folder."""
    for name in ("PYLEARN2_TRAIN_FILE_FULL_STEM", "PYLEARN2_TRAIN_PHASE"):
        monkeypatch.delenv(name, raising=False)
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    monkeypatch.chdir(tmp_path)
    return Path("tiny.yaml")


def params(path):
    return [numpy.array(p.get_value()) for p in serial.load(str(path)).get_params()]


# -- output --------------------------------------------------------------------------------


def test_default_output_is_one_line_per_step_and_a_summary(config, capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", [os.path.join(REPO, "bin", "train.py")])
    assert main([str(config)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    steps = [line for line in lines if line.startswith("epoch ")]
    assert [s.split()[1] for s in steps] == ["0/2", "1/2", "2/2"]
    assert "train " in steps[-1] and "valid " in steps[-1] and "(expectation " in steps[-1]
    assert "KL " in steps[-1] and "best valid " in steps[-1] and "/epoch" in steps[-1]
    assert steps[-1].endswith("0 s left")
    assert "Monitoring step:" not in out and "Saving to" not in out
    assert "Time this epoch" not in out and "learning rate summary" not in out
    summary = out[out.index("Done in ") :]
    model = serial.load("tiny_best.pkl")
    best = min(model.monitor.channels["valid_objective"].val_record)
    assert f"Best valid_objective: {best:.2f} at epoch" in summary
    for path in ("tiny.pkl", "tiny_best.pkl", "tiny.monitor.csv"):
        assert f"\n  {path} " in summary
    bin_dir = os.path.join(REPO, "bin")
    assert f"Next:\n  python {bin_dir}/vae_nll.py tiny_best.pkl" in summary
    assert f"python {bin_dir}/plot_monitor.py tiny.monitor.csv -o curves.png" in summary


def test_verbose_is_pylearn2s_log_and_quiet_prints_nothing(config, capsys):
    assert main([str(config), "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "Monitoring step:\n\tEpochs seen: 2\n" in out and "Saving to tiny.pkl" in out
    assert "\nepoch 2/2 " not in out
    assert main([str(config), "--quiet", "--out-dir", "quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""


def test_other_libraries_info_stays_out_of_the_output(config, capsys):
    # matplotlib logs "generated new fontManager" at INFO the first time it runs on a
    # machine; after train.py has set up its logging, that must not reach a script's output.
    import logging

    assert main([str(config), "--epochs", "1"]) == 0
    capsys.readouterr()
    logging.getLogger("matplotlib.font_manager").info("generated new fontManager")
    logging.getLogger("matplotlib.font_manager").warning("a warning still shows")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "WARNING (matplotlib.font_manager): a warning still shows\n"


# -- the channel log -----------------------------------------------------------------------


class _ReadsTheLog(TrainExtension):
    """Reads the CSV after each step, as ``tail -f`` would, while training runs."""

    def __init__(self, path):
        self.path = path
        self.rows_seen = []

    def on_monitor(self, model, dataset, algorithm):
        with open(self.path, newline="") as f:
            rows = list(csv.reader(f))
        self.rows_seen.append((model.monitor.get_epochs_seen(), len(rows) - 1))


def test_channel_log_is_written_at_every_step(config, tmp_path):
    train = load_train_file(str(config))
    log_path = str(tmp_path / "log" / "run.csv")
    reader = _ReadsTheLog(log_path)
    train.extensions += [ChannelLog(log_path), reader]
    train.main_loop()
    assert reader.rows_seen == [(0, 1), (1, 2), (2, 3)]
    channels = read_channel_log(log_path)
    monitor = train.model.monitor
    assert set(channels) == set(monitor.channels)
    for name, channel in monitor.channels.items():
        logged = channels[name]
        assert logged.epoch_record == [0, 1, 2]
        assert logged.example_record == channel.example_record
        numpy.testing.assert_allclose(logged.val_record, channel.val_record, rtol=1e-6)


def test_a_continued_run_logs_its_whole_history(config, tmp_path):
    train = load_train_file(str(config))
    train.main_loop()
    log_path = tmp_path / "again.csv"
    log_path.write_text("stale\n")
    log = ChannelLog(str(log_path))
    log.setup(train.model, None, None)
    log.on_monitor(train.model, None, None)  # the monitor already holds 3 steps
    assert [int(e) for e in read_channel_log(str(log_path))["valid_objective"].epoch_record] == [
        0,
        1,
        2,
    ]


def test_plot_monitor_reads_the_csv_log(config, tmp_path, capsys):
    assert main([str(config), "-q"]) == 0
    out = tmp_path / "curves.png"
    assert plot_monitor.main(["tiny.monitor.csv", "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out and out.stat().st_size > 0
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(SystemExit) as info:
        plot_monitor.main([str(bad), "-o", str(out)])
    assert info.value.code == 2
    assert "bad.csv is not a channel log" in capsys.readouterr().err


# -- run controls ---------------------------------------------------------------------------


def test_run_controls_override_the_file_and_are_recorded(config, tmp_path, capsys):
    out_dir = tmp_path / "runs" / "a"
    argv = ["--epochs", "1", "--seed", "7", "--out-dir", str(out_dir), "--floatX", "float64"]
    assert main([str(config), *argv]) == 0
    assert not os.path.exists("tiny.pkl")
    model = serial.load(str(out_dir / "tiny.pkl"))
    assert (out_dir / "tiny_best.pkl").exists() and (out_dir / "tiny.monitor.csv").exists()
    assert model.monitor.get_epochs_seen() == 1
    assert model.tag["train.py"] == {
        "epochs": 1,
        "seed": 7,
        "floatX": "float64",
        "out_dir": str(out_dir),
    }
    assert all(p.get_value().dtype == numpy.float64 for p in model.get_params())
    assert backend.floatX() == "float32"  # the override lasted for the run only
    # the same seed gives the same run, another seed another one
    again = tmp_path / "runs" / "b"
    assert main([str(config), *argv[:-4], "--out-dir", str(again), "--floatX", "float64"]) == 0
    for a, b in zip(params(out_dir / "tiny.pkl"), params(again / "tiny.pkl"), strict=True):
        numpy.testing.assert_array_equal(a, b)
    other = tmp_path / "runs" / "c"
    assert main([str(config), "--epochs", "1", "--seed", "8", "--out-dir", str(other)]) == 0
    first = params(out_dir / "tiny.pkl")[0]
    assert not numpy.allclose(first, params(other / "tiny.pkl")[0])


def test_epochs_with_a_criterion_without_a_counter(config, capsys):
    text = config.read_text().replace(
        "!obj:pylearn_vae.termination_criteria.EpochCounter {\n            max_epochs: 2}",
        "!obj:pylearn_vae.termination_criteria.MonitorBased {\n"
        "            N: 100, channel_name: valid_objective}",
    )
    assert "MonitorBased" in text
    config.write_text(text)
    assert main([str(config), "--epochs", "3", "-q"]) == 0
    assert serial.load("tiny.pkl").monitor.get_epochs_seen() == 3


def test_epoch_limit():
    assert epoch_limit(EpochCounter(5)) == 5
    assert epoch_limit(EpochCounter(5), epochs_seen=3) == 8
    assert epoch_limit(EpochCounter(5, new_epochs=False), epochs_seen=3) == 5
    assert epoch_limit(And([MonitorBased(), EpochCounter(4), EpochCounter(9)])) == 4
    assert epoch_limit(Or([EpochCounter(4), EpochCounter(9)])) == 9
    assert epoch_limit(Or([EpochCounter(4), MonitorBased()])) is None
    assert epoch_limit(None) is None


# -- pictures during training --------------------------------------------------------------


def test_training_images_leave_the_run_unchanged(config, tmp_path):
    assert main([str(config), "-q", "--out-dir", str(tmp_path / "plain")]) == 0
    argv = [str(config), "-q", "--out-dir", str(tmp_path / "pics"), "--images-every", "2"]
    assert main(argv) == 0
    folder = tmp_path / "pics" / "tiny_images"
    assert sorted(os.listdir(folder)) == [
        "recon_0000.png",
        "recon_0002.png",
        "samples_0000.png",
        "samples_0002.png",
    ]
    from PIL import Image

    with Image.open(folder / "samples_0002.png") as image:
        assert image.size == (2 * (10 * 29 + 1), 2 * (10 * 29 + 1))  # 100 samples, zoom 2
    with Image.open(folder / "recon_0002.png") as image:
        grid = numpy.asarray(image)
    # a white strip of column labels above the grid, black text in it
    # 50 inputs and their reconstructions, 10 per row
    assert grid.shape[1] == 2 * (10 * 29 + 1) and grid.shape[0] > 2 * (10 * 29 + 1)
    strip = grid[: grid.shape[0] - 2 * (10 * 29 + 1)]
    assert (strip == 255).mean() > 0.5 and (strip < 128).any()
    plain = params(tmp_path / "plain" / "tiny.pkl")
    for a, b in zip(plain, params(tmp_path / "pics" / "tiny.pkl"), strict=True):
        numpy.testing.assert_array_equal(a, b)


def test_training_images_need_a_vae(tmp_path):
    from pylearn_vae.train_extensions.training_images import TrainingImages

    with pytest.raises(ValueError, match="TrainingImages draws samples .* a VAE"):
        TrainingImages(str(tmp_path)).setup(object(), None, None)
    with pytest.raises(ValueError, match="freq"):
        TrainingImages(str(tmp_path), freq=0)


def _event_scalars(folder):
    """``{tag: [(step, value)]}`` of the TensorBoard event files in ``folder``."""
    return _events(folder)[0]


def _events(folder):
    """``({tag: [(step, value)]}, {tag: [(step, grey uint8 picture)]})`` of the
    TensorBoard event files in ``folder``, read back from the files."""
    import io

    from PIL import Image
    from tensorboardX.proto import event_pb2

    scalars, pictures = {}, {}
    for name in os.listdir(folder):
        data = (folder / name).read_bytes()
        at = 0
        while at < len(data):
            (length,) = struct.unpack("<Q", data[at : at + 8])
            event = event_pb2.Event.FromString(data[at + 12 : at + 12 + length])
            at += 12 + length + 4
            for value in event.summary.value:
                if value.HasField("image"):
                    with Image.open(io.BytesIO(value.image.encoded_image_string)) as image:
                        picture = numpy.asarray(image.convert("L"))
                    pictures.setdefault(value.tag, []).append((event.step, picture))
                else:
                    scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars, pictures


def test_tensorboard_event_files(config, tmp_path):
    pytest.importorskip("tensorboardX")
    assert main([str(config), "-q", "--tensorboard", str(tmp_path / "tb")]) == 0
    scalars = _event_scalars(tmp_path / "tb")
    model = serial.load("tiny.pkl")
    record = model.monitor.channels["valid_objective"].val_record
    assert [step for step, _ in scalars["valid_objective"]] == [0, 1, 2]
    numpy.testing.assert_allclose([v for _, v in scalars["valid_objective"]], record, rtol=1e-6)


def test_tensorboard_gets_the_training_pictures(config, tmp_path):
    pytest.importorskip("tensorboardX")
    from PIL import Image

    argv = [str(config), "-q", "--tensorboard", str(tmp_path / "tb"), "--images-every", "2"]
    assert main(argv) == 0
    scalars, pictures = _events(tmp_path / "tb")
    assert "valid_objective" in scalars
    assert sorted(pictures) == ["reconstructions", "samples"]
    for tag, stem in (("samples", "samples"), ("reconstructions", "recon")):
        assert [step for step, _ in pictures[tag]] == [0, 2]
        for step, picture in pictures[tag]:
            png = next(Path(".").glob(f"**/{stem}_{step:04d}.png"))
            with Image.open(png) as image:
                numpy.testing.assert_array_equal(picture, numpy.asarray(image.convert("L")))


# -- slips ------------------------------------------------------------------------------------


def test_a_model_file_or_a_missing_extension_gets_one_line(config, capsys):
    assert main([str(config), "-q", "--epochs", "1"]) == 0
    assert main(["tiny.pkl"]) == 2  # an input error
    err = capsys.readouterr().err
    assert "tiny.pkl is a model file (a pickle), not a YAML configuration" in err
    assert "UnicodeDecodeError" not in err
    assert main(["tiny"]) == 2
    assert "tiny: no such file; did you mean tiny.yaml?" in capsys.readouterr().err


def test_time_budget_is_a_normal_stop(config, capsys):
    # The budget is checked before each epoch; monitoring at epoch 0 alone takes longer
    # than 0 seconds, so -t 0 stops before any training.
    from pylearn_vae.scripts.train import make_argument_parser

    args = make_argument_parser().parse_args([str(config)])
    from pylearn_vae.scripts.train import train

    train(str(config), time_budget=0, run_args=args)
    captured = capsys.readouterr()
    assert "Time budget of 0.000000 seconds spent" in captured.out
    assert "WARNING" not in captured.out + captured.err
    assert "(stopped by the time budget)" in captured.out


def test_a_run_resumed_after_its_budget_ran_out_finishes_without_the_budget_note(
    config, capsys
):
    """The budget note is about the sitting that ran out, not a later one that finishes."""
    from pylearn_vae.scripts.train import make_argument_parser, train

    train(str(config), time_budget=0, run_args=make_argument_parser().parse_args([str(config)]))
    assert "(stopped by the time budget)" in capsys.readouterr().out
    assert main([str(config), "--resume"]) == 0
    out = capsys.readouterr().out
    assert "Resuming from the checkpoint" in out
    assert "(stopped by the time budget)" not in out
    model = serial.load(str(config.with_suffix(".pkl")))
    assert model.monitor.get_epochs_seen() == 2
    assert not model.monitor.time_budget_exceeded


def test_number_and_duration_formats():
    assert format_number(9.999999747378752e-05) == "1e-04"
    assert format_number(205.61234) == "205.6"
    assert format_number(0.01) == "0.01"
    assert format_number(12345.6) == "1.235e+04"
    assert format_number(0.009999999776482582, digits=6) == "0.01"  # float32 0.01
    assert format_number(113.29123, digits=6) == "113.291"
    assert format_duration(0.42) == "0.42 s"
    assert format_duration(389.6) == "6 min 30 s"
    assert format_duration(7384) == "2 h 03 min"


def test_the_batch_bar_names_the_epoch_out_of_the_total():
    from types import SimpleNamespace

    from pylearn_vae.training_algorithms.sgd import _epoch_label

    counter = EpochCounter(300)
    model = SimpleNamespace(monitor=SimpleNamespace(get_epochs_seen=lambda: 0))
    assert counter.continue_learning(model)  # the counter counts from epoch 0
    assert _epoch_label(151, counter) == "epoch 151/300"
    assert _epoch_label(151, MonitorBased()) == "epoch 151"
