"""``cartera createuser USERNAME --role ROLE``: create or update an employee's account."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartera.accounts.models import Role, Team, User
from cartera.core.commands import Command as BaseCommand


class Command(BaseCommand):
    about = gettext_lazy("Create a user (or change an existing one's role, team or password).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=Role.values, default=Role.SALESPERSON)
        parser.add_argument("--team", help=_("Team name (created if missing)."))
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument(
            "--password", help=_("Asked for when omitted and a terminal is present.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user, created = User.objects.get_or_create(username=options["username"])
        user.role = options["role"]
        for name in ("email", "first_name", "last_name"):
            if options[name]:
                setattr(user, name, options[name])
        if options["team"]:
            user.team, _new_team = Team.objects.get_or_create(name=options["team"])
        password = options["password"]
        if password is None and created:
            password = getpass.getpass(_("Password: "))
        if password:
            try:
                from django.contrib.auth.password_validation import validate_password

                validate_password(password, user)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            user.set_password(password)
        user.save()
        done = _("Created %(user)s (%(role)s).") if created else _("Updated %(user)s (%(role)s).")
        self.stdout.write(done % {"user": user.username, "role": user.get_role_display()})
