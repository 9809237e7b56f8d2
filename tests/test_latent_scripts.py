"""The latent-space scripts (manifold, scatter, interpolation, demo page export) on tiny
VAEs trained by hand: a 2-D one and a 5-D one.

The demo page itself runs in a browser in tests/test_demo_page.py.
"""

import base64
import json
import os
import subprocess
import sys
import urllib.request

import numpy
import pytest
from scipy.stats import norm
from test_eval_scripts import REPO, TRAIN_SRC, one_line_error, png_size

from pylearn_vae import backend
from pylearn_vae.datasets.mnist10k import MNIST10k
from pylearn_vae.models.mlp import RectifiedLinear
from pylearn_vae.scripts import _latent, demo, interpolate, latent_report, latent_scatter, manifold
from pylearn_vae.testing.models import tiny_vae, train_by_hand
from pylearn_vae.utils import images, serial

PIL = pytest.importorskip("PIL.Image")


def trained(nhid, path):
    model = tiny_vae(nhid=nhid)
    objectives = train_by_hand(model, MNIST10k("train", stop=400).get_design_matrix())
    assert objectives[-1] < objectives[0]
    model.dataset_yaml_src = TRAIN_SRC
    serial.save(str(path), model)
    return str(path)


@pytest.fixture(scope="module")
def path_2d(tmp_path_factory):
    """A 2-D VAE (20-unit layers) after 2 epochs of SGD on 400 MNIST10k digits."""
    return trained(2, tmp_path_factory.mktemp("model") / "tiny2d.pkl")


@pytest.fixture(scope="module")
def path_5d(tmp_path_factory):
    return trained(5, tmp_path_factory.mktemp("model") / "tiny5d.pkl")


def mnist_test_digits():
    return MNIST10k("test").get_design_matrix()


def decode64(model, z):
    """E[x|z] computed in float64 (the weights are float32, z float64)."""
    theta = model.decode_theta(numpy.asarray(z, dtype="float64"))
    return backend.to_host(model.means_from_theta(theta)).astype("float64")


def encode64(model, X):
    mu, log_sigma = model.encode_phi(numpy.asarray(X, dtype="float64"))
    return backend.to_host(mu).astype("float64"), backend.to_host(log_sigma).astype("float64")


def prior(model):
    mu, log_sigma = (backend.to_host(t).astype("float64") for t in model.get_prior_theta())
    return mu, numpy.exp(log_sigma)


# -- manifold ------------------------------------------------------------------------


def test_manifold_2d_decodes_the_prior_quantile_grid(path_2d, tmp_path, capsys):
    model = serial.load(path_2d)
    model.prior.prior_mu.set_value(numpy.array([0.5, -1.0], dtype="float32"))
    model.prior.log_prior_sigma.set_value(numpy.array([0.2, -0.3], dtype="float32"))
    n = 5
    result = manifold.manifold(model, n)
    mu, sigma = prior(model)
    q = norm.ppf((numpy.arange(n) + 0.5) / n)
    grid = result.z.reshape((n, n, 2))
    # x axis: unit 0 increasing left to right; y axis: unit 1 increasing bottom to top.
    numpy.testing.assert_allclose(grid[:, :, 0], numpy.tile(mu[0] + sigma[0] * q, (n, 1)))
    numpy.testing.assert_allclose(grid[:, :, 1], numpy.tile(mu[1] + sigma[1] * q[::-1, None], n))
    numpy.testing.assert_allclose(result.means, decode64(model, result.z), atol=1e-6)
    assert result.units == (0, 1) and "z0 left to right" in result.title

    out = tmp_path / "manifold.png"
    serial.save(str(tmp_path / "m.pkl"), model)
    assert manifold.main([str(tmp_path / "m.pkl"), "-o", str(out), "-n", str(n)]) == 0
    assert "z1 bottom to top" in capsys.readouterr().out
    width, height = png_size(out)
    side = n * 29 + 1
    assert width == side and height > side
    with PIL.open(out) as image:
        pixels = numpy.asarray(image)
    expected = images.tile_images(decode64(model, result.z).reshape((-1, 28, 28)), cols=n)
    assert numpy.abs(pixels[height - side :].astype(int) - expected).max() <= 1
    assert pixels[: height - side].min() < 100  # the title band holds dark text


def test_manifold_of_a_larger_model_uses_the_two_most_active_units(path_5d, tmp_path, capsys):
    model = serial.load(path_5d)
    X = mnist_test_digits()
    kl = latent_report.latent_report(model, X).kl
    a, b = numpy.argsort(-kl)[:2]
    result = manifold.manifold(model, 4, X=X)
    assert result.units == (a, b)
    mu, sigma = prior(model)
    others = [j for j in range(5) if j not in (a, b)]
    numpy.testing.assert_allclose(result.z[:, others], numpy.tile(mu[others], (16, 1)))
    numpy.testing.assert_allclose(
        numpy.unique(result.z[:, a]), mu[a] + sigma[a] * norm.ppf((numpy.arange(4) + 0.5) / 4)
    )
    numpy.testing.assert_allclose(result.means, decode64(model, result.z), atol=1e-6)
    assert "two most active of 5" in result.title and "prior mean" in result.title

    out = tmp_path / "m5.png"
    assert manifold.main([path_5d, "-o", str(out), "-n", "4", "--zoom", "2"]) == 0
    assert f"units {a} (left to right) and {b}" in capsys.readouterr().out
    assert png_size(out)[0] == 2 * (4 * 29 + 1)
    chosen = manifold.manifold(model, 3, units=(4, 1))
    assert chosen.units == (4, 1) and "most active" not in chosen.title
    message = one_line_error(capsys, manifold.main, [path_5d, "--units", "1,1", "-o", str(out)])
    assert "two different units" in message


# -- scatter -------------------------------------------------------------------------


def test_scatter_2d_points_are_the_posterior_means(path_2d, tmp_path, capsys):
    model = serial.load(path_2d)
    dataset = MNIST10k("test", stop=300)
    X = dataset.get_design_matrix()
    means, panels = latent_scatter.scatter_panels(model, X)
    numpy.testing.assert_allclose(means, encode64(model, X)[0], atol=1e-5)
    assert len(panels) == 1 and (panels[0].xlabel, panels[0].ylabel) == ("z0", "z1")
    labels = _latent.dataset_labels(dataset)
    numpy.testing.assert_array_equal(labels, dataset.labels)
    fig = latent_scatter.draw_scatter(panels, labels)
    collection = fig.axes[0].collections[0]
    numpy.testing.assert_allclose(collection.get_offsets(), means)
    numpy.testing.assert_array_equal(collection.get_array(), labels)

    out = tmp_path / "scatter.png"
    assert latent_scatter.main([path_2d, "-o", str(out), "--limit", "300"]) == 0
    assert "300 points, 600x540 pixels" in capsys.readouterr().out
    assert png_size(out) == (600, 540)


def test_scatter_of_a_larger_model_shows_active_units_and_pca(path_5d, tmp_path):
    model = serial.load(path_5d)
    X = MNIST10k("test", stop=300).get_design_matrix()
    means, (active, pca) = latent_scatter.scatter_panels(model, X)
    kl = latent_report.latent_report(model, X).kl
    a, b = numpy.argsort(-kl)[:2]
    numpy.testing.assert_allclose(active.points, means[:, [a, b]])
    assert (active.xlabel, active.ylabel) == (f"z{a}", f"z{b}")
    # The PCA panel: the centred means' coordinates on their two leading directions.
    centred = means - means.mean(axis=0)
    eigenvalues, eigenvectors = numpy.linalg.eigh(numpy.cov(centred.T))
    leading = eigenvectors[:, ::-1][:, :2]
    numpy.testing.assert_allclose(numpy.abs(pca.points), numpy.abs(centred @ leading), atol=1e-8)
    assert pca.points[:, 0].var() >= pca.points[:, 1].var()
    out = tmp_path / "s5.png"
    assert latent_scatter.main([path_5d, "-o", str(out), "--limit", "300"]) == 0
    assert png_size(out) == (1200, 540)


def test_labels_from_a_dense_design_matrix_and_none():
    from pylearn_vae.testing.datasets import random_dense_design_matrix

    rng = numpy.random.RandomState(0)
    labelled = random_dense_design_matrix(rng, 6, 3, 4)
    numpy.testing.assert_array_equal(_latent.dataset_labels(labelled), labelled.y[:, 0])
    assert _latent.dataset_labels(random_dense_design_matrix(rng, 6, 3, None)) is None


# -- interpolation -------------------------------------------------------------------


def test_interpolation_rows_end_at_the_real_digits(path_2d, tmp_path, capsys):
    model = serial.load(path_2d)
    X = mnist_test_digits()
    rows, z = interpolate.interpolation_rows(model, X, [(3, 7), (10, 42)], steps=6)
    assert rows.shape == (2 * 8, 784) and z.shape == (2, 6, 2)
    mu = encode64(model, X[[3, 7, 10, 42]])[0]
    for k, (i, j) in enumerate([(3, 7), (10, 42)]):
        row = rows[8 * k : 8 * (k + 1)]
        numpy.testing.assert_array_equal(row[0], X[i])
        numpy.testing.assert_array_equal(row[-1], X[j])
        numpy.testing.assert_allclose(z[k, 0], mu[2 * k], atol=1e-5)
        numpy.testing.assert_allclose(z[k, -1], mu[2 * k + 1], atol=1e-5)
        numpy.testing.assert_allclose(z[k, 2], 0.6 * mu[2 * k] + 0.4 * mu[2 * k + 1], atol=1e-5)
        numpy.testing.assert_allclose(row[1:-1], decode64(model, z[k]), atol=1e-6)

    out = tmp_path / "interp.png"
    argv = [path_2d, "-o", str(out), "--pairs", "3,7", "10,42", "--steps", "6", "--zoom", "1"]
    assert interpolate.main(argv) == 0
    printed = capsys.readouterr().out
    assert "pairs 3,7 10,42" in printed
    # a title, a strip naming the columns (x_i, t=0 ... t=1, x_j), the 2 rows of 8 images
    title = (
        "E[x|z] along straight lines between the posterior means of test digits i and j "
        "(rows: pairs 3,7 10,42)"
    )
    top = images.title_band(8 * 29 + 1, title).shape[0] + 15
    assert png_size(out) == (8 * 29 + 1, top + 2 * 29 + 1)
    assert f"{8 * 29 + 1}x{top + 2 * 29 + 1} pixels" in printed
    with PIL.open(out) as image:
        pixels = numpy.asarray(image)
    grid = pixels[top:]
    numpy.testing.assert_array_equal(grid[1:29, 1:29], numpy.round(X[3] * 255).reshape(28, 28))
    assert (pixels[:top] < 100).any()  # the labels' dark text
    assert interpolate.main(argv[:-2]) == 0  # by default 3x: 28 pixels are small on a screen
    assert png_size(out)[0] == 3 * (8 * 29 + 1)
    assert f"{3 * (8 * 29 + 1)}x{png_size(out)[1]} pixels" in capsys.readouterr().out


def test_random_pairs_are_reproducible_and_bad_pairs_are_refused(path_2d, tmp_path, capsys):
    first = interpolate.random_pairs(1000, 4, seed=5)
    assert first == interpolate.random_pairs(1000, 4, seed=5)
    assert first != interpolate.random_pairs(1000, 4, seed=6)
    assert all(i != j and 0 <= i < 1000 and 0 <= j < 1000 for i, j in first)
    out = str(tmp_path / "i.png")
    assert "0..999" in one_line_error(  # the test split whole (the training stop: 400 is not kept)
        capsys, interpolate.main, [path_2d, "-o", out, "--pairs", "3,1000"]
    )
    assert "A,B" in one_line_error(capsys, interpolate.main, [path_2d, "--pairs", "3-7"])
    assert "at least its 2" in one_line_error(
        capsys, interpolate.main, [path_2d, "-o", out, "--steps", "1"]
    )


# -- the demo page's export ------------------------------------------------------------


def run_exported(data, name, x):
    """Run an exported MLP (the page's JSON) in NumPy, as the page's JavaScript does."""
    weights = numpy.frombuffer(base64.b64decode(data["weights"]), dtype="<f4").astype("float64")
    activations = {
        "Linear": lambda v, layer: v,
        "RectifiedLinear": lambda v, layer: numpy.where(v > 0, v, layer["leftSlope"] * v),
        "Tanh": lambda v, layer: numpy.tanh(v),
        "Sigmoid": lambda v, layer: 1 / (1 + numpy.exp(-v)),
        "Softplus": lambda v, layer: numpy.logaddexp(0, v),
    }

    def dense(layer, state):
        offset, rows, cols = layer["W"]
        out = state @ weights[offset : offset + rows * cols].reshape(rows, cols)
        if layer["b"]:
            out = out + weights[layer["b"][0] : layer["b"][0] + cols]
        return activations[layer["type"]](out, layer)

    state = numpy.asarray(x, dtype="float64")
    for layer in data[name]:
        if layer["type"] == "Composite":
            state = [dense(branch, state) for branch in layer["branches"]]
        else:
            state = dense(layer, state)
    return state


def test_exported_weights_compute_the_models_encoder_and_decoder(path_5d):
    model = serial.load(path_5d)
    dataset = MNIST10k("test", stop=50)
    X = dataset.get_design_matrix()
    data = demo.export_model(model, X, dataset.labels, num_sliders=3, num_examples=4)
    z = numpy.random.RandomState(0).randn(7, 5)
    logits = run_exported(data, "decoder", z)
    numpy.testing.assert_allclose(1 / (1 + numpy.exp(-logits)), decode64(model, z), atol=1e-6)
    mu, log_sigma = run_exported(data, "encoder", X)
    expected_mu, expected_log_sigma = encode64(model, X)
    numpy.testing.assert_allclose(mu, expected_mu, atol=1e-6)
    numpy.testing.assert_allclose(log_sigma, expected_log_sigma, atol=1e-6)
    assert [layer["type"] for layer in data["encoder"]] == ["RectifiedLinear", "Composite"]
    kl = latent_report.latent_report(model, X).kl
    assert data["sliderUnits"] == [int(u) for u in numpy.argsort(-kl)[:3]]
    mean, std = prior(model)
    numpy.testing.assert_allclose(data["prior"]["mean"], mean)
    numpy.testing.assert_allclose(data["prior"]["std"], std)
    pixels = numpy.frombuffer(base64.b64decode(data["examples"]["pixels"]), dtype="uint8")
    numpy.testing.assert_array_equal(pixels.reshape(4, 784), numpy.round(X[:4] * 255))
    assert data["examples"]["labels"] == [int(v) for v in dataset.labels[:4]]
    assert len(data["points"]["x"]) == 50


class ClippedRectifiedLinear(RectifiedLinear):
    """A layer type the demo page does not know."""


def test_a_layer_the_page_cannot_run_exits_2_naming_it(path_2d, tmp_path, capsys):
    model = serial.load(path_2d)
    layer = model.conditional.mlp.layers[0]
    layer.__class__ = ClippedRectifiedLinear
    bad = tmp_path / "bad.pkl"
    serial.save(str(bad), model)
    # The user allows their own layer's module, as they would for any class of theirs.
    argv = [str(bad), "-o", str(tmp_path / "page"), "--allow-module", __name__]
    assert demo.main(argv) == 2
    err = capsys.readouterr().err
    assert "decoder layer 'h_d_1'" in err and "ClippedRectifiedLinear" in err
    assert err.count("\n") == 1 and not (tmp_path / "page").exists()


def test_demo_writes_one_self_contained_page(path_2d, tmp_path, capsys):
    folder = tmp_path / "demo"
    assert demo.main([path_2d, "-o", str(folder)]) == 0
    assert "index.html" in capsys.readouterr().out
    assert sorted(os.listdir(folder)) == ["index.html"]
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html and "<script src" not in html
    start = html.index('<script id="vae-data" type="application/json">') + 46
    data = json.loads(html[start : html.index("</script>", start)])
    assert data["nhid"] == 2 and data["sliderUnits"] == [0, 1] and data["examples"]["count"] == 20
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert "is a file" in one_line_error(capsys, demo.main, [path_2d, "-o", str(blocked)])


def test_demo_serve_answers_on_localhost(path_2d, tmp_path):
    script = os.path.join(REPO, "bin", "vae_demo.py")
    proc = subprocess.Popen(
        [sys.executable, script, path_2d, "-o", str(tmp_path / "d"), "--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert "wrote" in proc.stdout.readline()
        line = proc.stdout.readline()
        assert line.startswith("serving ") and "http://127.0.0.1:" in line
        url = line.split(" at ")[1].split()[0]
        with urllib.request.urlopen(url + "index.html", timeout=30) as response:
            assert b"window.vaeDemo" in response.read()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()


def test_a_model_with_no_active_unit_gets_one_warning_line(path_2d, tmp_path, capsys):
    model = serial.load(path_2d)
    for param in model.posterior.get_params():  # q(z|x) no longer depends on x
        param.set_value(numpy.zeros_like(param.get_value()))
    collapsed = str(tmp_path / "collapsed.pkl")
    serial.save(collapsed, model)
    runs = [
        (manifold.main, [collapsed, "-o", str(tmp_path / "m.png"), "-n", "3"], "vae_manifold.py"),
        (latent_scatter.main, [collapsed, "-o", str(tmp_path / "s.png")], "vae_latent_scatter.py"),
        (
            interpolate.main,
            [collapsed, "-o", str(tmp_path / "i.png"), "-n", "1"],
            "vae_interpolate.py",
        ),
        (demo.main, [collapsed, "-o", str(tmp_path / "demo")], "vae_demo.py"),
    ]
    for main, argv, prog in runs:
        assert main(argv) == 0
        err = capsys.readouterr().err
        assert err.startswith(f"{prog}: warning: no latent unit of the model is active (0 of 2")
        assert err.count("\n") == 1 and "vae_latent_report" in err
    assert manifold.main([path_2d, "-o", str(tmp_path / "m.png"), "-n", "3"]) == 0
    assert capsys.readouterr().err == ""  # a model that uses its latent space: no warning
