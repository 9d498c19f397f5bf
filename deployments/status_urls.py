"""Web routes for runtime deployment status pages (filled in below)."""

from __future__ import annotations

urlpatterns: list = []
