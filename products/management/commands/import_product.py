"""`import_product <group>`: index an existing Nautes product (group with default.project)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from nautes_portal.errors import NautesError
from nautes_portal.integrations import git_host
from products.services import product_import


class Command(BaseCommand):
    help = "Index an existing product group and its default.project repository."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("group", help="the product group path")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            product = product_import(name=options["group"], host=git_host())
        except NautesError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Imported {product.name} ({product.resource_name}) at {product.commit_sha[:8]}."
        )
