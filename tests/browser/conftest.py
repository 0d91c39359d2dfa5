"""Browser tests: Playwright drives Debian's headless Chromium against pytest-django's live server.

Playwright's sync API runs an event loop in this thread, so Django's async-unsafe guard would
refuse the ORM calls the tests make for set-up and checks; they are plain synchronous code.
"""

import os
from pathlib import Path

import pytest

from tests.browser.pages import DESKTOP

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PHONE = {"width": 360, "height": 740}

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session. In CI a missing browser fails loudly."""
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message + " Browser tests run in CI.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(chromium, live_server, settings):
    """A fresh phone-sized browser context (own cookies) whose base URL is the live server."""
    settings.SITE_URL = live_server.url
    contexts = []

    def new_page():
        context = chromium.new_context(viewport=PHONE, base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        # Problems a person would not see: script errors, CSP refusals, missing static files.
        # (A page answered 400 or 409 on purpose logs "Failed to load resource"; not counted.)
        page.console_errors = []
        page.on("console", lambda msg: _console_error(page, msg))
        page.on("response", lambda response: _failed_asset(page, response))
        return page

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def desk(chromium, live_server):
    """A desktop-sized page on the demo data, logged in to the admin as the Berlin planner."""
    from demo import data as demo

    demo.seed_demo()
    context = chromium.new_context(viewport=DESKTOP, base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: _console_error(page, msg))
    page.goto("/admin/login/")
    page.fill("#id_username", "planner.rheinwerk")
    page.fill("#id_password", demo.DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#planner-index")
    yield page
    context.close()


def _console_error(page, msg) -> None:
    if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
        page.console_errors.append(msg.text)


def _failed_asset(page, response) -> None:
    if response.request.resource_type != "document" and response.status >= 400:
        page.console_errors.append(f"{response.status} {response.url}")


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str):
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take
