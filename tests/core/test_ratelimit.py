"""The fixed-window rate limiter and the API's limits per token, user and address."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.utils import translation

import cartera.settings as production
from cartera.accounts.models import ApiToken, User
from cartera.core.ratelimit import Rate, client_ip, hit
from tests.conftest import bearer, client_for


@pytest.fixture(autouse=True)
def fresh_rate_counters() -> None:
    """The counters live in the in-process cache, which outlives each test."""
    cache.clear()


# --- Rates and windows ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "period"),
    [
        ("600/minute", 600, 60),
        ("60/m", 60, 60),
        ("20/10m", 20, 600),
        ("5000/hour", 5000, 3600),
        ("10/s", 10, 1),
        ("100/day", 100, 86400),
        ("3/minutes", 3, 60),
        ("45", 45, 60),
    ],
)
def test_rates_are_read_from_the_settings_text(text: str, limit: int, period: int) -> None:
    assert Rate.parse(text) == Rate(limit=limit, period=period)


@pytest.mark.parametrize("text", ["", "many", "10/fortnight", "10/0m", "-5/m"])
def test_a_rate_that_makes_no_sense_is_an_error(text: str) -> None:
    with pytest.raises(ValueError):
        Rate.parse(text)


def test_a_fixed_window_allows_the_limit_then_refuses_until_it_ends() -> None:
    # given a rate of 3 a minute, at 10 s into a window
    rate = Rate(limit=3, period=60)
    start = 6_000_000.0 + 10
    # when 4 requests come within the window
    verdicts = [hit("k", rate, now=start + n) for n in range(4)]
    # then 3 pass and the fourth waits for the end of the window
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert verdicts[3].retry_after == 60 - 13
    # and the next window starts from zero
    assert hit("k", rate, now=start + 50).allowed
    # while other keys have their own count
    assert hit("other", rate, now=start + 3).allowed


def test_the_production_defaults() -> None:
    assert Rate.parse(production.CARTERA_API_RATE) == Rate(limit=600, period=60)
    assert Rate.parse(production.CARTERA_API_ANON_RATE) == Rate(limit=60, period=60)
    assert production.CACHES["default"]["BACKEND"].endswith("LocMemCache")


def test_cache_url_selects_redis_only_when_the_client_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given no CACHE_URL, the in-process cache
    monkeypatch.delenv("CACHE_URL", raising=False)
    assert production._caches()["default"]["BACKEND"].endswith("LocMemCache")
    # given a Redis address
    monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:6379/1")
    if importlib.util.find_spec("redis") is None:
        # then without the redis package the memory cache stays, with a warning
        with pytest.warns(UserWarning, match="redis"):
            caches = production._caches()
        assert caches["default"]["BACKEND"].endswith("LocMemCache")
    else:
        caches = production._caches()
        assert caches["default"] == {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/1",
        }


# --- The client address ---------------------------------------------------------------------------


def test_the_client_address_ignores_forwarded_headers_unless_proxies_are_trusted(
    settings: Any,
) -> None:
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5"
    )
    # given no trusted proxy, the header could be forged: the socket's address counts
    settings.CARTERA_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    # given one proxy of ours, the address it saw (the rightmost) counts
    settings.CARTERA_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.5"
    # given two, the one the first proxy saw
    settings.CARTERA_PROXY_COUNT = 2
    assert client_ip(request) == "6.6.6.6"


# --- The API --------------------------------------------------------------------------------------


def test_a_token_over_its_rate_gets_429_in_spanish(owner: User, settings: Any) -> None:
    # given a rate of 3 requests a minute and a token
    settings.CARTERA_API_RATE = "3/minute"
    headers = bearer(owner, scope="read")
    client = Client()
    # when it makes 4 requests
    statuses = [client.get("/api/customers", **headers).status_code for _ in range(4)]
    # then the fourth is refused with a JSON reason and when to retry
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/customers", **headers)
    assert refused.status_code == 429
    seconds = int(refused["Retry-After"])
    assert 1 <= seconds <= 60
    with translation.override("es"):
        expected = translation.gettext("Too many requests. Try again in %(seconds)s seconds.")
    assert refused.json() == {"detail": expected % {"seconds": seconds}}
    assert refused.json()["detail"].startswith("Demasiadas peticiones")
    # and another token of the same user has its own allowance
    assert client.get("/api/customers", **bearer(owner, scope="read")).status_code == 200


def test_writes_count_too(owner: User, settings: Any) -> None:
    # given a rate of 1 request a minute
    settings.CARTERA_API_RATE = "1/minute"
    headers = bearer(owner)
    client = Client()
    client.get("/api/customers", **headers)
    # when the token then tries to write
    response = client.post(
        "/api/customers", {"legal_name": "X"}, content_type="application/json", **headers
    )
    # then it is refused before anything is done
    assert response.status_code == 429


def test_a_browser_session_is_limited_per_user(owner: User, teammate: User, settings: Any) -> None:
    # given a rate of 2 requests a minute
    settings.CARTERA_API_RATE = "2/minute"
    olga = client_for(owner)
    # when olga's browser calls the API 3 times
    statuses = [olga.get("/api/customers").status_code for _ in range(3)]
    # then the third is refused, and tomas is not affected
    assert statuses == [200, 200, 429]
    assert client_for(teammate).get("/api/customers").status_code == 200


def test_anonymous_requests_are_limited_per_address(owner: User, settings: Any) -> None:
    # given a rate of 2 unauthenticated requests a minute per address
    settings.CARTERA_API_ANON_RATE = "2/minute"
    client = Client()
    guesses = [{"HTTP_AUTHORIZATION": f"Bearer {ApiToken.PREFIX}guess{n}"} for n in range(3)]
    # when one address guesses 3 tokens
    statuses = [client.get("/api/customers", **guess).status_code for guess in guesses]
    # then the third guess is not even answered with 401
    assert statuses == [401, 401, 429]
    assert "Retry-After" in client.get("/api/customers")
    # and another address still gets its 401
    assert Client(REMOTE_ADDR="10.1.1.1").get("/api/customers").status_code == 401
    # and a valid token from the same address works
    assert client.get("/api/customers", **bearer(owner)).status_code == 200
