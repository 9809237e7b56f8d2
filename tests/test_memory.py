"""pylearn_vae.accel.memory: glibc's malloc thresholds, set by the scripts for their
process; the page faults of the NLL evaluation's big arrays, counted."""

import os
import subprocess
import sys
import textwrap

import pytest

from pylearn_vae.accel import memory

GLIBC = sys.platform.startswith("linux") and memory._mallopt() is not None

# Allocates and frees two 31 MB arrays and a smaller one 20 times (as an NLL call's
# big arrays come and go) and prints the page faults that took.
_FAULTS = textwrap.dedent(
    """
    import resource, sys
    import numpy
    from pylearn_vae.accel.memory import retain_freed_memory
    applied = retain_freed_memory() if sys.argv[1] == "retain" else False
    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    numpy.ones((10000, 784), numpy.float32)
    before = faults()
    for _ in range(20):
        a = numpy.ones((10000, 784), numpy.float32)
        b = numpy.ones((10000, 784), numpy.float32)
        c = numpy.ones((2000, 784), numpy.float32)
        del a, b, c
    print(applied, faults() - before)
    """
)


def _faults(mode, **extra):
    env = {k: v for k, v in os.environ.items() if k not in memory.USER_VARIABLES}
    env.update(extra)
    out = subprocess.run(
        [sys.executable, "-c", _FAULTS, mode],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    ).stdout.split()
    return out[0] == "True", int(out[1])


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt only")
def test_retained_memory_stops_the_page_faults_of_a_big_array_freed_and_made_again():
    applied, retained = _faults("retain")
    assert applied
    _, default = _faults("default")
    # 31 MB is 7,700 pages: with glibc's defaults the freed top of the heap goes back
    # to the system and its pages fault in again (about 1,500 a round here).
    assert default > 20 * 500
    assert retained < default / 10


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt only")
def test_the_opt_out_and_the_users_own_settings_are_respected():
    assert _faults("retain", PYLEARN_VAE_RETAIN_MEMORY="0")[0] is False
    for name in memory.USER_VARIABLES:
        assert memory.retain_freed_memory(environ={name: "x"}) is False
    assert memory.retain_freed_memory(environ={memory.OPT_OUT_VARIABLE: "0"}) is False


def test_off_glibc_it_does_nothing(monkeypatch):
    monkeypatch.setattr(memory, "_mallopt", lambda: None)
    assert memory.retain_freed_memory(environ={}) is False
