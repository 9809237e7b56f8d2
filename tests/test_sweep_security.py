"""A sweep's local Dask cluster belongs to its owner: TLS with temporary credentials, so
a client without them cannot connect or run a task; no dashboard unless asked, and then
on 127.0.0.1."""

import pytest

pytest.importorskip("distributed")
pytest.importorskip("cryptography")

from pylearn_vae.sweep import runner  # noqa: E402


def _answer():
    return 42


@pytest.fixture(scope="module")
def cluster():
    client, cluster = runner.connect(workers=1)
    yield client, cluster
    client.close()
    cluster.close()


def test_the_owner_runs_tasks_over_tls(cluster):
    client, local = cluster
    assert local.scheduler_address.startswith("tls://127.0.0.1:")
    assert client.submit(_answer).result(timeout=60) == 42


@pytest.mark.parametrize("scheme", ["tls://", "tcp://"])
def test_a_client_without_the_credentials_cannot_submit(cluster, scheme):
    from dask.distributed import Client

    address = cluster[1].scheduler_address.replace("tls://", scheme)
    with pytest.raises((OSError, TypeError, ValueError)):
        intruder = Client(address, timeout="3s")
        try:  # pragma: no cover - reached only if the connection were accepted
            intruder.submit(_answer).result(timeout=5)
        finally:
            intruder.close()


def test_no_dashboard_and_http_on_127_0_0_1_only(cluster):
    import urllib.error
    import urllib.request

    scheduler = cluster[1].scheduler
    sockets = scheduler.http_server._sockets.values()
    assert {sock.getsockname()[0] for sock in sockets} == {"127.0.0.1"}
    port = scheduler.http_server.port
    with pytest.raises(urllib.error.HTTPError) as info:  # the dashboard's page is not there
        urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=10)
    assert info.value.code == 404


@pytest.mark.parametrize(
    "given,address",
    [(None, None), (":8787", "127.0.0.1:8787"), (":0", "127.0.0.1:0"), ("0.0.0.0:1", "0.0.0.0:1")],
)
def test_dashboard_address(given, address):
    assert runner.dashboard_address(given) == address
