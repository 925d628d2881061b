"""The private calendar feed, and the page where a user makes, replaces or revokes it and
turns the daily digest on or off."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cartera.accounts.models import User
from cartera.activities import calendar
from cartera.activities.models import CalendarFeed
from cartera.core import ratelimit

# The new feed's key, kept in the session only until the page shows it once.
NEW_KEY = "cartera_calendar_new_key"


# --- The feed -------------------------------------------------------------------------------


def _too_many(error: ratelimit.RateLimitExceededError) -> HttpResponse:
    response = HttpResponse(
        _("Too many requests. Try again in %(seconds)s seconds.") % {"seconds": error.retry_after},
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(error.retry_after)
    return response


@require_safe
def feed(request: HttpRequest, key: str) -> HttpResponse:
    """The .ics of the user the key belongs to; no session needed (calendar apps have none).

    Each key may be read CARTERA_CALENDAR_RATE times; unknown keys also count against the
    client's address, so guessing is slowed down as on the API.
    """
    try:
        ratelimit.enforce(f"calendar:{calendar.hash_key(key)}", settings.CARTERA_CALENDAR_RATE)
        user = calendar.feed_owner(key)
        if user is None:
            ratelimit.enforce(
                f"calendar:miss:{ratelimit.client_ip(request)}", settings.CARTERA_API_ANON_RATE
            )
            raise Http404
    except ratelimit.RateLimitExceededError as error:
        return _too_many(error)
    body = calendar.build_calendar(user, timezone.localdate())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="cartera.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


# --- The settings page ----------------------------------------------------------------------


class CalendarActionForm(forms.Form):
    """One of the page's buttons: make (or replace) the feed, revoke it, or save the digest."""

    action = forms.ChoiceField(
        choices=[
            ("create", gettext_lazy("Create the address")),
            ("revoke", gettext_lazy("Revoke the address")),
            ("digest", gettext_lazy("Save")),
        ]
    )
    digest_enabled = forms.BooleanField(
        label=gettext_lazy("Send me the daily e-mail digest"),
        required=False,
        help_text=gettext_lazy("Each morning, an e-mail with the day's tasks and reminders."),
    )


@login_required
@never_cache
def calendar_settings(request: HttpRequest) -> HttpResponse:
    """The signed-in user's calendar address and daily digest."""
    user = request.user
    assert isinstance(user, User)
    form = CalendarActionForm(request.POST or None, initial={"digest_enabled": user.digest_enabled})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            return _act(request, user, form.cleaned_data)
        status = 422
    new_key = request.session.pop(NEW_KEY, None)
    feed = CalendarFeed.objects.filter(user=user).first()
    context = {
        "form": form,
        "feed": feed,
        "new_url": calendar.feed_url(new_key) if new_key and feed else "",
        "past_days": calendar.PAST_DAYS,
    }
    return render(request, "activities/calendar_settings.html", context, status=status)


def _act(request: HttpRequest, user: User, data: dict[str, object]) -> HttpResponse:
    action = data["action"]
    if action == "create":
        _feed, key = calendar.issue_feed(user=user)
        request.session[NEW_KEY] = key  # the page shows it once, with what to do with it
    elif action == "revoke":
        if calendar.revoke_feed(user=user):
            messages.success(request, _("The calendar address no longer works."))
    else:
        user.digest_enabled = bool(data["digest_enabled"])
        user.save(update_fields=["digest_enabled"])
        if user.digest_enabled:
            messages.success(request, _("You will receive the daily digest."))
        else:
            messages.success(request, _("You will not receive the daily digest."))
    return redirect("calendar:settings")
