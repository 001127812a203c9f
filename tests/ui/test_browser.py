"""The web UI end to end in a real headless browser: `defusion ui` + Chromium driven by Selenium.

Needs Chromium and its driver (Debian: ``apt-get install chromium chromium-driver``) and the
``selenium`` package (in the 'test' extra); skipped when any is missing. Run it with
``python -m pytest -m slow tests/ui/test_browser.py``. The screenshot it takes is written to the
test's tmp_path and, when ``DEFUSION_KEEP_SCREENSHOT=PATH`` is set, also to PATH (docs/ui.md shows
one kept at docs/images/ui_browser.png).

The server runs tiny random-init weights with re-scaled output heads (fast, and the images are not
all black); ``DEFUSION_BROWSER_TEST_WEIGHTS=shipped`` (or a weights path) runs other weights, e.g.
for a screenshot that shows a real fusion.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("streamlit")
webdriver = pytest.importorskip("selenium.webdriver", reason="the browser test needs selenium (pip install selenium)")
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from defusion.model.weights import load_weights, save_weights  # noqa: E402
from defusion.ui.app import UPLOAD, UPLOAD_STACK  # noqa: E402
from tests.conftest import free_port

pytestmark = pytest.mark.slow

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
CHROMEDRIVER = shutil.which("chromedriver")
if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip("the browser test needs Chromium and chromedriver "
                "(Debian: apt-get install chromium chromium-driver)", allow_module_level=True)

WINDOW = (1280, 900)
SERVER_TIMEOUT_S = 90
FUSE_TIMEOUT_S = 180
#: Flags without which headless Chromium hangs or phones home on a closed network.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-extensions", "--disable-default-apps", "--mute-audio",
                  f"--window-size={WINDOW[0]},{WINDOW[1]}")

FUSED_IMG = ("//*[@data-testid='stImageCaption'][normalize-space()='fused']"
             "/ancestor::*[.//img][1]//img")
ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"




def _pair(tmp_path: Path) -> tuple[Path, Path]:
    """A synthetic multi-exposure pair (96x128): one scene, under- and over-exposed."""
    under, over = _exposures(tmp_path, {"under.png": 0.35, "over.png": 2.2})
    return under, over


def _exposures(tmp_path: Path, gains: dict[str, float]) -> list[Path]:
    """One synthetic 96x128 scene at each gain, saved under each name."""
    h, w = 96, 128
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w]).reshape(2, 1, 1)
    scene = np.stack([0.2 + 0.6 * x, 0.3 + 0.5 * y, 0.8 - 0.6 * x * y], axis=2)
    disc = (x - 0.3) ** 2 + (y - 0.5) ** 2 < 0.04
    scene[disc] = (0.95, 0.85, 0.2)
    scene[(np.abs(x - 0.75) < 0.12) & (np.abs(y - 0.45) < 0.25)] = (0.15, 0.35, 0.8)
    scene += 0.08 * np.sin(24 * x)[..., None] * np.cos(18 * y)[..., None]  # texture
    paths = []
    for name, gain in gains.items():
        image = (np.clip(scene * gain, 0, 1) * 255).astype(np.uint8)
        Image.fromarray(image).save(tmp_path / name)
        paths.append(tmp_path / name)
    return paths


def _log_tail(log: Path, n: int = 3000) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-n:] if log.exists() else ""


@pytest.fixture
def weights_args(tmp_path, tiny_weights) -> list[str]:
    """``--weights`` for the server: the tiny weights with lively heads, or the override."""
    choice = os.environ.get("DEFUSION_BROWSER_TEST_WEIGHTS")
    if choice == "shipped":
        return []
    if choice:
        return ["--weights", choice]
    import torch

    # random-init heads give outputs ~0 (every image black): re-scale them, as tests/serving does
    torch.manual_seed(1)
    model = load_weights(tiny_weights)
    for head in (model.common_head, model.unique_head, model.fusion_head):
        torch.nn.init.normal_(head.weight, std=0.05)
        torch.nn.init.constant_(head.bias, 0.5)
    path = tmp_path / "tiny-lively.safetensors"
    save_weights(model, path, metadata={"steps": "0", "note": "tiny, heads re-scaled"})
    return ["--weights", str(path)]


@pytest.fixture
def ui_server(tmp_path, weights_args):
    """`defusion ui` on a free port (its own process group, ended in teardown); yields the URL."""
    port = free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "defusion.cli.main", "ui", "--port", str(port), "--host", "127.0.0.1",
           *weights_args, "--device", "cpu"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT_S
        while True:
            assert proc.poll() is None, f"`defusion ui` exited ({proc.returncode}):\n{_log_tail(log)}"
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200 and r.read().strip() == b"ok":
                        break
            except (urllib.error.URLError, OSError):
                pass
            assert time.monotonic() < deadline, f"no answer in {SERVER_TIMEOUT_S} s:\n{_log_tail(log)}"
            time.sleep(0.25)
        yield url, log
    finally:
        _stop(proc)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the whole group (the CLI and the Streamlit it started); SIGKILL what lingers."""
    if _group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 10  # the Streamlit child may outlive the CLI
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.fixture
def browser(tmp_path):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    # an explicit driver path: Selenium Manager (which would download one) is not used
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log")),
                              options=options)
    try:
        driver.set_page_load_timeout(60)
        # --window-size counts the (invisible) browser frame: make the page itself WINDOW
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": WINDOW[0], "height": WINDOW[1], "deviceScaleFactor": 1, "mobile": False})
        yield driver
    finally:
        driver.quit()


def _keep(shot: Path, variable: str = "DEFUSION_KEEP_SCREENSHOT") -> Path | None:
    """Copy the screenshot to the path in ``variable`` (as a 256-colour PNG when large)."""
    target = os.environ.get(variable)
    if not target:
        return None
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    image = Image.open(shot).convert("RGB")
    image.save(target, optimize=True)
    if target.stat().st_size > 400_000:
        image.quantize(256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
    return target


#: min and max over the RGB values of a loaded <img>, read back through a canvas.
IMG_RANGE = """
const img = arguments[0], c = document.createElement('canvas');
c.width = img.naturalWidth; c.height = img.naturalHeight;
const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
const d = ctx.getImageData(0, 0, c.width, c.height).data;
let lo = 255, hi = 0;
for (let i = 0; i < d.length; i++) { if (i % 4 != 3) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); } }
return [lo, hi];
"""


def _file_inputs(driver, n: int):
    found = driver.find_elements(By.CSS_SELECTOR, "input[type=file]")
    return found if len(found) == n else False


def _fused_or_error(d):
    """"error" once the page shows one, "fused" once the fused image and the metrics table are in."""
    if d.find_elements(By.CSS_SELECTOR, ERRORS):
        return "error"
    imgs = d.find_elements(By.XPATH, FUSED_IMG)
    loaded = imgs and d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", imgs[0])
    # the metrics table is drawn last: once it is there the script run is complete
    return "fused" if loaded and d.find_elements(By.CSS_SELECTOR, "[data-testid='stTable']") else False


def _choose_source(browser, wait, label: str) -> None:
    """Click the sidebar radio option ``label``."""
    wait.until(lambda d: d.find_element(
        By.XPATH, f"//*[@data-testid='stSidebar']//label[.//*[normalize-space()='{label}']]")).click()


def test_upload_a_pair_in_chromium_and_see_the_fused_image(ui_server, browser, tmp_path):
    url, log = ui_server
    a, b = _pair(tmp_path)
    shot = tmp_path / "ui_browser.png"
    wait = WebDriverWait(browser, 60)
    try:
        browser.get(url)
        _choose_source(browser, wait, UPLOAD)
        inputs = wait.until(lambda d: _file_inputs(d, 2))
        inputs[0].send_keys(str(a))
        wait.until(lambda d: d.find_elements(By.XPATH, f"//*[normalize-space()='{a.name}']"))
        # the rerun after the first upload may rebuild the widgets: find the second input again
        browser.find_elements(By.CSS_SELECTOR, "input[type=file]")[1].send_keys(str(b))

        outcome = WebDriverWait(browser, FUSE_TIMEOUT_S, poll_frequency=0.25).until(_fused_or_error)
    except TimeoutException:
        browser.save_screenshot(str(shot))
        _keep(shot)
        pytest.fail(f"no fused image in the page (screenshot {shot}); server log:\n{_log_tail(log)}")
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(shot))
    _keep(shot)

    errors = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ERRORS)]
    assert outcome == "fused" and not errors, f"errors in the page: {errors}\n{_log_tail(log)}"
    captions = [c.text.strip() for c in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stImageCaption']")]
    assert captions[:3] == [f"A: {a.name}", f"B: {b.name}", "fused"], captions
    assert {"common", "unique to A", "unique to B"} <= set(captions)
    fused = browser.find_element(By.XPATH, FUSED_IMG)
    assert browser.execute_script("return arguments[0].naturalWidth", fused) == 128
    assert browser.execute_script("return arguments[0].naturalHeight", fused) == 96
    lo, hi = browser.execute_script(IMG_RANGE, fused)
    assert hi - lo > 10, f"the fused image is flat ({lo}..{hi})"
    assert browser.find_elements(By.XPATH, "//button[contains(., 'Download the fused image')]")
    with Image.open(shot) as image:
        assert image.size == WINDOW and image.getextrema() != ((255, 255),) * len(image.getbands())


def test_upload_a_bracket_in_chromium_and_see_it_fused(ui_server, browser, tmp_path):
    """Three exposures chosen at once in the stack uploader; kept with DEFUSION_KEEP_STACK_SCREENSHOT."""
    url, log = ui_server
    paths = _exposures(tmp_path, {"ev-2.png": 0.35, "ev0.png": 1.0, "ev+2.png": 2.2})
    shot = tmp_path / "ui_browser_stack.png"
    wait = WebDriverWait(browser, 60)
    try:
        browser.get(url)
        _choose_source(browser, wait, UPLOAD_STACK)
        wait.until(lambda d: d.find_element(
            By.XPATH, "//*[@data-testid='stSidebar']//label[.//*[normalize-space()='exposure bracket']]")).click()
        wait.until(lambda d: _file_inputs(d, 1))[0].send_keys("\n".join(map(str, paths)))
        outcome = WebDriverWait(browser, FUSE_TIMEOUT_S, poll_frequency=0.25).until(_fused_or_error)
    except TimeoutException:
        browser.save_screenshot(str(shot))
        _keep(shot, "DEFUSION_KEEP_STACK_SCREENSHOT")
        pytest.fail(f"no fused image in the page (screenshot {shot}); server log:\n{_log_tail(log)}")
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(shot))
    _keep(shot, "DEFUSION_KEEP_STACK_SCREENSHOT")

    errors = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ERRORS)]
    assert outcome == "fused" and not errors, f"errors in the page: {errors}\n{_log_tail(log)}"
    captions = [c.text.strip() for c in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stImageCaption']")]
    assert captions == ["1: ev+2.png", "2: ev0.png", "3: ev-2.png", "fused"]  # brightest first
    fused = browser.find_element(By.XPATH, FUSED_IMG)
    lo, hi = browser.execute_script(IMG_RANGE, fused)
    assert hi - lo > 10, f"the fused image is flat ({lo}..{hi})"
    assert browser.find_elements(By.XPATH, "//button[contains(., 'Download the fused image')]")
