"""Pytest plugin: a real OpenBao dev server for the test session (filled in by the secrets work)."""

from __future__ import annotations
