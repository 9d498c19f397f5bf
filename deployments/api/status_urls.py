"""API routes for runtime deployment status (filled in below)."""

from __future__ import annotations

urlpatterns: list = []
