"""Hardening: login lockout and throttling, two-step verification, session expiry, logs."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pyotp
import pytest
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from gunicorn.config import Config
from gunicorn.glogging import Logger

import cartera.settings as production
from cartera.accounts.middleware import AUTH_AT, SEEN_AT
from cartera.accounts.models import User
from cartera.accounts.signin import PENDING
from cartera.core.management.commands.serve import ACCESS_LOG_FORMAT, gunicorn_argv
from cartera.core.models import Company
from tests.conftest import PASSWORD, client_for

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
CODE = "/accounts/login/code/"
SETUP = "/accounts/two-factor/"


@pytest.fixture(autouse=True)
def fresh_rate_counters() -> None:
    """The rate limiter counts in the in-process cache, which outlives each test."""
    cache.clear()


def log_in(client: Client, username: str, password: str, **extra: Any) -> Any:
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def is_logged_in(client: Client) -> bool:
    return client.get("/customers/").status_code == 200


def with_two_factor(user: User) -> pyotp.TOTP:
    """Give the user a TOTP secret, as if set up on their phone; return their 'app'."""
    secret = pyotp.random_base32()
    user.totp_secret = secret
    user.totp_enabled_at = timezone.now()
    user.save()
    return pyotp.TOTP(secret)


def require_two_factor_for_admins() -> None:
    company = Company.load()
    company.require_2fa_for_admins = True
    company.save()


# --- Lockout after repeated failures (django-axes) ------------------------------------------------


def test_five_failures_lock_the_username_even_with_the_right_password(owner: User) -> None:
    # given four wrong passwords, each refused with the usual form error
    client = Client()
    for _ in range(4):
        assert log_in(client, "olga", "mala").status_code == 200
    # when the fifth fails
    fifth = log_in(client, "olga", "mala")
    # then the username is locked on this address: 429, in Spanish, inside the app layout
    assert fifth.status_code == 429
    assert fifth["Retry-After"] == str(15 * 60)
    page = fifth.content.decode()
    assert '<html lang="es"' in page
    assert "Demasiados intentos" in page
    assert 'class="topbar"' in page
    # and the sixth attempt, with the right password, is refused as well
    sixth = log_in(client, "olga", PASSWORD)
    assert sixth.status_code == 429
    assert not is_logged_in(client)
    # when an administrator resets the lockout
    axes_reset(username="olga")
    # then the right password works again
    assert log_in(client, "olga", PASSWORD).status_code == 302
    assert is_logged_in(client)


def test_the_lock_ends_after_the_cool_off(owner: User) -> None:
    # given a locked username
    client = Client()
    for _ in range(5):
        log_in(client, "olga", "mala")
    # when 14 minutes have passed it is still locked
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    assert log_in(client, "olga", PASSWORD).status_code == 429
    # when 15 minutes have passed since the last failure
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=5))
    # then the right password logs in
    assert log_in(client, "olga", PASSWORD).status_code == 302


def test_the_limit_and_cool_off_come_from_the_settings(owner: User, settings: Any) -> None:
    # given a limit of 2 failures and a cool-off of 1 minute
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    client = Client()
    # then the second failure locks, for a minute
    assert log_in(client, "olga", "mala").status_code == 200
    locked = log_in(client, "olga", "mala")
    assert locked.status_code == 429
    assert locked["Retry-After"] == "60"


def test_the_lock_is_for_that_username_on_that_address_only(owner: User, teammate: User) -> None:
    # given olga locked from 127.0.0.1
    client = Client()
    for _ in range(5):
        log_in(client, "olga", "mala")
    # then olga can still log in from another address
    assert log_in(Client(), "olga", PASSWORD, REMOTE_ADDR="10.0.0.7").status_code == 302
    # and tomas from the same address
    assert log_in(Client(), "tomas", PASSWORD).status_code == 302


def test_a_successful_login_resets_the_failures(owner: User) -> None:
    # given four failures, then the right password
    client = Client()
    for _ in range(4):
        log_in(client, "olga", "mala")
    assert log_in(client, "olga", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    # when four more failures happen
    for _ in range(4):
        response = log_in(client, "olga", "mala")
    # then the count started again: not locked
    assert response.status_code == 200
    assert log_in(client, "olga", PASSWORD).status_code == 302


def test_lockout_log_lines_name_neither_the_user_nor_the_address(
    owner: User, caplog: pytest.LogCaptureFixture
) -> None:
    # given the lockout's logger at its most verbose
    caplog.set_level(logging.DEBUG, logger="axes")
    # when olga gets locked out
    client = Client()
    for _ in range(5):
        log_in(client, "olga", "mala")
    # then something was logged, without her username nor the address
    assert "AXES" in caplog.text
    assert "olga" not in caplog.text
    assert "127.0.0.1" not in caplog.text


# --- Login rate per address -----------------------------------------------------------------------


def test_too_many_login_requests_from_one_address_are_throttled(owner: User, settings: Any) -> None:
    # given a rate of 3 login requests a minute per address
    settings.CARTERA_LOGIN_RATE = "3/minute"
    client = Client()
    # when 3 attempts with different usernames are made (none gets locked)
    for name in ("a", "b", "c"):
        assert log_in(client, name, "x").status_code == 200
    # then the fourth is refused before any password is checked, saying when to retry
    response = log_in(client, "olga", PASSWORD)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Demasiados intentos" in response.content.decode()
    assert not is_logged_in(client)
    # and another address is not affected
    assert log_in(Client(), "olga", PASSWORD, REMOTE_ADDR="10.0.0.8").status_code == 302


def test_the_login_form_itself_is_not_throttled(owner: User, settings: Any) -> None:
    # given a rate of 1 login request a minute
    settings.CARTERA_LOGIN_RATE = "1/minute"
    client = Client()
    # then showing the form does not count, only posting it
    for _ in range(3):
        assert client.get(LOGIN).status_code == 200
    assert log_in(client, "olga", PASSWORD).status_code == 302


# --- Two-step verification: setting it up ---------------------------------------------------------


def test_setting_up_two_factor_needs_a_valid_code(owner: User) -> None:
    # given the setup page, with a QR code and the key to type by hand
    client = client_for(owner)
    page = client.get(SETUP)
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0")
    secret = page.context["secret"].replace(" ", "")
    app = pyotp.TOTP(secret)
    # when a wrong code is entered
    wrong = client.post(SETUP, {"code": "000000" if app.now() != "000000" else "111111"})
    # then nothing is turned on
    assert wrong.status_code == 422
    owner.refresh_from_db()
    assert not owner.has_two_factor
    # when the app's current code is entered
    response = client.post(SETUP, {"code": app.now()})
    # then it is on, with the secret shown on the page
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.has_two_factor
    assert owner.totp_secret == secret
    # and the secret is never shown again
    assert secret[:8] not in client.get(SETUP).content.decode()


def test_the_secret_stays_the_same_until_confirmed(owner: User) -> None:
    # given the setup page opened twice (e.g. after a typing mistake)
    client = client_for(owner)
    first = client.get(SETUP).context["secret"]
    second = client.get(SETUP).context["secret"]
    # then the QR code scanned the first time still works
    assert first == second


def test_turning_two_factor_off_asks_for_the_password(owner: User) -> None:
    # given olga with two-step verification
    with_two_factor(owner)
    client = client_for(owner)
    # when she tries to turn it off with a wrong password
    assert client.post(SETUP, {"password": "no-es"}).status_code == 422
    owner.refresh_from_db()
    assert owner.has_two_factor
    # then with her password it goes off
    assert client.post(SETUP, {"password": PASSWORD}).status_code == 302
    owner.refresh_from_db()
    assert not owner.has_two_factor
    assert owner.totp_secret == ""


# --- Two-step verification: logging in ------------------------------------------------------------


def test_login_with_two_factor_needs_the_code(owner: User) -> None:
    # given olga with two-step verification
    app = with_two_factor(owner)
    client = Client()
    # when she gives her password
    response = log_in(client, "olga", PASSWORD)
    # then she is asked for the code, and is not logged in yet
    assert response.status_code == 302
    assert response["Location"] == CODE
    assert not is_logged_in(client)
    assert client.get(CODE).status_code == 200
    # when she types a wrong code
    code = app.now()
    wrong = "111111" if code != "111111" else "222222"
    refused = client.post(CODE, {"code": wrong})
    # then it is refused and she is still not logged in
    assert refused.status_code == 200
    assert refused.context["form"].errors["code"]
    assert not is_logged_in(client)
    # when she types the code of her app
    accepted = client.post(CODE, {"code": code})
    # then she is logged in
    assert accepted.status_code == 302
    assert accepted["Location"] == "/today/"
    assert is_logged_in(client)


def test_a_code_cannot_be_used_twice(owner: User) -> None:
    # given olga logged in with a code
    app = with_two_factor(owner)
    client = Client()
    log_in(client, "olga", PASSWORD)
    code = app.now()
    assert client.post(CODE, {"code": code}).status_code == 302
    client.post("/accounts/logout/")
    # when someone who saw the code replays it after the password
    log_in(client, "olga", PASSWORD)
    replay = client.post(CODE, {"code": code})
    # then it is refused
    assert replay.status_code == 200
    assert not is_logged_in(client)


def test_the_login_keeps_where_the_user_was_going(owner: User) -> None:
    # given a login that started from a customer page
    app = with_two_factor(owner)
    client = Client()
    client.post(LOGIN, {"username": "olga", "password": PASSWORD, "next": "/customers/new/"})
    # when the code is given
    response = client.post(CODE, {"code": app.now()})
    # then the user lands where they were going
    assert response["Location"] == "/customers/new/"


def test_the_code_step_expires_after_five_minutes(owner: User) -> None:
    # given a password given 5 minutes and a second ago
    app = with_two_factor(owner)
    client = Client()
    log_in(client, "olga", PASSWORD)
    session = client.session
    session[PENDING] = session[PENDING] | {"since": int(time.time()) - 301}
    session.save()
    # when the right code arrives
    response = client.post(CODE, {"code": app.now()})
    # then it is too late: back to the password
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert not is_logged_in(client)


def test_five_wrong_codes_send_the_user_back_to_the_password(owner: User) -> None:
    # given the code step
    app = with_two_factor(owner)
    client = Client()
    log_in(client, "olga", PASSWORD)
    wrong = "123456" if app.now() != "123456" else "654321"
    # when four wrong codes are typed the step goes on
    for _ in range(4):
        assert client.post(CODE, {"code": wrong}).status_code == 200
    # and after the fifth
    fifth = client.post(CODE, {"code": wrong})
    # then it starts again from the password, even for the right code
    assert fifth.status_code == 302
    assert fifth["Location"] == LOGIN
    assert client.post(CODE, {"code": app.now()})["Location"] == LOGIN
    assert not is_logged_in(client)
    # and the lost round counts as one failed login towards the lockout
    assert AccessAttempt.objects.get(username="olga").failures_since_start == 1


def test_guessing_codes_round_after_round_ends_in_the_lockout(owner: User, settings: Any) -> None:
    # given a lockout after 2 failures
    settings.AXES_FAILURE_LIMIT = 2
    app = with_two_factor(owner)
    client = Client()
    wrong = "123456" if app.now() != "123456" else "654321"
    # when two rounds of five wrong codes are played
    for _ in range(2):
        log_in(client, "olga", PASSWORD)
        for _ in range(5):
            response = client.post(CODE, {"code": wrong})
    # then the username is locked, even for the right password
    assert response.status_code == 429
    assert log_in(client, "olga", PASSWORD).status_code == 429


def test_the_code_page_without_a_password_goes_to_the_login(owner: User) -> None:
    assert Client().get(CODE)["Location"] == LOGIN
    assert Client().post(CODE, {"code": "123456"})["Location"] == LOGIN


def test_users_without_two_factor_log_in_with_the_password_alone(owner: User) -> None:
    client = Client()
    assert log_in(client, "olga", PASSWORD)["Location"] == "/today/"
    assert is_logged_in(client)


# --- Two-step verification required for administrators --------------------------------------------


def test_an_admin_without_two_factor_must_set_it_up_first(admin_user: User, owner: User) -> None:
    # given a company that requires two-step verification for administrators
    require_two_factor_for_admins()
    client = Client()
    # when an administrator without it logs in
    assert log_in(client, "ana", PASSWORD).status_code == 302
    # then every page leads to the setup page
    for url in ("/customers/", "/settings/", "/accounts/users/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == SETUP
    setup = client.get(SETUP)
    assert setup.status_code == 200
    assert setup.context["must_set_up"]
    # and a salesperson is not concerned
    assert is_logged_in(client_for(owner))
    # when the administrator sets it up
    app = pyotp.TOTP(setup.context["secret"].replace(" ", ""))
    assert client.post(SETUP, {"code": app.now()}).status_code == 302
    # then the application opens
    assert client.get("/settings/").status_code == 200
    # and an administrator may not turn it off while the company requires it
    client.post(SETUP, {"password": PASSWORD})
    admin_user.refresh_from_db()
    assert admin_user.has_two_factor


def test_the_required_setup_still_lets_the_admin_log_out(admin_user: User) -> None:
    # given an administrator held at the setup page
    require_two_factor_for_admins()
    client = Client()
    log_in(client, "ana", PASSWORD)
    # when they log out
    response = client.post("/accounts/logout/")
    # then they are logged out, not sent to the setup page
    assert response["Location"] == LOGIN
    assert client.get("/customers/")["Location"].startswith(LOGIN)


def test_an_admin_with_two_factor_is_not_held(admin_user: User) -> None:
    # given a company requiring it and an admin who has it
    require_two_factor_for_admins()
    app = with_two_factor(admin_user)
    client = Client()
    # when they log in with password and code
    log_in(client, "ana", PASSWORD)
    client.post(CODE, {"code": app.now()})
    # then they go straight to work
    assert client.get("/settings/").status_code == 200


def test_the_requirement_is_a_company_setting(admin_user: User) -> None:
    # given the company settings form
    client = client_for(admin_user)
    form = client.get("/settings/").context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    # when the administrator ticks the requirement
    response = client.post("/settings/", data | {"require_2fa_for_admins": "on"})
    # then it is saved
    assert response.status_code == 302
    assert Company.load().require_2fa_for_admins


def test_an_admin_can_turn_off_someone_elses_two_factor(
    admin_user: User, manager: User, owner: User
) -> None:
    # given olga, who lost her phone
    with_two_factor(owner)
    url = f"/accounts/users/{owner.pk}/two-factor/reset/"
    # then her user page offers to turn it off
    page = client_for(admin_user).get(f"/accounts/users/{owner.pk}/").content.decode()
    assert url in page
    # and only an administrator may, by POST
    assert client_for(manager).post(url).status_code == 403
    assert client_for(admin_user).get(url).status_code == 405
    owner.refresh_from_db()
    assert owner.has_two_factor
    # when the administrator does it
    response = client_for(admin_user).post(url)
    # then she logs in with her password alone
    assert response.status_code == 302
    owner.refresh_from_db()
    assert not owner.has_two_factor
    client = Client()
    log_in(client, "olga", PASSWORD)
    assert is_logged_in(client)


# --- Session expiry -------------------------------------------------------------------------------


def _age_session(client: Client, **ago: int) -> None:
    session = client.session
    now = int(time.time())
    for key, seconds in ago.items():
        session[{"seen": SEEN_AT, "started": AUTH_AT}[key]] = now - seconds
    session.save()


def test_an_idle_session_is_logged_out(owner: User, settings: Any) -> None:
    # given a session idle for one minute more than the limit
    settings.CARTERA_IDLE_MINUTES = 30
    client = client_for(owner)
    _age_session(client, seen=31 * 60)
    # when the user comes back
    response = client.get("/customers/")
    # then they must log in again, and are told why
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    login_page = client.get(response["Location"])
    assert list(login_page.context["messages"])
    assert not is_logged_in(client)


def test_activity_keeps_the_session_alive(owner: User, settings: Any) -> None:
    # given a session last used 29 minutes ago, with a limit of 30
    settings.CARTERA_IDLE_MINUTES = 30
    client = client_for(owner)
    _age_session(client, seen=29 * 60)
    # when the user comes back
    assert client.get("/customers/").status_code == 200
    # then the activity is recorded, so the session lives on
    assert int(time.time()) - client.session[SEEN_AT] < 5


def test_recent_activity_is_not_written_on_every_request(owner: User) -> None:
    # given a session used 10 seconds ago
    client = client_for(owner)
    _age_session(client, seen=10)
    before = client.session[SEEN_AT]
    # when another page is opened
    client.get("/customers/")
    # then the session was not rewritten
    assert client.session[SEEN_AT] == before


def test_a_session_ends_after_its_lifetime_even_when_active(owner: User, settings: Any) -> None:
    # given a session started longer ago than SESSION_COOKIE_AGE but used a minute ago
    client = client_for(owner)
    _age_session(client, started=settings.SESSION_COOKIE_AGE + 60, seen=60)
    # then it is over
    assert client.get("/customers/").status_code == 302
    assert not is_logged_in(client)


def test_idle_limit_default_is_an_hour() -> None:
    assert production.CARTERA_IDLE_MINUTES == 60


# --- Headers, hashing, logs -----------------------------------------------------------------------


def test_security_headers_and_a_strict_content_security_policy(owner: User) -> None:
    response = client_for(owner).get("/customers/")
    directives = dict(
        [*part.split(" ", 1), ""][:2]
        for part in (d.strip() for d in response["Content-Security-Policy"].split(";"))
    )
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"]
    assert "data:" in directives["img-src"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_production_hashes_passwords_with_argon2() -> None:
    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert production.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_a_404_log_line_has_no_query_string(owner: User, caplog: pytest.LogCaptureFixture) -> None:
    # given a search for a person's name that ends in a page not found
    caplog.set_level(logging.INFO, logger="django.request")
    response = client_for(owner).get("/customers/no-such-page/?q=Maria")
    assert response.status_code == 404
    # then the request was logged, by its path only
    lines = [record.getMessage() for record in caplog.records if record.name == "django.request"]
    assert lines == ["Not Found: /customers/no-such-page/"]
    assert "Maria" not in caplog.text


def test_gunicorn_access_log_leaves_out_query_string_and_referrer() -> None:
    # given the command line `cartera serve` runs, as gunicorn parses it
    argv = gunicorn_argv(host="127.0.0.1", port=8000, workers=2)
    parsed = Config().parser().parse_args(argv[2:])
    assert parsed.access_log_format == ACCESS_LOG_FORMAT
    assert "%(r)s" not in ACCESS_LOG_FORMAT
    assert "%(U)s" in ACCESS_LOG_FORMAT
    # when gunicorn formats the access line of a search
    config = Config()
    config.set("access_log_format", parsed.access_log_format)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/customers/?q=Maria+Lopez",
        "PATH_INFO": "/customers/",
        "QUERY_STRING": "q=Maria+Lopez",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": "https://crm.example.com/customers/?q=Maria+Lopez",
        "HTTP_USER_AGENT": "Mozilla/5.0",
    }
    reply = SimpleNamespace(status="200 OK", sent=512, headers=[])
    atoms = Logger(config).atoms(reply, [], environ, timedelta(milliseconds=12))
    line = config.access_log_format % atoms
    # then the line has the method, path and status, and nothing personal
    assert '"GET /customers/ HTTP/1.1" 200 512' in line
    assert "Maria" not in line
    assert "203.0.113.9" not in line


def test_gunicorn_access_log_leaves_out_calendar_keys() -> None:
    # given the logger class `cartera serve` gives gunicorn
    from cartera.core.access_log import RedactingLogger

    argv = gunicorn_argv(host="127.0.0.1", port=8000, workers=2)
    parsed = Config().parser().parse_args(argv[2:])
    assert parsed.logger_class == "cartera.core.access_log.RedactingLogger"
    config = Config()
    config.set("access_log_format", parsed.access_log_format)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/calendar/s3cr3t-key-123.ics",
        "PATH_INFO": "/calendar/s3cr3t-key-123.ics",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    reply = SimpleNamespace(status="200 OK", sent=900, headers=[])
    # when it formats the access line of a calendar application's request
    atoms = RedactingLogger(config).atoms(reply, [], environ, timedelta(milliseconds=5))
    line = config.access_log_format % atoms
    # then the key is not in it
    assert '"GET /calendar/….ics HTTP/1.1" 200 900' in line
    assert "s3cr3t" not in line
