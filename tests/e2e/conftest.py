"""Browser fixtures for the end-to-end tests: Debian's Chromium driven by Playwright.

Every test gets a fresh browser context (Spanish locale, desktop viewport) on the
session's single Chromium. Errors the page reports (console errors, uncaught
exceptions) fail the test that caused them, unless the test declared them as
expected with ``expect_http_errors``.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Playwright, sync_playwright

from cartera.accounts.models import User
from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).parent / "screenshots"
TIMEOUT_MS = 10_000

_HTTP_STATUS = re.compile(r"the server responded with a status of (\d{3})")


@dataclass
class BrowserErrors:
    """What went wrong inside the page while a test ran."""

    messages: list[str] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        status = _HTTP_STATUS.search(message.text)
        if status and int(status.group(1)) in self.allowed_statuses:
            return
        self.messages.append(f"console: {message.text} ({message.location.get('url', '')})")

    def on_page_error(self, error: Error) -> None:
        self.messages.append(f"pageerror: {error.message}")


_ERRORS = pytest.StashKey[BrowserErrors]()


@pytest.fixture(autouse=True)
def seeded_lists(transactional_db: None) -> None:
    """Put back the lists the migrations seed (fiscal types, legal forms, sources, sectors).

    The live server needs transactional tests, and each one empties every table when it
    ends. Django's ``serialized_rollback`` cannot be relied on to restore them here: once
    Playwright's event loop runs in the test thread, Django hands that thread a new
    database connection object, one without the serialized copy of the seeded rows.
    """
    seed = importlib.import_module("cartera.customers.migrations.0002_seed_lists").seed
    seed(apps, None)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    # Playwright's sync API keeps an event loop in the test thread; Django's ORM (used by
    # the tests to prepare data and check outcomes) refuses to run beside one otherwise.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        manager = sync_playwright().start()
        yield manager
        manager.stop()


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A new page in its own context: no cookies or storage shared between tests."""
    context = browser.new_context(locale="es-ES", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors = BrowserErrors()
    request.node.stash[_ERRORS] = errors
    page.on("console", errors.on_console)
    page.on("pageerror", errors.on_page_error)
    yield page
    context.close()


def expect_http_errors(request: pytest.FixtureRequest, *statuses: int) -> None:
    """Tolerate Chromium's "failed to load resource" console line for these statuses."""
    request.node.stash[_ERRORS].allowed_statuses.update(statuses)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a test (not its teardown) when the browser reported errors while it ran."""
    result = yield
    errors = item.stash.get(_ERRORS, None)
    if errors is not None and errors.messages:
        pytest.fail("The browser reported errors:\n" + "\n".join(errors.messages))
    return result


def login(page: Page, live_server: Any, user: User, password: str = PASSWORD) -> None:
    """Log in through the login page, as a person would."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) button[type=submit]").click()


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot to tests/e2e/screenshots/<name>.png (git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
