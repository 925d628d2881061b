"""The private calendar feed (/calendar/<key>.ics) and its settings page, mounted at the root."""

from django.urls import path

from cartera.activities import calendar_views

app_name = "calendar"

urlpatterns = [
    path("calendar/<str:key>.ics", calendar_views.feed, name="feed"),
    path("accounts/calendar/", calendar_views.calendar_settings, name="settings"),
]
