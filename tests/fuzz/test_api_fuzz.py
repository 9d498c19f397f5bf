"""Schemathesis against the portal's own OpenAPI schema: every `/api/v1` operation, called as a
product Developer, must never answer 5xx and must answer what the schema documents.

The schema is the one the portal serves at `/api/schema/`; requests go in-process through the
Django WSGI application (same thread, so the same database connection and test transaction).
Generation is deterministic (a fixed seed per operation, no example database) and bounded
(`MAX_EXAMPLES` per operation, positive and negative cases, no shrinking, no coverage or stateful
phase), so CI sends the same requests every time; the module takes well under a minute.

Before each operation is fuzzed, the portal's own API creates a small world: a deployment
cluster (as an admin; a live fake API server on 127.0.0.1), the product `nautes-labs` owned by
someone else with env-dev, project and code repo api-server, a binding and the deployment
runtime dr-dev. The fuzzer is a Developer of
that product. Path parameters, and request body fields that name other objects, are biased
towards those names (and existing operation ids) so that most requests reach real objects and
get past "not found" validation instead of stopping at a 404 or 400.

Checks: `not_a_server_error`, `response_schema_conformance` and `status_code_conformance`: every
answer is documented, with its status code and its body's shape.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from nautes_portal.models import ApiToken
from nautes_portal.operations.models import Operation
from nautes_portal.wsgi import application
from products.models import AccessLevel, Membership, Product
from tests.api.helpers import DEPLOYMENT_WORKER, PRODUCT, coderepo_body
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db

SEED = 20260415
MAX_EXAMPLES = 8

PRODUCT_NAME = "nautes-labs"
CLUSTER_NAME = "cluster-dev"
BINDING_NAME = "coderepo-binding-api-server"

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "suppress-health-check": ["all"],
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "no-shrink": True,
            "database": "none",
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": False},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)
schema = schema.include(path_regex=r"^/api/v1/")

# Names that exist once the `world` fixture has run: per path parameter, and for `name` per
# collection (the path segment before `{name}`). Operation ids are only known at run time, so
# `world` fills them in; the hooks read these lists when Hypothesis draws, not at import.
EXISTING: dict[str, list[Any]] = {
    "product_name": [PRODUCT_NAME],
    "cluster_name": [CLUSTER_NAME],
    "operation_id": [],
}
EXISTING_NAMES = {
    "environments": ["env-dev"],
    "projects": ["api-server"],
    "coderepos": ["api-server"],
    "coderepobindings": [BINDING_NAME],
    "deploymentruntimes": ["dr-dev"],
    "projectpipelineruntimes": ["ppr-dev"],  # none exists: a 404, or a create attempt
}
_ABSENT = object()
# Request body fields that name other objects, and an existing value for each.
BODY_REFERENCES: dict[str, Any] = {
    "cluster": CLUSTER_NAME,
    "env_type": "development",
    "product": PRODUCT_NAME,
    "project": "api-server",
    "projects": ["api-server"],
    "projects_ref": ["api-server"],
    "coderepo": "api-server",
    "code_repo": "api-server",
    "pipeline_source": "api-server",
    "destination": {"environment": "env-dev", "namespaces": ["dr-dev"]},
    "git": PRODUCT["git"],  # a complete product body; code repo saves are 403 for a Developer
}


def _existing_values(path: str, parameter: str) -> list[Any]:
    if parameter != "name":
        return EXISTING.get(parameter, [])
    segments = path.split("/")
    collection = segments[segments.index("{name}") - 1]
    return EXISTING_NAMES.get(collection, [])


@schema.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    """Mostly replace each generated path parameter by the name of an existing object."""
    if not path_parameters or context.operation is None:
        return st.just(path_parameters)
    choices = {}
    for parameter, generated in path_parameters.items():
        existing = _existing_values(context.operation.path, parameter)
        # Hypothesis favours the first options: existing names first, the generated one last.
        choices[parameter] = st.sampled_from([*(existing * 3), generated])
    return st.fixed_dictionaries(choices)


def _declared_properties(operation: schemathesis.APIOperation) -> set[str]:
    """Top-level properties of the operation's JSON request body, from the raw schema."""
    content = operation.definition.raw.get("requestBody", {}).get("content", {})
    body_schema = content.get("application/json", {}).get("schema", {})
    if ref := body_schema.get("$ref"):
        body_schema = schema.raw_schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return set(body_schema.get("properties", {}))


@schema.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    """Let bodies often refer to existing objects, so that saves get past the 'not found' checks."""
    if not isinstance(body, dict) or context.operation is None:
        return st.just(body)
    references = _declared_properties(context.operation) & BODY_REFERENCES.keys()
    if not references:
        return st.just(body)
    return _with_references(body, missing=references - body.keys())


def _with_references(body: dict[str, Any], missing: set[str]) -> st.SearchStrategy[Any]:
    """`body` with each referencing field (also nested, or `missing` ones) maybe set."""
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for key, value in body.items():
        if key in BODY_REFERENCES:
            fields[key] = st.sampled_from([BODY_REFERENCES[key], value])
        elif isinstance(value, dict):
            fields[key] = _with_references(value, missing=set())
        else:
            fields[key] = st.just(value)
    for key in sorted(missing):
        fields[key] = st.sampled_from([BODY_REFERENCES[key], _ABSENT])
    return st.fixed_dictionaries(fields).map(
        lambda drawn: {key: value for key, value in drawn.items() if value is not _ABSENT}
    )


def keep_test_connection() -> None:
    """A request must not close the test's DB connection (Django's test client does the same).

    Called right before each fuzzed request: every test-client request in the set-up reconnects
    the handler when it is done, and on PostgreSQL a closed connection ends the test's
    transaction (SQLite's in-memory test database ignores the close, which hid this).
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)


@pytest.fixture
def wsgi_keeps_test_connection() -> Iterator[None]:
    keep_test_connection()
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _ok(response: Any, what: str) -> None:
    assert response.status_code == 200, (what, response.status_code, response.content[:500])


@pytest.fixture
def world(
    make_user: Callable[..., Any],
    api_client_for: Callable[[Any], APIClient],
    secret_store: Any,
    wsgi_keeps_test_connection: None,
    fake_kube_factory: Callable[..., list[FakeKubeServer]],
) -> dict[str, str]:
    """The data the fuzzer works on, created through the portal's API; returns auth headers.
    The cluster is a live fake API server: the console's reads and actions answer from it."""
    (server,) = fake_kube_factory(argocd_installed=True)
    admin = api_client_for(make_user("admin", superuser=True))
    owner = api_client_for(make_user("olivia", first_name="Olivia", last_name="Owner"))
    developer = make_user("dave", first_name="Dave", last_name="Developer")

    _ok(
        admin.post(
            f"/api/v1/clusters/{CLUSTER_NAME}",
            {
                **DEPLOYMENT_WORKER,
                "api_server": server.url,
                "kubeconfig": base64.b64encode(server.kubeconfig().encode()).decode(),
            },
            format="json",
        ),
        "cluster",
    )
    _ok(owner.post(f"/api/v1/products/{PRODUCT_NAME}", PRODUCT, format="json"), "product")
    steps = [
        ("environments/env-dev", {"cluster": CLUSTER_NAME, "env_type": "development"}),
        ("projects/api-server", {"language": "Go"}),
        ("coderepos/api-server", coderepo_body("api-server", project="api-server")),
        (
            f"coderepobindings/{BINDING_NAME}",
            {"product": PRODUCT_NAME, "permissions": "readonly", "coderepo": "api-server"},
        ),
        (
            "deploymentruntimes/dr-dev",
            {
                "projects_ref": ["api-server"],
                "manifest_source": {
                    "code_repo": "api-server",
                    "target_revision": "HEAD",
                    "path": "manifests/development",
                },
                "destination": {"environment": "env-dev", "namespaces": ["dr-dev"]},
            },
        ),
    ]
    for path, body in steps:
        _ok(owner.post(f"/api/v1/products/{PRODUCT_NAME}/{path}", body, format="json"), path)

    Membership.objects.update_or_create(
        user=developer,
        product=Product.objects.get(name=PRODUCT_NAME),
        defaults={"access_level": AccessLevel.DEVELOPER},
    )
    EXISTING["operation_id"] = sorted(Operation.objects.values_list("pk", flat=True))
    _, token = ApiToken.issue(developer)
    return {"Authorization": f"Bearer {token}"}


CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@schema.parametrize()
def test_operation(case: schemathesis.Case, world: dict[str, str]) -> None:
    keep_test_connection()
    case.call_and_validate(headers=world, checks=CHECKS)
