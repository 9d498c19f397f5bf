"""The portal's settings plus a URL conf with a trivial authenticated API view (the baseline)."""

from __future__ import annotations

from nautes_portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
