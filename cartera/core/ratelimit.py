"""A fixed-window request limiter on Django's cache, and the client address it counts by.

Each key (an API token, a user, a client address) may make ``limit`` requests per window of
``period`` seconds; the count lives in the cache, so every process sharing the cache (Redis,
see ``CACHE_URL``) shares the limit. With the default in-process cache each worker counts on
its own.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest

_PERIODS = {
    "s": 1, "sec": 1, "second": 1,
    "m": 60, "min": 60, "minute": 60,
    "h": 3600, "hour": 3600,
    "d": 86400, "day": 86400,
}  # fmt: skip
_RATE = re.compile(r"^\s*(\d+)\s*(?:/\s*(\d*)\s*([a-z]+)\s*)?$")


@dataclass(frozen=True)
class Rate:
    """``limit`` requests per ``period`` seconds."""

    limit: int
    period: int

    @classmethod
    def parse(cls, value: str | int) -> Rate:
        """ "600/minute", "60/m", "20/10m" or "5000/hour"; a bare number counts per minute."""
        if isinstance(value, int):
            return cls(limit=value, period=60)
        match = _RATE.match(value.lower())
        if match is None:
            raise ValueError(f"Not a rate: {value!r} (expected e.g. '600/minute').")
        limit, multiple, unit = match.groups()
        if unit is None:
            return cls(limit=int(limit), period=60)
        if unit not in _PERIODS and unit.endswith("s"):
            unit = unit[:-1]  # "minutes", "hours"
        if unit not in _PERIODS:
            raise ValueError(f"Not a rate period: {unit!r} (use s, m, h or d).")
        period = _PERIODS[unit] * (int(multiple) if multiple else 1)
        if period <= 0:
            raise ValueError(f"Not a rate: {value!r} (the period must be positive).")
        return cls(limit=int(limit), period=period)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one counted request."""

    allowed: bool
    count: int
    limit: int
    retry_after: int  # seconds until the current window ends


class RateLimitExceededError(Exception):
    """Raised where a request over its limit must be answered with 429."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Rate limit exceeded; retry after {retry_after} s.")
        self.retry_after = retry_after


def hit(key: str, rate: Rate, *, now: float | None = None) -> Verdict:
    """Count one request for ``key`` in the current window and say whether it is allowed."""
    cache = caches[getattr(settings, "CARTERA_RATELIMIT_CACHE", "default")]
    moment = time.time() if now is None else now
    window = int(moment // rate.period)
    # Hashed: keys stay short and no token or address is kept in the cache as it came.
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"cartera:rl:{rate.period}:{window}:{digest}"
    # The entry outlives its window by a little, then the cache drops it on its own.
    if cache.add(cache_key, 1, timeout=rate.period + 5):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add() and incr()
            cache.set(cache_key, 1, timeout=rate.period + 5)
            count = 1
    retry_after = max(1, int((window + 1) * rate.period - moment + 0.999))
    return Verdict(
        allowed=count <= rate.limit, count=count, limit=rate.limit, retry_after=retry_after
    )


def enforce(key: str, rate: Rate | str | int) -> None:
    """Count one request; raise ``RateLimitExceededError`` when it is over the limit."""
    verdict = hit(key, rate if isinstance(rate, Rate) else Rate.parse(rate))
    if not verdict.allowed:
        raise RateLimitExceededError(verdict.retry_after)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the one our own proxies saw.

    With ``CARTERA_PROXY_COUNT=n`` (n trusted reverse proxies in front of the app) the
    address is the n-th entry from the right of ``X-Forwarded-For``; entries further left
    were written by the client and could be forged.
    """
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = int(getattr(settings, "CARTERA_PROXY_COUNT", 0))
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
        if part.strip()
    ]
    if len(forwarded) >= proxies:
        return forwarded[-proxies]
    return forwarded[0] if forwarded else remote
