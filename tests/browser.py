"""Headless Chromium (Debian's chromium and chromium-driver, driven by selenium) for the
browser checks, with the network blocked and axe-core from npm (tests/axe/, `npm ci`).

Every request the page makes is recorded from Chrome's performance log; anything but the page's
own files (file://, data:, blob:, or the local server on 127.0.0.1) counts as an outside
request. Host names other than localhost do not resolve (``--host-resolver-rules``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENS = {"1280x720": (1280, 720), "1440x900": (1440, 900), "1920x1080": (1920, 1080),
           "390x844": (390, 844)}
LOCAL = ("file://", "data:", "blob:", "about:", "http://127.0.0.1:", "http://localhost:")
SERIOUS = ("serious", "critical")
# What a reader should never see on a page: Python reprs and warnings, truncated frames, images
# that did not load, value boxes without a value, cards whose content is cut off.
PROBLEMS_JS = """
const text = document.body.innerText;
const raw = ['PosixPath(', 'RuntimeWarning', '<pandas', 'dtype:'].filter(s => text.includes(s));
const broken = [...document.images].filter(i => !i.complete || i.naturalWidth === 0)
  .map(i => i.getAttribute('src'));
const truncated = [...document.querySelectorAll('tr')].filter(r => r.cells.length &&
  [...r.cells].every(c => ['...', '\u2026'].includes(c.textContent.trim()))).length;
const emptyBoxes = [...document.querySelectorAll('.bslib-value-box, .value-box')]
  .filter(b => !(b.querySelector('.value-box-value') || b).textContent.trim()).length;
const emptyCharts = [...document.querySelectorAll('.card .cell-output-display, figure')]
  .filter(f => !f.querySelector('img, svg, canvas, table') && !f.textContent.trim()).length;
const clipped = [...document.querySelectorAll('.card-body')].filter(c => {
  const s = getComputedStyle(c);
  return ['hidden', 'clip'].includes(s.overflowY) && c.scrollHeight > c.clientHeight + 2;
}).length;
return {raw, broken, truncated, emptyBoxes, emptyCharts, clipped};
"""


def require_browser() -> None:
    """Skip where Chromium, its driver or axe-core is missing; in CI (CI=true) fail instead."""
    missing = [name for name in ("chromium", "chromedriver") if not shutil.which(name)]
    if not AXE.is_file():
        missing.append(f"axe-core ({AXE.relative_to(Path(__file__).parent.parent)}; "
                       "npm ci --prefix tests/axe)")
    if missing:
        reason = (f"browser checks need {', '.join(missing)} "
                  "(apt-get install chromium chromium-driver; .ci/run installs them)")
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@contextmanager
def chromium():
    """A headless Chromium that resolves no outside host and logs console and network."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-extensions",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()


@dataclass
class Findings:
    """What one page showed: console errors, outside requests, axe violations, problems."""

    url: str
    screen: str
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    violations: list[dict] = field(default_factory=list)
    problems: dict = field(default_factory=dict)

    def by_impact(self) -> dict[str, int]:
        return dict(Counter(v["impact"] for v in self.violations))

    def serious(self) -> list[dict]:
        return [v for v in self.violations if v["impact"] in SERIOUS]

    def summary(self) -> str:
        return (f"{self.url} at {self.screen}: axe {self.by_impact() or 'none'}, "
                f"{len(self.console_errors)} console errors, "
                f"{len(self.outside_requests)} outside requests")


def open_page(driver, url: str, screen: str) -> None:
    """Load a page at one screen size (a phone width emulates a mobile viewport)."""
    width, height = SCREENS[screen]
    driver.get_log("browser")
    driver.get_log("performance")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1,
                            "mobile": width < 600})
    driver.get(url)


def findings(driver, screen: str) -> Findings:
    """Everything logged since the page was opened, then axe-core and the page problems."""
    found = Findings(driver.current_url, screen)
    found.console_errors = [e["message"] for e in driver.get_log("browser")
                            if e["level"] == "SEVERE"]
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if not url.startswith(LOCAL):
                found.outside_requests.append(url)
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found.violations = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
        " help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))));")
    found.problems = driver.execute_script(PROBLEMS_JS)
    return found
