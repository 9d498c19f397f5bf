from __future__ import annotations

from django.apps import AppConfig


class NautesPortalConfig(AppConfig):
    name = "nautes_portal"
    verbose_name = "Nautes portal"
