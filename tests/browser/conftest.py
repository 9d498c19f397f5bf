"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Needs `playwright` (the Python package only; browsers are NOT downloaded) and the `chromium`
Debian package at /usr/bin/chromium. The tests are skipped when either is missing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
CHROMIUM = os.environ.get("NAUTES_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One Chromium per test module.

    Playwright's sync API keeps an event loop running in the test thread, and Django refuses
    ORM calls from a thread with a running loop unless DJANGO_ALLOW_ASYNC_UNSAFE is set (safe
    here: the loop only drives the browser). The variable is set only while the browser runs,
    so no other test (nor a `check --deploy` subprocess) inherits it.
    """
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


class CspWatcher:
    """Collects console messages that report a Content-Security-Policy violation."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def __call__(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.violations.append(message.text)


@pytest.fixture
def page(chromium: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) with a CSP watcher; fails on any violation."""
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    watcher = CspWatcher()
    tab.on("console", watcher)
    yield tab
    context.close()
    assert watcher.violations == [], watcher.violations


@pytest.fixture
def page_without_js(chromium: Any, live_server: Any) -> Iterator[Any]:
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def screenshot(page: Any, name: str) -> None:
    """Save a full-page screenshot under test-artifacts/screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page: Any, username: str, password: str = "pw") -> None:  # noqa: S107 (test accounts)
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
