"""``cartera token create|list|revoke``: API tokens for integrations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartera.accounts.models import ApiToken, TokenScope, User
from cartera.core.commands import Command as BaseCommand


class Command(BaseCommand):
    about = gettext_lazy(
        "Create, list or revoke API tokens. The secret is shown once, at creation."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help=_("Create a token for a user."))
        create.add_argument("username")
        create.add_argument("--name", default="integration")
        create.add_argument("--scope", choices=TokenScope.values, default=TokenScope.WRITE)
        create.add_argument("--days", type=int, help=_("Expire after this many days."))
        listing = sub.add_parser("list", help=_("List a user's tokens."))
        listing.add_argument("username")
        revoke = sub.add_parser("revoke", help=_("Revoke a token by its number."))
        revoke.add_argument("token_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "revoke":
            updated = ApiToken.objects.filter(
                pk=options["token_id"], revoked_at__isnull=True
            ).update(revoked_at=timezone.now())
            if not updated:
                raise CommandError(_("No active token has that number."))
            self.stdout.write(_("Revoked."))
            return
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist as exc:
            raise CommandError(
                _("No user is called “%(name)s”.") % {"name": options["username"]}
            ) from exc
        if action == "list":
            for token in user.api_tokens.order_by("created_at"):
                state = _("revoked") if token.revoked_at else _("active")
                self.stdout.write(
                    f"{token.pk}\t{token.name}\t{token.scope}\t{token.hint}…\t{state}"
                )
            return
        expires = timezone.now() + timedelta(days=options["days"]) if options["days"] else None
        _token, key = ApiToken.issue(
            user=user, name=options["name"], scope=options["scope"], expires_at=expires
        )
        self.stdout.write(key)
