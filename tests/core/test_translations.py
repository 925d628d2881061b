"""Every user-facing string is translated, and the compiled catalogues match the sources."""

from __future__ import annotations

import gettext
import os
import re
from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parents[2] / "cartera" / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%|%[sd]")


def test_spanish_catalogue_is_complete() -> None:
    # given the Spanish catalogue
    po = polib.pofile(str(LOCALE / "es" / "LC_MESSAGES" / "django.po"))
    # then every entry is translated, none is fuzzy
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []


def test_placeholders_survive_translation() -> None:
    po = polib.pofile(str(LOCALE / "es" / "LC_MESSAGES" / "django.po"))
    for entry in po.translated_entries():
        translations = (
            [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
        )
        expected = sorted(PLACEHOLDER.findall(entry.msgid))
        for text in translations:
            found = sorted(PLACEHOLDER.findall(text))
            assert set(found) <= set(expected) | {"%%"}, (entry.msgid, text)
            if not entry.msgid_plural:
                assert found == expected, (entry.msgid, text)


@pytest.mark.parametrize("language", ["es", "en"])
def test_compiled_catalogue_matches_source(language: str) -> None:
    # given the source and the compiled catalogue
    folder = LOCALE / language / "LC_MESSAGES"
    po = polib.pofile(str(folder / "django.po"))
    with open(folder / "django.mo", "rb") as handle:
        mo = gettext.GNUTranslations(handle)
    # then each translated string reads back the same from the .mo (run `make messages`)
    for entry in po.translated_entries():
        if entry.msgctxt:
            assert mo.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr, entry.msgid
        elif entry.msgid_plural:
            assert mo.ngettext(entry.msgid, entry.msgid_plural, 1) == entry.msgstr_plural[0]
        else:
            assert mo.gettext(entry.msgid) == entry.msgstr, entry.msgid


OUR_COMMANDS = {
    "cartera.accounts": ["createuser", "token"],
    "cartera.core": ["backup", "restore", "serve", "worker"],
    "cartera.customers": ["demo"],
    "cartera.privacy": ["retention"],
    "cartera.quality": ["duplicates"],
    "cartera.transfer": ["import"],
}


@pytest.mark.parametrize(
    ("app", "name"), [(app, name) for app, names in OUR_COMMANDS.items() for name in names]
)
def test_the_commands_help_is_in_the_active_language(app: str, name: str) -> None:
    # given one of the application's commands
    from django.core.management import load_command_class
    from django.utils import translation

    def help_in(language: str) -> tuple[str, str]:
        with translation.override(language):
            command = load_command_class(app, name)
            return command.help, command.create_parser("cartera", name).format_help()

    # when its help is asked for in Spanish and in English
    spanish, english = help_in("es"), help_in("en")
    # then it says what the command does in each, its options too
    assert spanish[0] and english[0] and spanish[0] != english[0]
    assert spanish[0][:30] in spanish[1]
    assert spanish[1] != english[1]


def test_the_site_s_language_is_chosen_by_cartera_language(tmp_path: Path) -> None:
    # given the command line with no language, with English, and with one Cartera lacks
    import subprocess
    import sys

    def cartera_help(language: str | None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "CARTERA_DATA_DIR": str(tmp_path)}
        env.pop("CARTERA_LANGUAGE", None)
        env.pop("DATABASE_URL", None)
        if language is not None:
            env["CARTERA_LANGUAGE"] = language
        command = [sys.executable, "-m", "cartera.cli", "import", "--help"]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=False)

    # when a command's help is asked for
    default, english, unknown = cartera_help(None), cartera_help("EN"), cartera_help("fr")

    # then it is Spanish by default, English when asked, and an unknown language is named
    assert "Comprueba e importa" in default.stdout, default.stderr
    assert "Check and import a CSV" in english.stdout, english.stderr
    assert unknown.returncode != 0
    assert "CARTERA_LANGUAGE must be es or en, not 'fr'" in unknown.stderr
