"""The roles the permission policy is written in: GitLab member access levels (10–50)."""

from __future__ import annotations

from django.db import models


class AccessLevel(models.IntegerChoices):
    """GitLab member access levels."""

    GUEST = 10, "Guest"
    REPORTER = 20, "Reporter"
    DEVELOPER = 30, "Developer"
    MAINTAINER = 40, "Maintainer"
    OWNER = 50, "Owner"
