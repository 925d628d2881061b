"""E-mail configuration from the environment: the console by default, SMTP when configured."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import override_settings

from cartera.core.mail_settings import CONSOLE, FILES, SMTP, email_settings


def test_without_configuration_mail_goes_to_the_console() -> None:
    assert email_settings({})["EMAIL_BACKEND"] == CONSOLE
    assert email_settings({"EMAIL_URL": "console://"})["EMAIL_BACKEND"] == CONSOLE


def test_an_smtp_url_with_starttls() -> None:
    found = email_settings({"EMAIL_URL": "smtp://avisos%40empresa.es:cl%C3%A1ve@mail.empresa.es"})
    assert found["EMAIL_BACKEND"] == SMTP
    assert found["EMAIL_HOST"] == "mail.empresa.es"
    assert found["EMAIL_PORT"] == 587
    assert found["EMAIL_HOST_USER"] == "avisos@empresa.es"
    assert found["EMAIL_HOST_PASSWORD"] == "cláve"
    assert (found["EMAIL_USE_TLS"], found["EMAIL_USE_SSL"]) == (True, False)


def test_an_smtps_url_and_a_plain_relay() -> None:
    ssl = email_settings({"EMAIL_URL": "smtps://u:p@smtp.example.com"})
    assert (ssl["EMAIL_PORT"], ssl["EMAIL_USE_SSL"], ssl["EMAIL_USE_TLS"]) == (465, True, False)
    relay = email_settings({"EMAIL_URL": "smtp://relay.local:25?tls=0"})
    assert (relay["EMAIL_PORT"], relay["EMAIL_USE_TLS"], relay["EMAIL_HOST_USER"]) == (
        25,
        False,
        "",
    )


def test_a_file_url_saves_messages_in_a_folder(tmp_path: Path) -> None:
    found = email_settings({"EMAIL_URL": f"file://{tmp_path}/correo%20local"})
    assert (found["EMAIL_BACKEND"], found["EMAIL_FILE_PATH"]) == (
        FILES,
        f"{tmp_path}/correo local",
    )
    # the folder is written by Django's own file backend, one file per batch of messages
    with override_settings(EMAIL_BACKEND=FILES, EMAIL_FILE_PATH=found["EMAIL_FILE_PATH"]):
        mail.send_mail("Resumen del día", "Tres tareas", None, ["lucia@example.com"])
    (saved,) = (tmp_path / "correo local").iterdir()
    assert "Tres tareas" in saved.read_text() and "lucia@example.com" in saved.read_text()
    odd = email_settings({"EMAIL_URL": "file://localhost/srv/casa #2?/mail"})
    assert odd["EMAIL_FILE_PATH"] == "/srv/casa #2?/mail"
    for wrong in ("file://var/mail", "file:///"):
        with pytest.raises(ValueError, match="absolute"):
            email_settings({"EMAIL_URL": wrong})


def test_separate_variables() -> None:
    found = email_settings(
        {"EMAIL_HOST": "smtp.example.com", "EMAIL_HOST_USER": "u", "EMAIL_HOST_PASSWORD": "p"}
    )
    assert found["EMAIL_BACKEND"] == SMTP
    assert (found["EMAIL_PORT"], found["EMAIL_USE_TLS"]) == (587, True)
    assert email_settings({"EMAIL_HOST": "h", "EMAIL_USE_SSL": "1"})["EMAIL_PORT"] == 465


def test_an_explicit_backend_wins_and_a_wrong_url_is_refused() -> None:
    backend = "django.core.mail.backends.filebased.EmailBackend"
    assert email_settings({"EMAIL_BACKEND": backend})["EMAIL_BACKEND"] == backend
    with pytest.raises(ValueError, match="EMAIL_URL"):
        email_settings({"EMAIL_URL": "http://mail.example.com"})


def test_mail_is_sent_from_the_configured_address() -> None:
    mail.send_mail("Asunto", "Cuerpo", None, ["cliente@example.com"])
    assert mail.outbox[0].from_email == settings.DEFAULT_FROM_EMAIL
