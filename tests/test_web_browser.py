"""The page in a real browser: ``kmseg serve`` on 127.0.0.1, driven by headless Chromium.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them when
missing); skipped with the reason when they are not there.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("selenium")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
    pytest.skip("headless browser test: chromium and chromedriver not found "
                "(apt-get install chromium chromium-driver)", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

#: Where the README's screenshot is written when this variable names a file.
SCREENSHOT_ENV = "KMSEG_WEB_SCREENSHOT"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """``kmseg serve`` in a subprocess on a free loopback port; yields its base URL."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "kmseg", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/api/info", timeout=5).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"kmseg serve did not start: {proc.communicate()}") from None
            time.sleep(0.3)
    yield base
    proc.terminate()
    _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err, err


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,860", "--hide-scrollbars"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _wait_idle(driver, timeout=120):
    """Wait until the page has no request or image in flight."""
    WebDriverWait(driver, timeout, poll_frequency=0.2).until(
        lambda d: d.execute_script("return document.body.dataset.state") == "idle"
        and d.execute_script("const i = document.getElementById('right'); return i.complete && i.naturalWidth > 0"))


def _swatches(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#palette li")


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """scikit-learn's china.jpg, saved as a JPEG file to upload."""
    from sklearn.datasets import load_sample_image

    path = tmp_path_factory.mktemp("photo") / "china.jpg"
    Image.fromarray(load_sample_image("china.jpg")).save(path, quality=92)
    return path


def _stages(driver):
    """The stages the page shows: ``[(name, state), ...]``."""
    return [(li.get_attribute("data-stage"), li.get_attribute("class"))
            for li in driver.find_elements(By.CSS_SELECTOR, "#stages li")]


def test_before_an_upload_no_image_placeholders(server, browser):
    driver = browser
    driver.get(server + "/")
    images = driver.find_elements(By.TAG_NAME, "img")
    assert len(images) == 2 and not any(img.is_displayed() for img in images)
    assert not driver.find_element(By.ID, "views").is_displayed()
    empty = driver.find_element(By.ID, "empty")
    assert empty.is_displayed() and "No image yet" in empty.text
    assert driver.find_element(By.ID, "drop").is_displayed()
    driver.find_element(By.ID, "sample").click()
    WebDriverWait(driver, 120).until(lambda d: len(_swatches(d)) == 8)
    _wait_idle(driver)
    assert not empty.is_displayed()
    assert all(img.is_displayed() and img.get_attribute("naturalWidth") == "640" for img in images)


def test_upload_move_k_download_and_screenshot(server, browser, downloads, photo, tmp_path):
    driver = browser
    driver.get(server + "/")
    assert driver.find_element(By.ID, "settings").get_attribute("disabled") is not None
    driver.find_element(By.ID, "file").send_keys(str(photo))
    WebDriverWait(driver, 120).until(lambda d: len(_swatches(d)) == 8)
    _wait_idle(driver)
    assert driver.find_element(By.ID, "error").is_displayed() is False
    assert "china.jpg: 640×427" in driver.find_element(By.ID, "image-info").text
    # the stages of the upload, its first segmentation and the picture, each done
    WebDriverWait(driver, 10).until(lambda d: [name for name, _ in _stages(d)] == [
        "receiving", "decoding", "counting colours", "fitting", "drawing"])
    assert {state for _, state in _stages(driver)} == {"done"}
    assert not driver.find_element(By.ID, "progress").is_displayed()

    # move the k slider from 8 to 5 with the keyboard, as a person would
    slider = driver.find_element(By.ID, "k")
    for _ in range(3):
        slider.send_keys(Keys.ARROW_LEFT)
    WebDriverWait(driver, 120).until(lambda d: len(_swatches(d)) == 5)
    _wait_idle(driver)
    assert driver.find_element(By.ID, "k-value").text == "5"
    assert driver.find_element(By.ID, "palette").get_attribute("data-k") == "5"
    shares = [float(li.find_element(By.CLASS_NAME, "share").text.rstrip("%")) for li in _swatches(driver)]
    assert abs(sum(shares) - 100) < 0.3 and shares == sorted(shares, reverse=True)
    hexes = [li.find_element(By.CLASS_NAME, "hex").text for li in _swatches(driver)]
    assert all(len(h) == 7 and h.startswith("#") for h in hexes)

    # the elbow curve is drawn, with the chosen k circled
    WebDriverWait(driver, 120).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#elbow circle.knee"))
    assert len(driver.find_elements(By.CSS_SELECTOR, "#elbow circle.point")) == 10
    assert "Chosen k=" in driver.find_element(By.ID, "elbow-text").text

    # the right pane shows the segmented view, the size of the photo
    right = driver.find_element(By.ID, "right")
    assert "view/segmented" in right.get_attribute("src") and "k=5" in right.get_attribute("src")
    assert driver.execute_script("return document.getElementById('right').naturalWidth") == 640

    # click a swatch: its region is highlighted; click again: back
    _swatches(driver)[1].click()
    WebDriverWait(driver, 60).until(lambda d: "view/highlight" in d.find_element(By.ID, "right").get_attribute("src"))
    _wait_idle(driver)
    assert "label=1" in right.get_attribute("src")

    # download the label map: a PNG of the photo's size with 5 labels
    link = driver.find_element(By.CSS_SELECTOR, "#downloads a[data-file='labels.png']")
    link.click()
    target = downloads / "china_k5_labels.png"
    WebDriverWait(driver, 60).until(lambda d: target.exists() and target.stat().st_size > 0)
    time.sleep(0.5)
    with Image.open(target) as labels:
        assert labels.format == "PNG" and labels.size == (640, 427) and labels.mode == "L"
        assert sorted(np.unique(np.asarray(labels)).tolist()) == [0, 1, 2, 3, 4]
    with urllib.request.urlopen(link.get_attribute("href")) as r:
        assert r.read() == target.read_bytes()
    palette_link = driver.find_element(By.CSS_SELECTOR, "#downloads a[data-file='palette.json']")
    with urllib.request.urlopen(palette_link.get_attribute("href")) as r:
        record = json.loads(r.read())
    assert [c["hex"] for c in record["colors"]] == hexes

    _swatches(driver)[1].click()
    WebDriverWait(driver, 60).until(lambda d: "view/segmented" in d.find_element(By.ID, "right").get_attribute("src"))
    _wait_idle(driver)

    shot = tmp_path / "page.png"
    assert driver.save_screenshot(str(shot))
    with Image.open(shot) as im:
        assert im.format == "PNG" and im.size[0] >= 1000
    target = os.environ.get(SCREENSHOT_ENV)
    if target:
        shutil.copyfile(shot, target)


def test_views_auto_and_spatial(server, browser):
    driver = browser
    driver.get(server + "/")
    driver.find_element(By.ID, "sample").click()
    WebDriverWait(driver, 120).until(lambda d: len(_swatches(d)) == 8)
    _wait_idle(driver)
    for view in ("boundaries", "labels", "original"):
        driver.find_element(By.CSS_SELECTOR, f"#views button[data-view='{view}']").click()
        _wait_idle(driver)
        assert f"view/{view}" in driver.find_element(By.ID, "right").get_attribute("src")
    driver.find_element(By.CSS_SELECTOR, "#views button[data-view='segmented']").click()

    driver.find_element(By.ID, "auto").click()
    WebDriverWait(driver, 120).until(lambda d: "auto k=" in d.find_element(By.ID, "status-text").text)
    _wait_idle(driver)
    k = int(driver.find_element(By.ID, "k-value").text)
    assert len(_swatches(driver)) == k and driver.find_element(By.ID, "k").get_attribute("value") == str(k)
    assert not driver.find_element(By.ID, "k").is_enabled()

    space = driver.find_element(By.ID, "space")
    note = driver.find_element(By.ID, "space-note")
    assert space.is_enabled() and not note.is_displayed()
    Select(space).select_by_value("hsv")
    WebDriverWait(driver, 120).until(lambda d: "in HSV" in d.find_element(By.ID, "status-text").text)
    _wait_idle(driver)
    driver.find_element(By.ID, "spatial").click()
    # spatial mode finds its segments in CIELAB: the colour space is off, and the page says why
    assert not space.is_enabled() and note.is_displayed() and "CIELAB" in note.text
    WebDriverWait(driver, 300).until(lambda d: "connected segments" in d.find_element(By.ID, "status-text").text)
    _wait_idle(driver, timeout=300)
    assert len(_swatches(driver)) == k
    assert "connected segments in LAB" in driver.find_element(By.ID, "status-text").text
    WebDriverWait(driver, 10).until(lambda d: [name for name, _ in _stages(d)] == [
        "elbow sweep", "superpixels and merges", "cutting", "drawing"])
    driver.find_element(By.ID, "spatial").click()
    assert space.is_enabled() and not note.is_displayed()
    assert Select(space).first_selected_option.get_attribute("value") == "hsv"
    WebDriverWait(driver, 120).until(lambda d: "colour classes in HSV" in d.find_element(By.ID, "status-text").text)
    _wait_idle(driver)


def test_long_work_shows_its_stages_as_they_run(server, browser, tmp_path):
    """A large photo: the stages are seen running one after the other (read from the
    server while its request runs), and the bar moves forward, never back."""
    from sklearn.datasets import load_sample_image

    big = tmp_path / "big.png"
    Image.fromarray(load_sample_image("china.jpg")).resize((1920, 1281), Image.BILINEAR).save(big)
    driver = browser
    driver.get(server + "/")
    driver.execute_script("""
        window.seen = []; window.bars = [];
        new MutationObserver(() => {
          for (const li of document.querySelectorAll('#stages li.running')) {
            if (!window.seen.includes(li.dataset.stage)) window.seen.push(li.dataset.stage);
          }
          window.bars.push(parseFloat(document.getElementById('progress-bar').style.width) || 0);
        }).observe(document.getElementById('stages'), {childList: true, subtree: true});""")
    driver.find_element(By.ID, "file").send_keys(str(big))
    WebDriverWait(driver, 120).until(lambda d: len(_swatches(d)) == 8)
    _wait_idle(driver)
    driver.execute_script("window.bars = []")
    driver.find_element(By.ID, "spatial").click()
    WebDriverWait(driver, 300).until(lambda d: "connected segments" in d.find_element(By.ID, "status-text").text)
    _wait_idle(driver, timeout=300)
    seen = driver.execute_script("return window.seen")
    assert "superpixels and merges" in seen and "drawing" in seen, seen
    bars = [b for b in driver.execute_script("return window.bars") if b > 0]
    assert bars and bars == sorted(bars) and 0 < bars[0] < 100, bars
    assert {state for _, state in _stages(driver)} == {"done"}


def test_phone_width_puts_the_image_first(server, browser):
    driver = browser
    driver.set_window_size(420, 900)
    try:
        driver.get(server + "/")
        assert driver.execute_script("return window.innerWidth") <= 440
        top = "return arguments[0].getBoundingClientRect().top"
        drop, settings = driver.find_element(By.ID, "drop"), driver.find_element(By.ID, "settings")
        assert driver.execute_script(top, drop) < driver.execute_script(top, settings)  # no image yet: the box
        driver.find_element(By.ID, "sample").click()
        WebDriverWait(driver, 120).until(lambda d: len(_swatches(d)) == 8)
        _wait_idle(driver)
        image = driver.find_element(By.ID, "right")
        downloads = driver.find_element(By.ID, "downloads-panel")
        assert image.is_displayed() and 300 < image.size["width"] <= 420  # one pane a row, the full width
        assert driver.execute_script(top, image) < driver.execute_script(top, settings)
        assert driver.execute_script(top, image) < driver.execute_script(top, downloads)
        assert driver.execute_script(top, image) < driver.execute_script(top, drop)
    finally:
        driver.set_window_size(1400, 860)


def test_bad_file_shows_one_clear_message(server, browser, tmp_path):
    driver = browser
    driver.get(server + "/")
    bad = tmp_path / "notes.png"
    bad.write_text("this is text, not a picture\n")
    driver.find_element(By.ID, "file").send_keys(str(bad))
    WebDriverWait(driver, 60).until(lambda d: d.find_element(By.ID, "error").is_displayed())
    assert driver.find_element(By.ID, "error").text == "'notes.png': not an image (no decoder recognises it)"
    _wait_idle_no_image(driver)
    # the page and the server still work
    good = tmp_path / "good.png"
    img = np.zeros((30, 40, 3), np.uint8)
    img[:, 20:] = (250, 120, 10)
    Image.fromarray(img).save(good)
    driver.find_element(By.ID, "file").send_keys(str(good))
    WebDriverWait(driver, 60).until(lambda d: len(_swatches(d)) == 2)
    assert driver.find_element(By.ID, "error").is_displayed() is False


def _wait_idle_no_image(driver):
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.body.dataset.state") == "idle")

