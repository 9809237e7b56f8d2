"""The demo page (bin/vae_demo.py) in a real browser: headless Chromium via selenium.

The page's JavaScript must compute what the model computes in Python: decoded means
for the sliders' z (to 1e-4, and the canvas to 8-bit rounding), and the posterior of
a digit drawn with the mouse (from the 28x28 pixels the page fed its encoder).
"""

import numpy
import pytest
from test_latent_scripts import decode64, encode64, path_2d, path_5d  # noqa: F401 (fixtures)

from pylearn_vae.scripts import demo
from pylearn_vae.testing import browser
from pylearn_vae.utils import serial

MISSING = browser.missing_browser()
pytestmark = [
    pytest.mark.skipif(MISSING is not None, reason=MISSING or ""),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def driver():
    chromium = browser.chromium()
    yield chromium
    chromium.quit()


def open_page(driver, model_path, folder, *options):
    assert demo.main([model_path, "-o", str(folder), *options]) == 0
    driver.get((folder / "index.html").resolve().as_uri())
    ready = driver.execute_script("return Boolean(window.vaeDemo && window.vaeDemo.ready)")
    error = driver.find_element("id", "error").text
    assert ready and not error, error


def page(driver, expression, *args):
    return driver.execute_script(f"return {expression};", *args)


@pytest.fixture(scope="module")
def page_2d(driver, path_2d, tmp_path_factory):  # noqa: F811
    open_page(driver, path_2d, tmp_path_factory.mktemp("demo") / "demo")
    return serial.load(path_2d)


def test_sliders_redraw_the_decoded_digit(driver, page_2d):
    model = page_2d
    assert page(driver, "window.vaeDemo.sliderUnits") == [0, 1]
    for values in ([0.7, -1.3], [-2.0, 0.25]):
        for unit, value in enumerate(values):
            driver.execute_script(
                "const s = document.getElementById(arguments[0]);"
                "s.value = arguments[1]; s.dispatchEvent(new Event('input'));",
                f"slider-{unit}",
                value,
            )
        z = numpy.asarray(page(driver, "window.vaeDemo.getLatent()"))
        # A slider snaps to its step (sigma / 100) from its minimum (mean - 3 sigma).
        numpy.testing.assert_allclose(z, values, atol=0.02)
        expected = decode64(model, z[None])[0]
        computed = numpy.asarray(page(driver, "window.vaeDemo.decodedValues()"))
        numpy.testing.assert_allclose(computed, expected, atol=1e-4)
        pixels = numpy.asarray(page(driver, "window.vaeDemo.decodedPixels()"))
        assert numpy.abs(pixels - numpy.round(255 * expected)).max() <= 1


def test_set_latent_and_decode_hooks(driver, page_2d):
    z = numpy.random.RandomState(3).randn(4, 2) * 2
    for row in z:
        computed = page(driver, "window.vaeDemo.setLatent(arguments[0])", row.tolist())
        numpy.testing.assert_allclose(computed, decode64(page_2d, row[None])[0], atol=1e-4)
    pure = page(driver, "window.vaeDemo.decode(arguments[0])", [0.1, 0.2])
    numpy.testing.assert_allclose(pure, decode64(page_2d, [[0.1, 0.2]])[0], atol=1e-4)
    sample = page(driver, "window.vaeDemo.samplePrior()")
    z = page(driver, "window.vaeDemo.getLatent()")
    numpy.testing.assert_allclose(sample, decode64(page_2d, [z])[0], atol=1e-4)


def test_a_drawn_digit_is_downsampled_and_encoded(driver, page_2d):
    driver.find_element("id", "clear").click()
    browser.draw_strokes(driver, driver.find_element("id", "drawing"), browser.DIGIT_SEVEN)
    pixels = numpy.asarray(page(driver, "window.vaeDemo.lastEncoderInput()"))
    assert pixels.shape == (784,) and pixels.min() >= 0 and pixels.max() <= 1
    image = pixels.reshape(28, 28)
    rows, cols = numpy.nonzero(image)
    # MNIST's normalisation: the bounding box fits 20x20, the centre of mass is central.
    assert max(numpy.ptp(rows), numpy.ptp(cols)) + 1 == 20
    mass = image.sum()
    centre = [(image.sum(axis=1) @ (numpy.arange(28) + 0.5)) / mass,
              (image.sum(axis=0) @ (numpy.arange(28) + 0.5)) / mass]  # fmt: skip
    assert numpy.abs(numpy.asarray(centre) - 14).max() <= 0.5
    posterior = page(driver, "window.vaeDemo.lastPosterior()")
    mu, log_sigma = encode64(page_2d, pixels[None])
    numpy.testing.assert_allclose(posterior["mean"], mu[0], atol=1e-4)
    numpy.testing.assert_allclose(posterior["logSigma"], log_sigma[0], atol=1e-4)
    # The sliders moved to the posterior mean, and the page shows it.
    numpy.testing.assert_allclose(page(driver, "window.vaeDemo.getLatent()"), mu[0], atol=1e-4)
    assert "posterior" in driver.find_element("id", "posterior").text
    hook = page(driver, "window.vaeDemo.encode(arguments[0])", pixels.tolist())
    numpy.testing.assert_allclose(hook["mean"], mu[0], atol=1e-4)


def test_interpolation_between_two_test_digits(driver, page_2d):
    examples = driver.find_elements("css selector", "#examples canvas")
    assert len(examples) == 20
    examples[2].click()
    examples[5].click()
    slots = page(driver, "window.vaeDemo.slots()")
    frames = page(driver, "window.vaeDemo.showInterpolation()")
    assert len(frames) == 10
    numpy.testing.assert_allclose(frames[0], decode64(page_2d, [slots["A"]])[0], atol=1e-4)
    numpy.testing.assert_allclose(frames[-1], decode64(page_2d, [slots["B"]])[0], atol=1e-4)
    middle = 5 / 9 * numpy.asarray(slots["B"]) + 4 / 9 * numpy.asarray(slots["A"])
    numpy.testing.assert_allclose(frames[5], decode64(page_2d, [middle])[0], atol=1e-4)


def test_screenshot_of_the_page(driver, page_2d, path_2d, tmp_path):  # noqa: F811
    open_page(driver, path_2d, tmp_path / "demo")
    out = browser.screenshot_demo(
        driver, (tmp_path / "demo" / "index.html").resolve().as_uri(), tmp_path / "demo.png"
    )
    from PIL import Image

    with Image.open(out) as image:
        assert image.size[0] >= 1000 and image.size[1] >= 500
        grey = numpy.asarray(image.convert("L"))
    assert grey.std() > 10  # not a blank page
    assert page(driver, "window.vaeDemo.lastPosterior()") is not None


def test_larger_model_gets_sliders_for_its_most_active_units(driver, path_5d, tmp_path):  # noqa: F811
    from pylearn_vae.datasets.mnist10k import MNIST10k
    from pylearn_vae.scripts import latent_report

    open_page(driver, path_5d, tmp_path / "demo5", "--sliders", "3")
    model = serial.load(path_5d)
    X = MNIST10k("test", stop=400).get_design_matrix()  # the fixture's dataset: stop 400
    kl = latent_report.latent_report(model, X).kl
    units = [int(u) for u in numpy.argsort(-kl)[:3]]
    assert page(driver, "window.vaeDemo.sliderUnits") == units
    assert len(driver.find_elements("css selector", "#sliders input")) == 3
    z = numpy.random.RandomState(1).randn(5)
    computed = page(driver, "window.vaeDemo.setLatent(arguments[0])", z.tolist())
    numpy.testing.assert_allclose(computed, decode64(model, z[None])[0], atol=1e-4)


def test_the_latent_plane_has_a_legend_of_its_colours(driver, page_2d):
    entries = page(
        driver,
        "[...document.querySelectorAll('#map-legend .legend-entry')]"
        ".map(e => [e.textContent, e.firstChild.style.backgroundColor])",
    )
    # MNIST10k's test digits: the ten classes, each with its own colour
    assert [text for text, _ in entries] == [str(d) for d in range(10)]
    assert len({colour for _, colour in entries}) == 10
