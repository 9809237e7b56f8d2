"""A sweep's local Dask cluster belongs to its owner: TLS with temporary credentials, so
a client without them cannot connect or run a task; no dashboard unless asked, and then
on 127.0.0.1. The cluster runs in a subprocess (its threads and sockets stay there)."""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("distributed")
pytest.importorskip("cryptography")

from pylearn_vae.sweep import runner  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.slow  # one Dask cluster in a subprocess for the module: over a second

SCRIPT = '''
import json, urllib.error, urllib.request
from dask.distributed import Client
from pylearn_vae.sweep import runner


def answer():
    return 42


if __name__ == "__main__":
    client, cluster = runner.connect(workers=1)
    report = {"address": cluster.scheduler_address,
              "owner": client.submit(answer).result(timeout=60), "intruders": {}}
    for scheme in ("tls://", "tcp://"):
        try:
            intruder = Client(cluster.scheduler_address.replace("tls://", scheme), timeout="3s")
            report["intruders"][scheme] = intruder.submit(answer).result(timeout=5)
            intruder.close()
        except Exception as exc:
            report["intruders"][scheme] = "refused: " + type(exc).__name__
    http = cluster.scheduler.http_server
    report["http_hosts"] = sorted({s.getsockname()[0] for s in http._sockets.values()})
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{http.port}/status", timeout=10)
        report["status_page"] = 200
    except urllib.error.HTTPError as exc:
        report["status_page"] = exc.code
    client.close()
    cluster.close()
    print("REPORT " + json.dumps(report))
'''


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    script = tmp_path_factory.mktemp("sweep_security") / "cluster.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=REPO)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, timeout=300)
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    assert lines, done.stderr[-2000:]
    return json.loads(lines[0][len("REPORT "):])


def test_the_owner_runs_tasks_over_tls_on_127_0_0_1(report):
    assert report["address"].startswith("tls://127.0.0.1:")
    assert report["owner"] == 42


@pytest.mark.parametrize("scheme", ["tls://", "tcp://"])
def test_a_client_without_the_credentials_cannot_submit(report, scheme):
    assert str(report["intruders"][scheme]).startswith("refused: ")


def test_no_dashboard_and_http_on_127_0_0_1_only(report):
    assert report["http_hosts"] == ["127.0.0.1"]
    assert report["status_page"] == 404  # the dashboard's page is not served


@pytest.mark.parametrize(
    "given,address",
    [(None, None), (":8787", "127.0.0.1:8787"), (":0", "127.0.0.1:0"), ("0.0.0.0:1", "0.0.0.0:1")],
)
def test_dashboard_address(given, address):
    assert runner.dashboard_address(given) == address
