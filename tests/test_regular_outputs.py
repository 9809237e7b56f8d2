"""Outputs go only to regular files: a symbolic link, a device node or a FIFO at an
output path is refused in one line, and nothing is written through it."""

import os

import numpy
import pytest

from pylearn_vae.scripts import train as train_script
from pylearn_vae.utils import images, serial

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(REPO, "docs", "tutorial_tiny.yaml")


@pytest.fixture
def targets(tmp_path):
    """A FIFO, a link to /dev/null, a link to a regular file, and that file."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    fifo = tmp_path / "fifo.pkl"
    os.mkfifo(fifo)
    to_null = tmp_path / "null.pkl"
    to_null.symlink_to(os.devnull)
    to_file = tmp_path / "link.pkl"
    to_file.symlink_to(victim)
    return {"fifo": fifo, "null": to_null, "link": to_file, "victim": victim}


@pytest.mark.parametrize(
    "name,kind", [("fifo", "a FIFO"), ("null", "a symbolic link"), ("link", "a symbolic link")]
)
def test_save_refuses_what_is_not_a_regular_file(targets, name, kind):
    path = targets[name]
    with pytest.raises(serial.NotARegularFileError) as info:
        serial.save(str(path), {"a": 1})
    assert str(info.value).startswith(f"{path} is {kind}")
    assert "\n" not in str(info.value)
    assert targets["victim"].read_text() == "keep me"
    assert os.path.islink(targets["null"]) and os.path.islink(targets["link"])
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "fifo.pkl", "link.pkl", "null.pkl", "victim.txt"
    ]  # no temporary file left behind


def test_save_refuses_a_device_node():
    with pytest.raises(serial.NotARegularFileError, match="is a character device"):
        serial.save(os.devnull, [1, 2])


@pytest.mark.parametrize("name", ["fifo", "null", "link"])
@pytest.mark.parametrize("mode", ["w", "a"])
def test_open_output_refuses_without_blocking_or_following(targets, name, mode):
    with pytest.raises(serial.NotARegularFileError):
        serial.open_output(targets[name], mode, encoding="utf-8")
    assert targets["victim"].read_text() == "keep me"


def test_open_output_writes_and_appends_a_regular_file(tmp_path):
    path = tmp_path / "log.csv"
    with serial.open_output(path, encoding="utf-8") as f:
        f.write("a\n")
    with serial.open_output(path, "a", encoding="utf-8") as f:
        f.write("b\n")
    assert path.read_text() == "a\nb\n"
    with serial.open_output(path, encoding="utf-8") as f:
        f.write("c\n")
    assert path.read_text() == "c\n"


def test_save_replaces_a_regular_file(tmp_path):
    path = tmp_path / "model.pkl"
    serial.save(str(path), 1)
    serial.save(str(path), 2)
    assert serial.load(str(path)) == 2


def test_a_picture_is_not_written_through_a_link(targets):
    with pytest.raises(serial.NotARegularFileError):
        images.save_png(numpy.zeros((4, 4), dtype="uint8"), targets["link"])
    assert targets["victim"].read_text() == "keep me"


def _job(tmp_path):
    path = tmp_path / "job.yaml"
    with open(TINY, encoding="utf-8") as f:
        path.write_text(f.read())
    return path


@pytest.mark.parametrize("output", ["job.pkl", "job_best.pkl", "job.ckpt.pkl", "job.monitor.csv"])
@pytest.mark.parametrize("flag", [[], ["--overwrite"]])
def test_train_refuses_a_link_at_any_output_before_writing(tmp_path, capsys, output, flag):
    job = _job(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / output).symlink_to(victim)
    status = train_script.main([*flag, str(job)])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert "\n" not in err and output in err and "symbolic link" in err
    assert victim.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["job.yaml", "victim.txt", output])


def test_train_refuses_a_fifo_as_its_monitor_log(tmp_path, capsys):
    job = _job(tmp_path)
    os.mkfifo(tmp_path / "job.monitor.csv")
    assert train_script.main([str(job)]) == 2
    assert "job.monitor.csv is a FIFO" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.monitor.csv", "job.yaml"]
