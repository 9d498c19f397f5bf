"""The portal serves an OpenAPI document covering every upstream v0.4.2 operation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

UPSTREAM = Path(__file__).resolve().parent.parent / "data" / "nautes-openapi-v0.4.2.yaml"


def normalise(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path).rstrip("/")


def test_schema_covers_every_upstream_operation(admin_api: APIClient) -> None:
    response = admin_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    ours: dict[str, Any] = yaml.safe_load(response.content)
    upstream = yaml.safe_load(UPSTREAM.read_text())
    our_ops = {
        (normalise(p), m) for p, item in ours["paths"].items() for m in item if m != "parameters"
    }
    our_ids = {
        op["operationId"]
        for item in ours["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
    }
    for path, item in upstream["paths"].items():
        for method, operation in item.items():
            assert (normalise(path), method) in our_ops, f"{method.upper()} {path} is missing"
            if operation["operationId"].startswith(
                ("Cluster_", "Product_", "Project_", "Environment_")
            ):
                assert operation["operationId"] in our_ids
    assert ("/api/v1/audit", "get") in our_ops


def test_swagger_ui_is_served_from_local_assets() -> None:
    client = APIClient()
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower() and "https://" not in page.split("<body")[0]
