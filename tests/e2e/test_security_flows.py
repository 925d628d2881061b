"""Two-step verification and the login lockout, in Chromium (the page must break no CSP rule)."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, expect

from cartera.accounts.models import User
from tests.e2e.conftest import expect_http_errors, login, shot

pytestmark = pytest.mark.e2e


def test_setting_up_two_step_verification_and_logging_in_with_it(
    page: Page, live_server: Any, owner: User
) -> None:
    # given olga logged in, opening "Verificación en dos pasos" from her menu
    login(page, live_server, owner)
    page.locator("summary", has_text=str(owner)).click()
    page.get_by_role("link", name=re.compile("dos pasos")).click()
    # then she sees the QR code and the key
    expect(page.locator("figure svg")).to_be_visible()
    shot(page, "20-two-factor-setup")
    secret = page.locator("code").inner_text().replace(" ", "")
    app = pyotp.TOTP(secret)
    # when she confirms with the code of her app
    page.locator("input[name=code]").fill(app.now())
    with page.expect_navigation():
        page.locator("form:has(input[name=code]) button[type=submit]").click()
    # then it is on
    owner.refresh_from_db()
    assert owner.has_two_factor
    # when she logs out and in again
    page.locator("summary", has_text=str(owner)).click()
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Salir|Cerrar sesión|Log out")).click()
    login(page, live_server, owner)
    # then the code is asked for before anything else
    expect(page).to_have_url(re.compile(r"/accounts/login/code/$"))
    shot(page, "21-two-factor-code")
    # (the code that turned it on is used up: the app's next one is accepted a step early)
    page.locator("input[name=code]").fill(app.at(time.time() + 30))
    with page.expect_navigation():
        page.locator("form:has(input[name=code]) button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/today/$"))


def test_the_lockout_page_after_five_wrong_passwords(
    page: Page, live_server: Any, owner: User, request: pytest.FixtureRequest
) -> None:
    # given a browser that got the password wrong five times
    expect_http_errors(request, 429)
    for _ in range(5):
        login(page, live_server, owner, password="no-es-la-clave")
    # then the lockout page explains it inside the application's layout
    expect(page.locator("h1")).to_have_text(re.compile(r"\S"))
    expect(page.locator("header.topbar")).to_be_visible()
    expect(page.locator(".alert.warning")).to_contain_text("15")
    shot(page, "22-login-locked")
