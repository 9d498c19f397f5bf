"""Deployment provisioning and status (filled in by the deployments work)."""

from __future__ import annotations
