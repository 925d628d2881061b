"""``cartera createuser USERNAME --role ROLE``: create or update an employee's account."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cartera.accounts.models import Role, Team, User


class Command(BaseCommand):
    help = "Create a user (or change an existing one's role, team or password)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=Role.values, default=Role.SALESPERSON)
        parser.add_argument("--team", help="Team name (created if missing).")
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--password", help="Asked for when omitted and a terminal is present.")

    def handle(self, *args: Any, **options: Any) -> None:
        user, created = User.objects.get_or_create(username=options["username"])
        user.role = options["role"]
        for name in ("email", "first_name", "last_name"):
            if options[name]:
                setattr(user, name, options[name])
        if options["team"]:
            user.team, _created = Team.objects.get_or_create(name=options["team"])
        password = options["password"]
        if password is None and created:
            password = getpass.getpass("Password: ")
        if password:
            try:
                from django.contrib.auth.password_validation import validate_password

                validate_password(password, user)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            user.set_password(password)
        user.save()
        self.stdout.write(f"{'Created' if created else 'Updated'} {user.username} ({user.role}).")
