"""Registering, updating and deleting runtime clusters: rules → Vault → one tenant-repo commit.

The kubeconfig goes to Vault only after every rule passed, and is rolled back when the commit
fails, so a failed registration leaves nothing behind in Git or Vault.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clusters.kubeconfig import normalize_kubeconfig
from clusters.manifests import (
    CLUSTERS_DIR,
    KUSTOMIZATION_PATH,
    cluster_from_manifest,
    cluster_manifest,
    cluster_path,
    clusters_kustomization,
)
from clusters.models import Cluster, TenantRepository
from clusters.rules import (
    ClusterInput,
    cluster_input_from_request,
    validate_cluster,
    validate_cluster_delete,
    validate_cluster_update,
)
from clusters.signals import cluster_references_requested, cluster_saved
from nautes_portal.audit import audit_record, yaml_diff
from nautes_portal.errors import NotFound
from nautes_portal.git_index import (
    SaveOutcome,
    commit_author,
    import_until_settled,
    index_after_commit,
)
from nautes_portal.integrations import tenant_repo_path
from nautes_portal.integrations.config_repo import CommitConflict, ConfigRepository, GitHost
from nautes_portal.integrations.vault import SecretStore, cluster_kubeconfig_location
from nautes_portal.types import Actor
from nautes_portal.yaml_io import ManifestError, dump_yaml, load_yaml

logger = logging.getLogger(__name__)


def tenant_repository(host: GitHost, *, actor: Actor = None) -> ConfigRepository:
    """Return the tenant configuration repository, creating it (local backend) when missing."""
    namespace, project_path = tenant_repo_path()
    project = host.get_project(namespace, project_path)
    if project is None:
        if settings.NAUTES_GIT_BACKEND != "local":
            raise NotFound(
                f"the tenant configuration repository {namespace}/{project_path} does not exist",
                reason="PROJECT_NOT_FOUND",
            )
        host.ensure_group(path=namespace, name=namespace)
        project = host.ensure_project(namespace_path=namespace, path=project_path)
    repo = host.repository(project)
    if repo.head() is None:
        repo.commit(
            changes={KUSTOMIZATION_PATH: clusters_kustomization([])},
            expected_parent=None,
            message="initial commit.",
            author=commit_author(actor),
        )
    return repo


def _tenant_state() -> TenantRepository:
    namespace, project = tenant_repo_path()
    state, _ = TenantRepository.objects.get_or_create(full_path=f"{namespace}/{project}")
    return state


def cluster_references(name: str) -> list[str]:
    """What still uses a cluster: virtual clusters on it, then what the apps above answer
    (`cluster_references_requested`: the environments of any product)."""
    refs = [
        f"cluster/{c}"
        for c in Cluster.objects.filter(host_cluster=name).values_list("name", flat=True)
    ]
    for _, answer in cluster_references_requested.send(sender=Cluster, name=name):
        refs += answer or []
    return refs


def _index_values(name: str, document: dict[str, Any], path: str) -> dict[str, Any]:
    spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
    spec = spec or {}

    def text(key: str) -> str:
        value = spec.get(key)
        return value if isinstance(value, str) else ""

    def mapping(key: str) -> dict[str, Any]:
        value = spec.get(key)
        return value if isinstance(value, dict) else {}

    return {
        "api_server": text("apiServer"),
        "cluster_kind": text("clusterKind") or "kubernetes",
        "cluster_type": text("clusterType"),
        "usage": text("usage"),
        "worker_type": text("workerType"),
        "host_cluster": text("hostCluster"),
        "primary_domain": text("primaryDomain"),
        "components_list": mapping("componentsList"),
        "reserved_namespaces_allowed_products": mapping("reservedNamespacesAllowedProducts"),
        "product_allowed_cluster_resources": mapping("productAllowedClusterResources"),
        "manifest": document,
        "path": path,
    }


def _commit_tenant(
    repo: ConfigRepository, changes: dict[str, bytes | None], message: str, actor: Actor
) -> tuple[str, str]:
    """Commit on top of the commit the index is at (HEAD before the first sync); return the
    index's commit as read and the new commit."""
    state = _tenant_state()
    try:
        sha = repo.commit(
            changes=changes,
            expected_parent=state.head_sha or repo.head(),
            message=message,
            author=commit_author(actor),
        )
    except CommitConflict:
        tenant_sync(repo=repo)
        raise
    return state.head_sha, sha


def _lock_tenant_head() -> str:
    """The commit the cluster index is at, with the tenant row locked until the transaction
    ends: index updates happen one at a time, as for products (`products.services`)."""
    state = _tenant_state()
    return (
        TenantRepository.objects.select_for_update()
        .values_list("head_sha", flat=True)
        .get(pk=state.pk)
    )


def cluster_save(
    *, name: str, body: dict[str, Any], actor: Actor, host: GitHost, secrets: SecretStore
) -> SaveOutcome:
    """Register or update a cluster from an API body (upstream v0.4.2 shape)."""
    cluster = cluster_input_from_request(name, body)
    old = Cluster.objects.filter(name=name).first()
    existing = {c.name: c.spec for c in Cluster.objects.exclude(name=name)}
    physical = cluster.spec.get("clusterType") == "physical"
    # A physical cluster's first registration needs a kubeconfig; an update may keep Vault's.
    validate_cluster(cluster, existing=existing, require_kubeconfig=physical and old is None)
    if old is not None:
        validate_cluster_update(old.spec, cluster, referenced_by=cluster_references(name))
    kubeconfig = (
        normalize_kubeconfig(cluster.kubeconfig, api_server=cluster.spec["apiServer"])
        if physical and cluster.kubeconfig
        else None
    )
    if physical and kubeconfig is None and old is not None:
        kubeconfig = _kept_kubeconfig_moved(name, old, cluster.spec["apiServer"], secrets)
    return _write_cluster(cluster, old, kubeconfig, actor=actor, host=host, secrets=secrets)


def _kept_kubeconfig_moved(
    name: str, old: Cluster, api_server: str, secrets: SecretStore
) -> str | None:
    """Vault's kubeconfig pointed at a changed `api_server` (None: unchanged or none kept).

    An update without a kubeconfig keeps Vault's; without this, the portal would show the new
    address while every client still sent the token to the old one (#12).
    """
    if old.api_server == api_server:
        return None
    location = cluster_kubeconfig_location(name)
    stored = (secrets.read(engine=location.engine, path=location.path) or {}).get("kubeconfig")
    return normalize_kubeconfig(stored, api_server=api_server) if stored else None


def _write_cluster(
    cluster: ClusterInput,
    old: Cluster | None,
    kubeconfig: str | None,
    *,
    actor: Actor,
    host: GitHost,
    secrets: SecretStore,
) -> SaveOutcome:
    name = cluster.name
    document = cluster_manifest(name, cluster.spec)
    path = cluster_path(name)
    content = dump_yaml(document)
    names = set(Cluster.objects.values_list("name", flat=True)) | {name}
    changes: dict[str, bytes | None] = {
        path: content,
        KUSTOMIZATION_PATH: clusters_kustomization(names),
    }
    repo = tenant_repository(host, actor=actor)
    location = cluster_kubeconfig_location(name)
    previous_secret: dict[str, str] | None = None
    if kubeconfig is not None:
        secrets.check_ready()  # refuse before writing anything when Vault is sealed or down
        previous_secret = secrets.read(engine=location.engine, path=location.path)
        secrets.write(engine=location.engine, path=location.path, data={"kubeconfig": kubeconfig})
    try:
        indexed, sha = _commit_tenant(repo, changes, f"[API] Save_Cluster: {name}.", actor)
    except Exception:
        if kubeconfig is not None:
            _restore_secret(secrets, location.engine, location.path, previous_secret)
        raise
    if kubeconfig is not None:
        secrets.ensure_policy(name=location.policy_name, engine=location.engine, path=location.path)
    before = dump_yaml(old.manifest) if old is not None else None
    save_audit: dict[str, Any] = {
        "actor": actor,
        "action": "save",
        "kind": "Cluster",
        "name": name,
        "repository": "/".join(tenant_repo_path()),
        "commit_sha": sha,
        "diff": yaml_diff(path, before, content),
    }

    def after_index() -> None:
        audit_record(**save_audit)
        row = Cluster.objects.filter(name=name).first()
        if row is not None:  # None: a later commit a sync imported meanwhile removed it again
            cluster_check_start(cluster=row, actor=actor)
        cluster_saved.send(
            sender=Cluster,
            name=name,
            old_spec=old.spec if old is not None else None,
            new_spec=cluster.spec,
            commit_sha=sha,
            actor=actor,
        )

    def index_commit() -> None:
        with transaction.atomic():
            # As for products: a sync that already imported a later commit holds this change.
            if _lock_tenant_head() in (indexed, sha):
                Cluster.objects.update_or_create(
                    name=name,
                    defaults={
                        **_index_values(name, document, path),
                        "commit_sha": sha,
                        "problems": [],
                    },
                )
                TenantRepository.objects.filter(pk=_tenant_state().pk).update(head_sha=sha)
            after_index()

    def reindex() -> None:
        tenant_sync(repo=repo)  # HEAD holds `sha`
        with transaction.atomic():
            after_index()

    warning = index_after_commit(index_commit, reindex, what="the clusters", commit_sha=sha)
    return SaveOutcome(commit_sha=sha, path=path, created=old is None, warning=warning)


def _restore_secret(
    secrets: SecretStore, engine: str, path: str, previous: dict[str, str] | None
) -> None:
    try:
        if previous is None:
            secrets.delete(engine=engine, path=path)
        else:
            secrets.write(engine=engine, path=path, data=previous)
    except Exception:  # the original error matters more; this one is logged
        logger.exception("could not roll back the kubeconfig of a failed registration")


def cluster_delete(*, name: str, actor: Actor, host: GitHost, secrets: SecretStore) -> SaveOutcome:
    """Remove a cluster that nothing uses: its file, then its kubeconfig and policy in Vault."""
    old = Cluster.objects.filter(name=name).first()
    if old is None:
        raise NotFound(f"the cluster resource {name} is not found")
    validate_cluster_delete(name, referenced_by=cluster_references(name))
    secrets.check_ready()  # the kubeconfig must be removable before the file goes
    names = set(Cluster.objects.exclude(name=name).values_list("name", flat=True))
    changes: dict[str, bytes | None] = {
        old.path or cluster_path(name): None,
        KUSTOMIZATION_PATH: clusters_kustomization(names),
    }
    repo = tenant_repository(host, actor=actor)
    indexed, sha = _commit_tenant(repo, changes, f"[API] Delete_Cluster: {name}.", actor)
    location = cluster_kubeconfig_location(name)
    delete_audit: dict[str, Any] = {
        "actor": actor,
        "action": "delete",
        "kind": "Cluster",
        "name": name,
        "repository": "/".join(tenant_repo_path()),
        "commit_sha": sha,
        "diff": yaml_diff(old.path, dump_yaml(old.manifest), None),
    }

    def index_commit() -> None:
        with transaction.atomic():
            if _lock_tenant_head() in (indexed, sha):
                Cluster.objects.filter(pk=old.pk).delete()
                TenantRepository.objects.filter(pk=_tenant_state().pk).update(head_sha=sha)
            audit_record(**delete_audit)

    def reindex() -> None:
        tenant_sync(repo=repo)  # HEAD no longer has the cluster
        audit_record(**delete_audit)

    warning = index_after_commit(index_commit, reindex, what="the clusters", commit_sha=sha)
    secrets.delete(engine=location.engine, path=location.path)
    secrets.delete_policy(location.policy_name)
    return SaveOutcome(commit_sha=sha, path=old.path, created=False, warning=warning)


def _without_product(spec: dict[str, Any], product_name: str) -> dict[str, Any]:
    """`spec` with `product_name` (in any letter case) taken out of both allow-lists: the
    namespaces stay (reserved, maybe for other products), the product's resource list goes."""
    gone = product_name.casefold()

    def named(item: Any) -> bool:
        return isinstance(item, str) and item.casefold() == gone

    result = dict(spec)
    reserved = spec.get("reservedNamespacesAllowedProducts")
    if isinstance(reserved, dict):
        result["reservedNamespacesAllowedProducts"] = {
            namespace: [p for p in products if not named(p)]
            if isinstance(products, list)
            else products
            for namespace, products in reserved.items()
        }
    resources = spec.get("productAllowedClusterResources")
    if isinstance(resources, dict):
        kept = {product: kinds for product, kinds in resources.items() if not named(product)}
        if kept:
            result["productAllowedClusterResources"] = kept
        else:
            result.pop("productAllowedClusterResources")
    return result


def cluster_grants_revoke(*, product_name: str, actor: Actor, host: GitHost) -> list[str]:
    """Take a deleted product's name out of every cluster's allow-lists, in one tenant commit;
    return the clusters changed (none: nothing is written).

    The allow-lists name products (upstream's manifest format, kept), so a product created later
    under the same name by anyone would inherit them (#12). `product_delete` calls this before
    it removes the product from the index, so the name is never free while still granted.
    """
    changed = []
    for cluster in Cluster.objects.order_by("name"):
        spec = cluster.spec
        kept = _without_product(spec, product_name)
        if kept != spec:
            changed.append((cluster, {**cluster.manifest, "spec": kept}))
    if not changed:
        return []
    changes: dict[str, bytes | None] = {
        cluster.path or cluster_path(cluster.name): dump_yaml(document)
        for cluster, document in changed
    }
    names = [cluster.name for cluster, _ in changed]
    repo = tenant_repository(host, actor=actor)
    message = f"[API] Delete_Product: {product_name}: its grants on {', '.join(names)}."
    _, sha = _commit_tenant(repo, changes, message, actor)

    def index_commit() -> None:
        tenant_sync(repo=repo)  # HEAD holds `sha` (or a later commit, which is newer)
        with transaction.atomic():
            for cluster, document in changed:
                path = cluster.path or cluster_path(cluster.name)
                audit_record(
                    actor=actor,
                    action="save",
                    kind="Cluster",
                    name=cluster.name,
                    repository="/".join(tenant_repo_path()),
                    commit_sha=sha,
                    diff=yaml_diff(path, dump_yaml(cluster.manifest), dump_yaml(document)),
                    message=f"product {product_name} deleted: its grants removed",
                )

    index_after_commit(index_commit, index_commit, what="the clusters", commit_sha=sha)
    return names


def tenant_sync(*, repo: ConfigRepository) -> bool:
    """Import the clusters of the tenant repository at HEAD into the index.

    As `products.services.product_sync`: when the index moves while HEAD is being read, the
    import starts again from the new HEAD rather than write an older tree over a newer index.
    """
    return import_until_settled(lambda: _import_tenant_head(repo), what="the cluster index")


def _import_tenant_head(repo: ConfigRepository) -> bool | None:
    """One import attempt: True/False as `tenant_sync`, None when the index moved meanwhile."""
    head = repo.head()
    state = _tenant_state()
    previous = state.head_sha
    if head is None or head == previous:
        return False
    files = repo.read_tree(head)
    clusters: list[tuple[str, dict[str, Any], str, list[str]]] = []
    seen: set[str] = set()
    for path, content in sorted(files.items()):
        if not path.startswith(f"{CLUSTERS_DIR}/") or path == KUSTOMIZATION_PATH:
            continue
        if not path.endswith((".yaml", ".yml")) or path.count("/") != CLUSTERS_DIR.count("/") + 1:
            continue
        try:
            document = load_yaml(content, path)
            name, _ = cluster_from_manifest(document)
        except (ManifestError, ValueError) as exc:
            logger.warning("tenant repository file %s is not a cluster: %s", path, exc)
            continue
        if name in seen:
            continue
        seen.add(name)
        clusters.append((name, document, path, _cluster_file_problems(name, document)))
    with transaction.atomic():
        if _lock_tenant_head() != previous:
            return None
        for name, document, path, problems in clusters:
            values = _index_values(name, document, path)
            row = Cluster.objects.filter(name=name).first()
            if row is None or row.manifest != document or row.path != path:
                Cluster.objects.update_or_create(
                    name=name, defaults={**values, "commit_sha": head, "problems": problems}
                )
            elif row.problems != problems:
                Cluster.objects.filter(pk=row.pk).update(problems=problems)
        Cluster.objects.exclude(name__in=seen).delete()
        TenantRepository.objects.filter(pk=state.pk).update(
            head_sha=head, synced_at=timezone.now(), sync_error=""
        )
        audit_record(
            actor=None,
            action="sync",
            kind="Cluster",
            name="*",
            repository="/".join(tenant_repo_path()),
            commit_sha=head,
            message=f"imported {head[:8]}",
        )
    return True


def _cluster_file_problems(name: str, document: dict[str, Any]) -> list[str]:
    from nautes_portal.errors import RuleViolation

    spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
    cluster = ClusterInput(
        name=name, spec=dict(spec or {}), kubeconfig=None, vcluster_https_node_port=None
    )
    existing = {c.name: c.spec for c in Cluster.objects.exclude(name=name)}
    try:
        validate_cluster(cluster, existing=existing, require_kubeconfig=False)
    except RuleViolation as exc:
        return [exc.message]
    return []


def cluster_check_start(*, cluster: Cluster, actor: Actor, inline: bool = False) -> Any:
    """Start the connectivity and readiness check of a cluster (queued unless `inline`)."""
    from clusters.health import CLUSTER_CHECK
    from nautes_portal.operations import operation_create, operation_enqueue, operation_run

    operation = operation_create(
        kind=CLUSTER_CHECK, target=cluster.name, params={"cluster": cluster.name}, actor=actor
    )
    if inline:
        return operation_run(operation.pk)
    operation_enqueue(operation)
    return operation


def check_all_clusters() -> int:
    """Queue a check of every cluster (scheduled); one slow cluster never blocks the others."""
    clusters = list(Cluster.objects.all())
    for cluster in clusters:
        cluster_check_start(cluster=cluster, actor=None)
    return len(clusters)
