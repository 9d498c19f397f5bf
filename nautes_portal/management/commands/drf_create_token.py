"""`drf_create_token <username>`: issue a portal API token (only its hash is stored)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from nautes_portal.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for a user and print it once (DRF's command name, hashed storage)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "-r", "--reset", action="store_true", help="Revoke the user's existing tokens first."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: options["username"]})
        except user_model.DoesNotExist as exc:
            raise CommandError(
                f"Cannot create the Token: user {options['username']} does not exist"
            ) from exc
        if options["reset"]:
            ApiToken.objects.filter(user=user).delete()
        _, raw = ApiToken.issue(user)
        self.stdout.write(f"Generated token {raw} for user {options['username']}")
