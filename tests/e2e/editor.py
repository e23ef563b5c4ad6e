"""Headless Chromium driven over WebDriver (chromedriver's HTTP API, spoken with httpx): logs into
the n8n editor and takes a picture of each workflow's canvas.

Chromium and chromedriver come from Debian (`apt-get install chromium chromium-driver`); when they
are missing, `ensure_chromium` installs them. The browser is kept off the network except for the
n8n under test.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from tests.e2e.n8n_runtime import free_port

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--window-size=1600,1040",
    "--force-device-scale-factor=1",
]
OWNER = {
    "email": "owner@example.com",
    "firstName": "E2E",
    "lastName": "Owner",
    "password": "E2e-Owner-Password-1",
}


def ensure_chromium() -> tuple[str, str]:
    """(chromium, chromedriver) executables, installed with apt-get when missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    apt = shutil.which("apt-get")
    if apt is None:
        raise RuntimeError("chromium and chromedriver are missing and apt-get is not available")
    for args in ([apt, "update"], [apt, "install", "-y", "chromium", "chromium-driver"]):
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=1800, check=False, env=_apt_env()
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr}")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        raise RuntimeError("apt-get installed chromium but chromium/chromedriver are not on PATH")
    return chromium, driver


def _apt_env() -> dict[str, str]:
    import os

    return {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}


def setup_owner(n8n_url: str) -> None:
    """The first user of a fresh n8n; the imported workflows become theirs."""
    response = httpx.post(f"{n8n_url}/rest/owner/setup", json=OWNER, timeout=30)
    if response.status_code != 200:
        raise RuntimeError(f"n8n owner setup failed: {response.status_code} {response.text}")


class Browser:
    def __init__(self, chromium: str, chromedriver: str, log: Path) -> None:
        self.port = free_port()
        self._log = log.open("ab")
        self._driver = subprocess.Popen(
            [chromedriver, f"--port={self.port}"], stdout=self._log, stderr=subprocess.STDOUT
        )
        self._http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=120)
        self._wait_for_driver()
        session = self._call(
            "POST",
            "/session",
            {
                "capabilities": {
                    "alwaysMatch": {
                        "browserName": "chrome",
                        "goog:chromeOptions": {"binary": chromium, "args": CHROMIUM_FLAGS},
                    }
                }
            },
        )
        self._session = f"/session/{session['sessionId']}"

    def _wait_for_driver(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self._http.get("/status").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("chromedriver did not start")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=body)
        value = response.json().get("value")
        if response.status_code != 200:
            raise RuntimeError(f"WebDriver {method} {path}: {response.status_code} {value}")
        return value

    def open(self, url: str) -> None:
        self._call("POST", f"{self._session}/url", {"url": url})

    def run(self, script: str, *args: Any) -> Any:
        """JavaScript in the page; an `async` body may await (its value is returned)."""
        wrapped = f"const done = arguments[arguments.length - 1]; (async () => {{ {script} }})()"
        wrapped += ".then(done, (e) => done({__error: String(e)}))"
        value = self._call(
            "POST", f"{self._session}/execute/async", {"script": wrapped, "args": list(args)}
        )
        if isinstance(value, dict) and "__error" in value:
            raise RuntimeError(f"script failed: {value['__error']}")
        return value

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self._call("GET", f"{self._session}/screenshot")))

    def close(self) -> None:
        try:
            self._call("DELETE", self._session)
        finally:
            self._http.close()
            self._driver.terminate()
            try:
                self._driver.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._driver.kill()
            self._log.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def log_in(browser: Browser, n8n_url: str) -> None:
    browser.open(f"{n8n_url}/signin")
    status = browser.run(
        """
        const response = await fetch('/rest/login', {
          method: 'POST',
          headers: {'content-type': 'application/json'},
          body: JSON.stringify({emailOrLdapLoginId: arguments[0], password: arguments[1]}),
        });
        return response.status;
        """,
        OWNER["email"],
        OWNER["password"],
    )
    if status != 200:
        raise RuntimeError(f"n8n login from the browser answered {status}")


def draw_workflow(browser: Browser, n8n_url: str, workflow: dict[str, Any], path: Path) -> str:
    """Opens the workflow in the editor, waits until every node is on the canvas, saves a PNG.
    Returns the canvas's text (node names), for the caller to check."""
    browser.open(f"{n8n_url}/workflow/{workflow['id']}")
    expected = sum(1 for n in workflow["nodes"] if n["type"] != "n8n-nodes-base.stickyNote")
    text = browser.run(
        """
        const [expected, within] = [arguments[0], arguments[1]];
        const deadline = Date.now() + within;
        const count = () => document.querySelectorAll('[data-test-id="canvas-node"]').length;
        while (count() < expected) {
          if (Date.now() > deadline) return `only ${count()} of ${expected} nodes drawn`;
          await new Promise((r) => setTimeout(r, 200));
        }
        // Let the canvas fit the view and load the node icons, then zoom out one step so the
        // editor's floating buttons do not cover the lowest nodes.
        await new Promise((r) => setTimeout(r, 1500));
        document.querySelector('[data-test-id="zoom-out-button"]')?.click();
        await new Promise((r) => setTimeout(r, 1000));
        const canvas = document.querySelector('.vue-flow') ?? document.body;
        return canvas.innerText;
        """,
        expected,
        60_000,
    )
    browser.screenshot(path)
    return str(text)
