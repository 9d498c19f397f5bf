"""Parity for deployments: the runtime page's buttons and the API's runtime actions (sync now,
re-apply) reach the same services, so they accept, refuse and audit alike (#13).

Only door parity is asserted: the outcome's class, the refusal's message, who is refused, and
the audit event written. What an action starts (the operation's kind) is the services' business
and may change; here each door only has to start the same number of operations.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from clusters.models import Cluster
from nautes_portal.models import AuditEvent
from nautes_portal.operations.models import Operation
from products.models import Product
from tests.deployments.test_status_pages import product  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

PAGE = "/products/nautes-labs/deployments/dr-dev/"
API = "/api/v1/products/nautes-labs/deploymentruntimes/dr-dev/"
# (action, its answer while the environment's cluster is not registered). Sync talks to the
# cluster, so it refuses at once; re-apply's answer then is the services' business (it may queue
# work that fails later), so only its parity is asserted.
ACTIONS = [("sync", "refused"), ("reapply", None)]


@dataclass(frozen=True)
class Outcome:
    """What one door did, in terms both doors share."""

    result: str  # "accepted", "refused", "forbidden" or "not found"
    message: str  # a refusal's message ("" otherwise)
    operations: int  # how many operations it started
    audit: tuple[tuple[str, ...], ...]  # (action, kind, name, actor, message) of new events


def _user(username: str) -> Any:
    return get_user_model().objects.get(username=username)


def _effects(since: int, before: set[int]) -> tuple[int, tuple[tuple[str, ...], ...]]:
    """Operations started and audit events written since the door was used; the operations are
    then removed so that the other door starts from the same state."""
    started = Operation.objects.exclude(pk__in=before)
    count = started.count()
    started.delete()
    events = AuditEvent.objects.filter(pk__gt=since).order_by("pk")
    # Operation ids differ between the doors' events; everything else must not.
    audit = tuple(
        (e.action, e.kind, e.name, e.actor_name, re.sub(r"\d+", "N", e.message)) for e in events
    )
    return count, audit


def _watermarks() -> tuple[int, set[int]]:
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return last, set(Operation.objects.values_list("pk", flat=True))


def through_the_page(username: str, action: str) -> Outcome:
    since, before = _watermarks()
    client = Client()
    client.force_login(_user(username))
    response = client.post(PAGE + action)
    result, message = {403: ("forbidden", ""), 404: ("not found", "")}.get(
        response.status_code, ("", "")
    )
    if response.status_code == 302:
        assert response["Location"] == PAGE
        shown = list(client.get(PAGE).context["messages"])
        errors = [m.message for m in shown if m.level_tag == "error"]
        result, message = ("refused", errors[0]) if errors else ("accepted", "")
    assert result, f"the page answered {response.status_code}"
    return Outcome(result, message, *_effects(since, before))


def through_the_api(
    api_client_for: Callable[[Any], APIClient], username: str, action: str
) -> Outcome:
    since, before = _watermarks()
    response = api_client_for(_user(username)).post(API + action)
    code = response.status_code
    if code == 202:
        result, message = "accepted", ""
    elif code in (403, 404):
        result, message = {403: "forbidden", 404: "not found"}[code], ""
    else:
        assert 400 <= code < 500, f"the API answered {code}"
        result, message = "refused", response.json()["message"]
    return Outcome(result, message, *_effects(since, before))


@pytest.mark.parametrize(("action", "unregistered"), ACTIONS)
def test_the_page_and_the_api_act_alike_on_a_runtime(
    product: Product,  # noqa: F811 - the fixture imported above
    api_client_for: Callable[[Any], APIClient],
    action: str,
    unregistered: str | None,
) -> None:
    """dr-dev runs on env-dev, whose cluster is not registered at first; alice is a Developer,
    bob a Reporter, carol no member."""
    # A rule: the environment's cluster is not registered.
    page, api = through_the_page("alice", action), through_the_api(api_client_for, "alice", action)
    assert page == api
    if unregistered == "refused":
        assert page.result == "refused" and "which is not registered" in page.message, page
        assert (page.operations, page.audit) == (0, ())

    Cluster.objects.create(name="cluster-dev", cluster_type="physical", usage="worker")
    # Refused people: a Reporter may not act, a non-member does not see the product.
    for username, result in (("bob", "forbidden"), ("carol", "not found")):
        page = through_the_page(username, action)
        assert page == Outcome(result, "", 0, ())
        assert through_the_api(api_client_for, username, action) == page

    # Accepted: each door starts the action and writes the same audit event.
    page, api = through_the_page("alice", action), through_the_api(api_client_for, "alice", action)
    assert page.result == "accepted" and page.operations >= 1 and len(page.audit) == 1, page
    assert page.audit[0][:4] == ("sync", "DeploymentRuntime", "dr-dev", "alice")
    assert page == api
