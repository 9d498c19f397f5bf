"""`sync_memberships`: re-read product-group and tenant-repository members from GitLab now."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from nautes_portal.integrations import git_host
from products.membership import membership_sync_all


class Command(BaseCommand):
    help = "Synchronise memberships from GitLab (GitLab backend only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.NAUTES_GIT_BACKEND != "gitlab":
            raise CommandError("memberships come from GitLab; NAUTES_GIT_BACKEND is not 'gitlab'")
        result = membership_sync_all(git_host())
        self.stdout.write(f"{result['synced']} product(s) synced, {result['failed']} failed.")
