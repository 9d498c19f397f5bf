"""`sync_config`: import the tenant repository and every product repository now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from products.tasks import sync_all


class Command(BaseCommand):
    help = "Re-import configuration repositories changed outside the portal."

    def handle(self, *args: Any, **options: Any) -> None:
        result = sync_all()
        self.stdout.write(f"{result['changed']} product(s) changed, {result['failed']} failed.")
