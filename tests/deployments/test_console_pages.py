"""The runtime console's pages (#15): the page, its fragments read live from the fake cluster
over HTTP, and its action forms, for every permission level."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from nautes_portal.operations.models import Operation
from products.models import Product
from tests.deployments.test_deployer import cluster_dev  # noqa: F401
from tests.deployments.workloads import (  # noqa: F401
    ConsoleWorld,
    console_world,
    resource,
    serve_workloads,
    workload,
)

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

pytestmark = pytest.mark.django_db

PAGE = "/products/nautes-labs/deployments/dr-dev/"
POD = "api-server-6f9c-x2x4q"
NODE = f"{PAGE}console/node?kind=Pod&name={POD}&namespace=dr-dev"
LOGS = f"{PAGE}console/logs?pod={POD}&namespace=dr-dev"
READS = [
    f"{PAGE}console",
    f"{PAGE}console/tree",
    NODE,
    LOGS,
    f"{PAGE}console/diff",
    f"{PAGE}console/node",
]
# Each action with a form that would be accepted (Maintainer+ for the rollback).
ACTIONS: list[tuple[str, dict[str, str]]] = [
    ("console/sync", {"prune": "on"}),
    ("hard-refresh", {}),
    ("restart", {"kind": "Deployment", "name": "api-server"}),
    ("delete-pod", {"pod": POD, "namespace": "dr-dev"}),
]
ROLLBACK = ("rollback", {"id": "1"})


@pytest.fixture
def world(console_world: ConsoleWorld) -> ConsoleWorld:  # noqa: F811
    return console_world


def browser(username: str, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(get_user_model().objects.get(username=username))
    return client


def console_operations() -> Any:
    """The console's operations (the world's deployment made others)."""
    return Operation.objects.filter(kind__startswith="runtime.")


def text(reply: Any) -> str:
    return str(reply.content.decode())


# ---- Who reads ---------------------------------------------------------------------------
@pytest.mark.parametrize("url", READS)
def test_anonymous_visitors_are_sent_to_log_in(world: ConsoleWorld, url: str) -> None:
    reply = Client().get(url)
    assert reply.status_code == 302 and reply["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", READS)
@pytest.mark.parametrize("public", [False, True])
def test_non_members_get_404_even_on_a_public_product(
    world: ConsoleWorld, url: str, public: bool
) -> None:
    if public:
        Product.objects.filter(name="nautes-labs").update(visibility="public")
        assert browser("carol").get(PAGE).status_code == 200  # the status page is public
    assert browser("carol").get(url).status_code == 404
    assert browser("olga").get(url).status_code == 404  # Owner of another product


@pytest.mark.parametrize("url", READS)
def test_a_reporter_reads_every_page_and_fragment(world: ConsoleWorld, url: str) -> None:
    reply = browser("bob").get(url)
    assert reply.status_code == 200, text(reply)[:500]
    assert "could not be read" not in text(reply)


def test_the_page_links_the_console_and_loads_fragments_without_waiting(
    world: ConsoleWorld,
) -> None:
    assert 'href="/products/nautes-labs/deployments/dr-dev/console"' in text(
        browser("bob").get(PAGE)
    )
    world.forget_requests()
    html = text(browser("bob").get(f"{PAGE}console"))
    assert world.server.requests == []  # the page itself never touches the cluster
    assert f'hx-get="{PAGE}console/tree" hx-trigger="load"' in html
    assert f'hx-get="{PAGE}console/diff" hx-trigger="load"' in html


def test_a_reporter_sees_no_action(world: ConsoleWorld) -> None:
    page = text(browser("bob").get(f"{PAGE}console"))
    tree = text(browser("bob").get(f"{PAGE}console/tree"))
    for html in (page, tree):
        assert "console/sync" not in html and "hard-refresh" not in html
        assert "/restart" not in html and "delete-pod" not in html and "/rollback" not in html


def test_a_developer_sees_actions_but_not_rollback(world: ConsoleWorld) -> None:
    from deployments.models import RuntimeStatus

    RuntimeStatus.objects.update_or_create(
        product=world.product,
        runtime_name="dr-dev",
        defaults={"history": [{"id": 1, "revision": "9e8d7c6b5a4f"}]},
    )
    page = text(browser("alice").get(f"{PAGE}console"))
    tree = text(browser("alice").get(f"{PAGE}console/tree"))
    assert "console/sync" in page and "hard-refresh" in page and "/rollback" not in page
    assert 'data-restart="api-server"' in tree and f'data-delete="{POD}"' in tree
    assert 'form="console-sync"' in tree
    assert "/rollback" in text(browser("mona").get(f"{PAGE}console"))


# ---- The tree ------------------------------------------------------------------------------
def test_the_tree_shows_a_degraded_deployment_and_its_failing_pod(world: ConsoleWorld) -> None:
    world.server.crash_loop("dr-dev", POD, restarts=4)
    world.server.workloads.exceed_progress_deadline("dr-dev", "api-server")
    html = text(browser("bob").get(f"{PAGE}console/tree"))
    assert 'data-node="apps/Deployment/dr-dev/api-server"' in html
    deployment = html.split('data-node="apps/Deployment/dr-dev/api-server"')[0].rsplit("<tr", 1)
    assert 'class="degraded"' in deployment[1]
    pod_row = html.split(f'data-node="core/Pod/dr-dev/{POD}"')[1].split("</tr>")[0]
    assert "CrashLoopBackOff" in pod_row and "0/1 ready" in pod_row
    assert "4 restarts" in pod_row and "last ended: Error" in pod_row
    assert "depth-2" in pod_row  # Deployment → ReplicaSet → Pod


def test_the_tree_fragment_makes_a_fixed_number_of_queries(world: ConsoleWorld) -> None:
    client = browser("bob")
    url = f"{PAGE}console/tree"
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    from tests.deployments.console_world import deploy_workloads

    deploy_workloads(world.server, count=20, first=1)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few) <= 12, [q["sql"] for q in many.captured_queries]


def test_an_unreachable_cluster_is_a_message_in_each_fragment(world: ConsoleWorld) -> None:
    world.server.stop()
    client = browser("bob")
    for url in (f"{PAGE}console/tree", NODE, f"{PAGE}console/diff"):
        reply = client.get(url)
        assert reply.status_code == 200
        assert "data-console-error" in text(reply) and "could not be reached" in text(reply)
    assert "could not be reached" in text(client.get(LOGS))
    assert client.get(f"{PAGE}console").status_code == 200


# ---- Events and logs -------------------------------------------------------------------------
def test_a_pods_panel_shows_its_events_and_log(world: ConsoleWorld) -> None:
    world.server.crash_loop("dr-dev", POD, restarts=2)
    world.server.set_pod_log("dr-dev", POD, "main", "starting\npanic: no database\n")
    html = text(browser("bob").get(NODE))
    assert "data-events" in html and 'class="warning"' in html and "BackOff" in html
    assert "panic: no database" in html and "data-log-form" in html
    assert "data-following" not in html
    download = f"/api/v1/products/nautes-labs/deploymentruntimes/dr-dev/pods/{POD}/logs?"
    assert download in html


def test_the_download_link_works_with_the_session(world: ConsoleWorld) -> None:
    world.server.set_pod_log("dr-dev", POD, "main", "hello\n")
    html = text(browser("bob").get(NODE))
    href = html.split("data-download")[0].rsplit('href="', 1)[1].split('"')[0]
    reply = browser("bob").get(href.replace("&amp;", "&"))
    assert reply.status_code == 200 and reply.content == b"hello\n"
    assert "attachment" in reply["Content-Disposition"]
    assert browser("carol").get(href.replace("&amp;", "&")).status_code == 404


def test_follow_polls_and_stops_when_turned_off(world: ConsoleWorld) -> None:
    world.server.set_pod_log("dr-dev", POD, "main", "line one\n")
    client = browser("bob")
    on = text(client.get(LOGS + "&follow=1"))
    assert "data-following" in on and 'hx-trigger="every 3s"' in on and "line one" in on
    assert "follow=1" in on.split("hx-get=")[1].split(" ")[0]
    off = text(client.get(LOGS))
    assert "data-following" not in off and "hx-trigger" not in off


@pytest.mark.parametrize("raw", ["0", "5001", "ten", "-3"])
def test_a_bad_tail_lines_shows_the_rule(world: ConsoleWorld, raw: str) -> None:
    html = text(browser("bob").get(LOGS + f"&tail_lines={raw}&follow=1"))
    assert "tail_lines must be a whole number from 1 to 5000" in html
    assert "data-following" not in html


def test_a_pod_outside_the_runtime_is_refused_in_the_panel(world: ConsoleWorld) -> None:
    html = text(browser("bob").get(f"{PAGE}console/logs?pod=web-5b7d-k8s2p"))
    assert "is not a pod of runtime dr-dev" in html and "data-log-text" not in html


def test_the_diff_panel_shows_out_of_sync_resources(world: ConsoleWorld) -> None:
    assert "in sync with Git" in text(browser("bob").get(f"{PAGE}console/diff"))
    desired = workload("Deployment", "dr-dev", "api-server")
    desired["spec"]["replicas"] = 1
    world.server.update_stored(
        "apps", "deployments", "dr-dev", "api-server",
        {"metadata": {"annotations": {LAST_APPLIED: json.dumps(desired)}},
         "spec": {"replicas": 3}},
    )  # fmt: skip
    drifted = {**resource("Deployment", "dr-dev", "api-server"), "status": "OutOfSync"}
    world.set_application_status("dr-dev", [drifted])
    html = text(browser("bob").get(f"{PAGE}console/diff"))
    assert 'data-diff-of="Deployment/api-server"' in html and 'class="diff"' in html
    assert '<span class="del">-  replicas: 3</span>' in html


def test_logs_are_shown_but_never_logged(world: ConsoleWorld, caplog: Any) -> None:
    world.server.set_pod_log("dr-dev", POD, "main", "user-output-7d1e\n")
    caplog.set_level(logging.DEBUG)
    reply = browser("bob").get(LOGS + "&follow=1")
    assert "user-output-7d1e" in text(reply) and "no-store" in reply["Cache-Control"]
    assert "no-store" in browser("bob").get(NODE)["Cache-Control"]
    assert "user-output-7d1e" not in caplog.text


# ---- Actions ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "form"), [*ACTIONS, ROLLBACK])
def test_anonymous_and_non_members_cannot_act(
    world: ConsoleWorld, path: str, form: dict[str, str]
) -> None:
    reply = Client().post(PAGE + path, form)
    assert reply.status_code == 302 and reply["Location"].startswith("/accounts/login/")
    assert browser("carol").post(PAGE + path, form).status_code == 404
    assert not console_operations().exists()


@pytest.mark.parametrize(("path", "form"), [*ACTIONS, ROLLBACK])
def test_a_reporter_is_refused_every_action(
    world: ConsoleWorld, path: str, form: dict[str, str]
) -> None:
    assert browser("bob").post(PAGE + path, form).status_code == 403
    assert not console_operations().exists()


def test_a_reporter_gets_no_delete_confirmation(world: ConsoleWorld) -> None:
    url = f"{PAGE}delete-pod?name={POD}&namespace=dr-dev"
    assert browser("bob").get(url).status_code == 403
    page = text(browser("alice").get(url))
    assert f"Delete pod <code>{POD}</code>?" in page and 'name="pod"' in page


@pytest.mark.parametrize(("path", "form"), ACTIONS)
def test_a_developer_acts_and_sees_the_queued_operation(
    world: ConsoleWorld, path: str, form: dict[str, str], django_capture_on_commit_callbacks: Any
) -> None:
    client = browser("alice")
    with django_capture_on_commit_callbacks(execute=True):
        reply = client.post(PAGE + path, form)
    assert reply.status_code == 302, text(reply)[:800]
    operation = console_operations().get()
    assert reply["Location"] == f"{PAGE}console?operation={operation.pk}"
    page = text(client.get(reply["Location"]))
    assert f'href="/operations/{operation.pk}/"' in page and "data-queued" in page
    assert operation.status == "succeeded", operation.error


def test_a_developer_cannot_roll_back_but_a_maintainer_can(
    world: ConsoleWorld, django_capture_on_commit_callbacks: Any
) -> None:
    assert browser("alice").post(PAGE + "rollback", {"id": "1"}).status_code == 403
    # Under automated sync the rollback is refused with the way out: revert in Git.
    refused = browser("mona").post(PAGE + "rollback", {"id": "1"})
    assert refused.status_code == 409
    html = text(refused)
    assert "syncs automatically" in html and 'href="/products/nautes-labs/history/"' in html
    world.manual_sync_policy()
    with django_capture_on_commit_callbacks(execute=True):
        reply = browser("mona").post(PAGE + "rollback", {"id": "1"})
    assert reply.status_code == 302
    assert console_operations().get().kind == "runtime.rollback"


def test_sync_takes_options_and_resources_ticked_in_the_tree(
    world: ConsoleWorld, django_capture_on_commit_callbacks: Any
) -> None:
    form = {
        "dry_run": "on",
        "apply_out_of_sync_only": "on",
        "resource": "apps/Deployment/dr-dev/api-server",
    }
    with django_capture_on_commit_callbacks(execute=True):
        reply = browser("alice").post(PAGE + "console/sync", form)
    assert reply.status_code == 302
    sync = world.application()["operation"]["sync"]
    assert sync["dryRun"] is True and sync["prune"] is False
    assert sync["resources"] == [
        {"group": "apps", "kind": "Deployment", "name": "api-server", "namespace": "dr-dev"}
    ]


def test_bad_input_is_refused_with_the_rule(world: ConsoleWorld) -> None:
    client = browser("alice")
    reply = client.post(PAGE + "restart", {"kind": "Pod", "name": POD})
    assert reply.status_code == 400 and "only a Deployment" in text(reply)
    reply = client.post(PAGE + "console/sync", {"resource": "nonsense"})
    assert reply.status_code == 400 and "is not a resource of the tree" in text(reply)
    reply = client.post(PAGE + "delete-pod", {"pod": "web-5b7d-k8s2p"})
    assert reply.status_code == 404 and "is not" in text(reply)
    assert not console_operations().exists()


def test_actions_need_the_csrf_token(world: ConsoleWorld) -> None:
    client = browser("alice", enforce_csrf_checks=True)
    assert client.post(PAGE + "hard-refresh").status_code == 403
    assert not console_operations().exists()
