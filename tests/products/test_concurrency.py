"""Concurrent saves and deletes on one product: each commits or gets 409, no update is lost,
and the index equals the repository at HEAD."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from nautes_portal.integrations.git_local import LocalGitHost
from products.models import AccessLevel, Environment, Membership, Product
from products.services import product_save, product_sync
from tests.products.test_import import cluster_row

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_concurrent_saves_commit_or_conflict(
    git_root: Path, admin_user: Any, api_client_for: Any
) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("needs a server database: SQLite serialises the threads' connections")
    host = LocalGitHost(git_root)
    for index in range(20):
        cluster_row(
            f"cluster-{index}",
            "worker",
            "deployment",
            {"deployment": {"name": "argocd", "namespace": "argocd"}},
        )
    product, _ = product_save(
        name="busy",
        display_name="busy",
        path="",
        visibility="private",
        description="",
        actor=admin_user,
    )
    clients = [api_client_for(admin_user) for _ in range(20)]
    barrier = threading.Barrier(20)
    results: dict[int, int] = {}

    def save(index: int) -> None:
        try:
            barrier.wait()
            response = clients[index].post(
                f"/api/v1/products/busy/environments/env-{index}",
                {"cluster": f"cluster-{index}", "env_type": "test"},
                format="json",
            )
            results[index] = response.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert set(results.values()) <= {200, 409}, results
    committed = {f"env-{i}" for i, status in results.items() if status == 200}
    assert committed, "at least one save wins"
    repo = host.repository(host.get_project("busy", "default.project"))
    files = repo.read_tree(repo.head())
    in_git = {p.split("/")[1][:-5] for p in files if p.startswith("envs/")}
    assert in_git == committed, "every 200 is in Git and nothing else is"
    # One commit per success after the initial one: no update was merged away.
    assert len(repo.history(limit=100)) == len(committed) + 1
    product = Product.objects.get(name="busy")
    product_sync(product=product, repo=repo)
    assert (
        set(Environment.objects.filter(product=product).values_list("name", flat=True)) == committed
    )

    # A retry of the refused ones now succeeds: the index caught up with Git.
    for index, status in results.items():
        if status == 409:
            response = clients[index].post(
                f"/api/v1/products/busy/environments/env-{index}",
                {"cluster": f"cluster-{index}", "env_type": "test"},
                format="json",
            )
            assert response.status_code == 200, response.json()
    files = repo.read_tree(repo.head())
    assert len([p for p in files if p.startswith("envs/")]) == 20


def environments_at_head(host: LocalGitHost) -> tuple[str | None, dict[str, str]]:
    """HEAD of busy/default.project and its environments: name → envType, read from Git."""
    import yaml

    repo = host.repository(host.get_project("busy", "default.project"))
    head = repo.head()
    files = repo.read_tree(head)
    found = {}
    for path, content in files.items():
        if path.startswith("envs/"):
            document = yaml.safe_load(content)
            found[document["metadata"]["name"]] = document["spec"]["envType"]
    return head, found


def environments_in_index(product: Product) -> dict[str, str]:
    return dict(Environment.objects.filter(product=product).values_list("name", "env_type"))


def test_saves_and_deletes_from_several_users_and_clients_keep_git_and_index_equal(
    git_root: Path, make_user: Any, api_client_for: Any
) -> None:
    """Three users, token and session clients, deleting, creating and updating environments of
    one product at once, retrying after a 409: each attempt commits or gets 409, every change
    lands exactly once, and the index equals the repository at HEAD — right away and after a
    sync."""
    if connection.vendor == "sqlite":
        pytest.skip("needs a server database: SQLite serialises the threads' connections")
    from django.test import Client

    host = LocalGitHost(git_root)
    owner = make_user("owner")
    product, _ = product_save(
        name="busy", display_name="busy", path="", visibility="private", description="", actor=owner
    )
    for index in range(30):
        cluster_row(
            f"cluster-{index}",
            "worker",
            "deployment",
            {"deployment": {"name": "argocd", "namespace": "argocd"}},
        )
    setup = api_client_for(owner)
    existing = [f"env-{i}" for i in range(10)] + [f"env-{i}" for i in range(20, 25)]
    for name in existing:
        response = setup.post(
            f"/api/v1/products/busy/environments/{name}",
            {"cluster": f"cluster-{name[4:]}", "env_type": "test"},
            format="json",
        )
        assert response.status_code == 200, response.json()

    developers = [make_user(f"dev-{i}") for i in range(3)]
    for user in developers:
        Membership.objects.create(user=user, product=product, access_level=AccessLevel.DEVELOPER)
    clients: list[Any] = [api_client_for(user) for user in developers]
    browser = Client()
    browser.force_login(developers[0])
    clients.append(browser)  # a browser session on the same API

    requests: list[tuple[str, str, dict[str, str] | None]] = []
    requests += [("DELETE", f"env-{i}", None) for i in range(10)]
    requests += [
        ("POST", f"env-{i}", {"cluster": f"cluster-{i}", "env_type": "new"}) for i in range(10, 20)
    ]
    requests += [
        ("POST", f"env-{i}", {"cluster": f"cluster-{i}", "env_type": "updated"})
        for i in range(20, 25)
    ]
    barrier = threading.Barrier(len(requests))
    answers: dict[int, list[int]] = {}

    def send(index: int) -> None:
        """One client's request, retried after a 409 as a client would (re-read, try again)."""
        method, name, body = requests[index]
        client = clients[index % len(clients)]
        url = f"/api/v1/products/busy/environments/{name}"
        answers[index] = []
        try:
            barrier.wait()
            for _ in range(100):
                if method == "DELETE":
                    response = client.delete(url)
                elif client is browser:
                    response = client.post(url, body, content_type="application/json")
                else:
                    response = client.post(url, body, format="json")
                answers[index].append(response.status_code)
                if response.status_code != 409:
                    return
                time.sleep(random.uniform(0, 0.02))
        finally:
            connection.close()

    writing = threading.Event()
    syncs = []

    def sync_meanwhile() -> None:
        """What the webhook and the scheduled sync do while the users write."""
        repo = host.repository(host.get_project("busy", "default.project"))
        try:
            while writing.is_set():
                syncs.append(product_sync(product=Product.objects.get(name="busy"), repo=repo))
                time.sleep(0.005)
        finally:
            connection.close()

    writing.set()
    syncer = threading.Thread(target=sync_meanwhile)
    syncer.start()
    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writing.clear()
    syncer.join()
    print("SYNCS", len(syncs), sum(syncs))

    statuses = [status for answer in answers.values() for status in answer]
    assert set(statuses) <= {200, 409}, answers
    assert all(answer[-1] == 200 for answer in answers.values()), answers
    conflicts = statuses.count(409)
    assert conflicts > 0, "the requests did overlap"
    first_round = sum(1 for answer in answers.values() if answer[0] == 200)
    assert first_round < len(requests), "only some of the simultaneous requests won"
    expected = dict.fromkeys(existing, "test")
    for method, name, body in requests:
        if method == "DELETE":
            del expected[name]
        else:
            assert body is not None
            expected[name] = body["env_type"]

    head, in_git = environments_at_head(host)
    assert in_git == expected, "every request's change is in Git, once"
    repo = host.repository(host.get_project("busy", "default.project"))
    # The initial commit, the setup saves, then one commit per request: none merged away.
    assert len(repo.history(limit=500)) == 1 + len(existing) + len(requests)
    product.refresh_from_db()
    assert product.commit_sha == head
    assert environments_in_index(product) == in_git, "the index equals HEAD without a sync"
    product_sync(product=product, repo=repo)
    assert environments_in_index(product) == in_git, "and after a sync"


# ---- The index never moves back -----------------------------------------------------------
# Two deterministic interleavings, arranged with the product row's lock on PostgreSQL: this
# test's thread holds the lock while the other thread reaches it, changes Git and the index
# meanwhile, then lets go.


def wait_until_it_waits_for_a_lock(outcome: dict[str, Any]) -> None:
    """Return once the thread of `in_thread` waits for a lock (the row this test holds)."""
    deadline = time.monotonic() + 20
    while "pid" not in outcome and "error" not in outcome and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "error" not in outcome, outcome
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'",
                [outcome["pid"]],
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the other thread never waited for the row")


def external_commit(host: LocalGitHost, env_type: str) -> str:
    """A push to busy/default.project from outside the portal: env-a's envType changes."""
    from nautes_portal.integrations.config_repo import Author
    from nautes_portal.yaml_io import dump_yaml
    from products.manifests import build_document

    repo = host.repository(host.get_project("busy", "default.project"))
    spec = {"cluster": "cluster-a", "envType": env_type, "product": "product-busy"}
    document = build_document("Environment", "env-a", spec)
    return repo.commit(
        changes={"envs/env-a.yaml": dump_yaml(document)},
        expected_parent=repo.head(),
        message="edited outside the portal",
        author=Author(name="someone", email="someone@example.com"),
    )


@pytest.fixture
def busy(git_root: Path, admin_user: Any, api_client_for: Any) -> tuple[Product, LocalGitHost]:
    if connection.vendor != "postgresql":
        pytest.skip("arranges the interleaving with PostgreSQL row locks")
    cluster_row("cluster-a", "worker", "deployment", {"deployment": {"name": "argocd"}})
    product, _ = product_save(
        name="busy",
        display_name="busy",
        path="",
        visibility="private",
        description="",
        actor=admin_user,
    )
    response = api_client_for(admin_user).post(
        "/api/v1/products/busy/environments/env-a",
        {"cluster": "cluster-a", "env_type": "first"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    product.refresh_from_db()
    return product, LocalGitHost(git_root)


def in_thread(work: Any) -> tuple[threading.Thread, dict[str, Any]]:
    """Run `work` on a connection of its own; its backend pid, value or error land in the dict."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                outcome["pid"] = cursor.fetchone()[0]
            outcome["value"] = work()
        except Exception as exc:  # reported by the test
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_sync_that_read_an_older_head_does_not_move_the_index_back(
    busy: tuple[Product, LocalGitHost], admin_user: Any
) -> None:
    from django.db import transaction

    from products.services import resource_save

    product, host = busy
    older = external_commit(host, "pushed")  # HEAD moves past the index: a sync has work
    repo = host.repository(host.get_project("busy", "default.project"))
    with transaction.atomic():
        Product.objects.select_for_update().get(pk=product.pk)
        thread, outcome = in_thread(
            lambda: product_sync(product=Product.objects.get(pk=product.pk), repo=repo)
        )
        # The sync read HEAD (`older`) and waits to write the index.
        wait_until_it_waits_for_a_lock(outcome)

        # Meanwhile a save lands on top (it catches up with `older` itself, then commits).
        def save() -> None:
            resource_save(
                product=product,
                kind="Environment",
                name="env-a",
                spec={"cluster": "cluster-a", "envType": "saved"},
                actor=admin_user,
                host=host,
            )

        with pytest.raises(Exception, match="changed"):
            save()
        product.refresh_from_db()
        save()
    thread.join()
    assert "error" not in outcome, outcome

    newest = repo.head()
    assert newest != older
    product.refresh_from_db()
    assert product.commit_sha == newest, "the index stays at the newest commit"
    assert environments_in_index(product) == {"env-a": "saved"}


def test_a_save_whose_commit_a_sync_already_passed_does_not_move_the_index_back(
    busy: tuple[Product, LocalGitHost], admin_user: Any
) -> None:
    from django.db import transaction

    from products.services import resource_save

    product, host = busy
    repo = host.repository(host.get_project("busy", "default.project"))
    with transaction.atomic():
        Product.objects.select_for_update().get(pk=product.pk)
        thread, outcome = in_thread(
            lambda: resource_save(
                product=Product.objects.get(pk=product.pk),
                kind="Environment",
                name="env-a",
                spec={"cluster": "cluster-a", "envType": "saved"},
                actor=admin_user,
                host=host,
            )
        )
        # The save committed and waits to update the index.
        wait_until_it_waits_for_a_lock(outcome)
        saved = repo.head()
        newer = external_commit(host, "pushed-after")  # someone pushes on top of it
        assert product_sync(product=Product.objects.get(pk=product.pk), repo=repo)
    thread.join()
    assert "error" not in outcome, outcome
    assert outcome["value"].commit_sha == saved

    product.refresh_from_db()
    assert product.commit_sha == newer, "the save did not move the index back to its commit"
    assert environments_in_index(product) == {"env-a": "pushed-after"}
