"""What the ``cartera`` commands share: they speak the site's language, Spanish by default."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.functional import Promise


class Command(BaseCommand):
    """A command whose ``--help`` is translated: ``about`` is marked with ``gettext_lazy`` and
    read when the command is made, in the language then active."""

    about: str | Promise = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = str(self.about)
