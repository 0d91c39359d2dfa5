"""Steps a person takes in the browser, and the checks made on what they see."""

import time
from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

DESKTOP = {"width": 1440, "height": 900}  # the planner's screen

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, and Deque's best practices; a page fails on what axe rates as blocking.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = ("serious", "critical")
TARGETS_SHOWN = 5


def log_in(page, username: str, password: str, *, path: str = "/tech/"):
    """Open `path`, which asks for a login, and log in as that user."""
    page.goto(path)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button:has-text('Log in')")


def wait_for_js(page, expression: str, *, arg=None, timeout: float = 10_000) -> None:
    """Wait until `expression` (or the function `expression` called with `arg`) is truthy.

    Playwright's own `wait_for_function` evaluates its predicate with `eval` inside the page, which
    the app's Content Security Policy (no 'unsafe-eval') refuses as soon as the first check is
    false. `page.evaluate` goes through the DevTools protocol, which the policy does not govern,
    so the polling happens here; a check that meets a navigation is simply tried again.
    """
    deadline = time.monotonic() + timeout / 1000
    while True:
        try:
            if page.evaluate(expression, arg):
                return
        except PlaywrightError as error:
            if "context was destroyed" not in str(error) and "navigation" not in str(error):
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout / 1000:g} s: {expression}")
        page.wait_for_timeout(50)


@cache
def _axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make install` (npm ci installs axe-core).")
    return AXE.read_text()


def accessibility_problems(page) -> list[str]:
    """The serious and critical axe-core violations on the page as it is now, one line each:
    rule id, impact, help text and the selectors of (up to TARGETS_SHOWN of) the elements.

    axe is evaluated through the browser's debugging protocol, which the pages' CSP (no inline
    scripts) does not govern, so the pages are checked with their real policy in force.
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    results = page.evaluate(
        """tags => axe.run(document, {
            runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
        })""",
        AXE_TAGS,
    )
    problems = []
    for violation in results["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        more = len(targets) - TARGETS_SHOWN
        problems.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']}; "
            f"{len(targets)} element(s): {', '.join(targets[:TARGETS_SHOWN])}"
            + (f" and {more} more" if more > 0 else "")
        )
    return problems


def assert_accessible(page) -> None:
    """No serious or critical axe-core violation on the page as it is now."""
    problems = accessibility_problems(page)
    assert not problems, f"axe-core on {page.url}:\n  " + "\n  ".join(problems)


# ------------------------------------------------------------------ the technician app offline

PASSWORD = "pw-for-tests-1"  # every user the factories make


def online_page(phone, live_server, username="tina"):
    """A logged-in phone whose worker has saved the work for the next days; every request the
    page makes is recorded (none may leave the app's origin)."""
    page = phone()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    log_in(page, username, PASSWORD)
    page.wait_for_url("**/tech/")
    page.wait_for_selector("html[data-precached]")
    wait_for_js(page, "navigator.serviceWorker.controller !== null")
    return page


def go_offline(page):
    """Cut the phone off the network (the service worker's own fetches too)."""
    page.context.set_offline(True)
    wait_for_js(page, "!navigator.onLine")


def go_online(page):
    """Give the phone its network back."""
    page.context.set_offline(False)
    wait_for_js(page, "navigator.onLine")


def queued(page) -> list[dict]:
    """The user's queued actions, in order: kind, state and reason."""
    return page.evaluate(
        "() => window.cmmsOffline.actions().then("
        "  list => list.map(a => ({kind: a.kind, state: a.state, reason: a.reason})))"
    )


def wait_until_sent(page, count: int):
    """Open *My work* and wait until `count` queued actions were sent (synced or refused)."""
    page.goto("/tech/")
    wait_for_js(
        page,
        "n => document.querySelectorAll('#sync-list li[data-state=done],"
        " #sync-list li[data-state=refused]').length === n",
        arg=count,
        timeout=30_000,
    )
