"""`bootstrap`: make a fresh installation usable (tenant repository, first administrator)."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from clusters.services import tenant_repository, tenant_sync
from nautes_portal.integrations import git_host
from nautes_portal.schedules import install_registered_schedules


class Command(BaseCommand):
    help = (
        "Create the tenant configuration repository (local backend) and an administrator "
        "(NAUTES_ADMIN_USER / NAUTES_ADMIN_PASSWORD; a generated password is printed once)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant_sync(repo=tenant_repository(git_host()))
        install_registered_schedules()  # each app registered its own in `ready()`
        user_model = get_user_model()
        if user_model.objects.filter(is_superuser=True).exists():
            return
        username = os.environ.get("NAUTES_ADMIN_USER", "admin")
        password = os.environ.get("NAUTES_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        user_model.objects.create_superuser(username, f"{username}@localhost", password)
        if "NAUTES_ADMIN_PASSWORD" in os.environ:
            self.stdout.write(f"Created administrator {username!r} with NAUTES_ADMIN_PASSWORD.")
        else:
            # Shown once, on the operator's terminal; it is not stored anywhere in clear.
            self.stdout.write(
                f"Created administrator {username!r} with password: {password}\n"
                "Write it down now; it is not shown again."
            )
