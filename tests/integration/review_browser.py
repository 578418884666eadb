"""Headless Debian Chromium driven by Selenium (python3-selenium, chromium, chromium-driver) for
the review page's tests and its benchmark. Nothing here downloads a browser or a driver."""
import os
import pathlib
import shutil

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def missing():
    """Why a browser cannot be started here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "python3-selenium is not installed (scripts/install-deps)"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} is not installed (scripts/install-deps: chromium chromium-driver)"
    return None


def start(width=1400, height=1000):
    """A headless Chromium session; the caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--disable-extensions", "--disable-background-networking",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def artifacts_dir():
    """<build dir>/artifacts, the build dir being the one INFERWATCH_BIN (<build>/src/inferwatch)
    lives in."""
    from conftest import binary

    out = pathlib.Path(binary()).resolve().parent.parent / "artifacts"
    out.mkdir(parents=True, exist_ok=True)
    return out


def copy_sample(sample, dest):
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sample, dest)
