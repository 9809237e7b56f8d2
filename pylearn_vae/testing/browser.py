"""A headless Chromium for testing the demo page (``bin/vae_demo.py``).

Uses Debian's ``chromium`` and ``chromium-driver`` packages through selenium
(``pip install 'pylearn-vae[demo]'``); :func:`missing_browser` says what is absent,
so a test can skip with that reason.
"""

import os
import shutil

__all__ = ["DIGIT_SEVEN", "chromium", "draw_strokes", "missing_browser", "screenshot_demo"]

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
DRIVER_NAMES = ("chromedriver",)
# A hand-drawn 7 on the 280x280 drawing canvas: offsets from its centre.
DIGIT_SEVEN = [[(-60, -90), (0, -92), (60, -90), (40, -30), (15, 30), (0, 95)]]

INSTALL_HINT = (
    "apt-get install -y --no-install-recommends chromium chromium-driver; "
    "pip install 'pylearn-vae[demo]'"
)


def _which(names):
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


def missing_browser():
    """None when selenium, chromium and chromedriver are all there; else what is missing."""
    missing = []
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    if _which(CHROMIUM_NAMES) is None:
        missing.append("a chromium binary")
    if _which(DRIVER_NAMES) is None:
        missing.append("chromedriver")
    if not missing:
        return None
    return f"the demo page's browser test needs {', '.join(missing)} ({INSTALL_HINT})"


def chromium(width=1480, height=820):
    """A headless Chromium ``selenium`` WebDriver of ``width x height`` pixels.

    Runs as root too (``--no-sandbox``, as in a CI container). Call ``quit()`` on it.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = _which(CHROMIUM_NAMES)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--allow-file-access-from-files",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    service = Service(_which(DRIVER_NAMES), log_output=os.devnull)
    return webdriver.Chrome(options=options, service=service)


def draw_strokes(driver, element, strokes):
    """Draw with the mouse on ``element``: each stroke is a list of ``(x, y)`` offsets
    from the element's centre, pressed at the first point and released at the last."""
    from selenium.webdriver.common.action_chains import ActionChains

    for stroke in strokes:
        (x, y), rest = stroke[0], stroke[1:]
        chain = ActionChains(driver).move_to_element_with_offset(element, x, y).click_and_hold()
        for nx, ny in rest:
            chain = chain.move_by_offset(nx - x, ny - y)
            x, y = nx, ny
        chain.release().perform()


def screenshot_demo(driver, url, path, strokes=DIGIT_SEVEN, pair=(0, 1)):
    """Load the demo page at ``url``, use it as a reader would, and screenshot it.

    Draws ``strokes`` (which encodes the drawing and moves the sliders to its posterior
    mean), puts test digits ``pair`` into the interpolation slots A and B and
    interpolates, then saves a PNG of the window at ``path``.
    """
    from selenium.webdriver.common.by import By

    driver.get(url)
    if not driver.execute_script("return Boolean(window.vaeDemo && window.vaeDemo.ready)"):
        raise RuntimeError(
            f"the demo page at {url} did not start: {driver.find_element(By.ID, 'error').text}"
        )
    draw_strokes(driver, driver.find_element(By.ID, "drawing"), strokes)
    examples = driver.find_elements(By.CSS_SELECTOR, "#examples canvas")
    for index in pair:
        examples[index].click()
    driver.find_element(By.ID, "interpolate").click()
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(path))
    return path


if __name__ == "__main__":  # python -m pylearn_vae.testing.browser demo/index.html docs/demo.png
    import pathlib
    import sys

    page, out = sys.argv[1:3]
    browser = chromium()
    try:
        screenshot_demo(browser, pathlib.Path(page).resolve().as_uri(), out)
    finally:
        browser.quit()
    print(f"wrote {out}")
