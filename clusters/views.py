"""Browser pages for runtime clusters: list, page with health, registration wizard, edit, delete.

Reading clusters needs read access to the tenant configuration repository; registering,
checking, editing and deleting need the Maintainer role on it (`nautes_portal.permissions`).
Writes go through `clusters.services` only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clusters import services
from clusters.forms import (
    STEP_NAMES,
    STEPS,
    BasicsForm,
    ClusterDraft,
    ClusterFilter,
    ComponentsForm,
    KubeconfigForm,
    KubeconfigVault,
    shape_categories,
)
from clusters.health import CLUSTER_CHECK
from clusters.kubeconfig import (
    KUBECONFIG_REQUIRED_MESSAGE,
    kubeconfig_summary,
    normalize_kubeconfig,
)
from clusters.manifests import cluster_manifest_yaml, cluster_reply
from clusters.models import Cluster, ClusterHealth
from clusters.rules import cluster_input_from_request, cluster_problems, validate_cluster_update
from nautes_portal import permissions
from nautes_portal.audit import yaml_diff
from nautes_portal.errors import NautesError, RuleViolation
from nautes_portal.integrations import git_host
from nautes_portal.integrations.vault import cluster_kubeconfig_location, secret_store
from nautes_portal.ui.diffs import diff_lines
from nautes_portal.ui.forms import DeleteConfirmForm
from nautes_portal.ui.htmx import htmx_partial
from nautes_portal.ui.paging import paginate
from nautes_portal.yaml_io import dump_yaml

BASICS_KEYS = (
    "api_server",
    "cluster_kind",
    "cluster_type",
    "usage",
    "worker_type",
    "host_cluster",
    "primary_domain",
    "vcluster",
)


def _require_view(request: HttpRequest) -> None:
    if not permissions.can_view_clusters(request.user):
        raise PermissionDenied("Reading clusters needs access to the tenant repository.")


def _require_manage(request: HttpRequest) -> None:
    if not permissions.can_manage_clusters(request.user):
        raise PermissionDenied(
            "Registering and changing clusters needs the Maintainer role on the tenant "
            "configuration repository."
        )


def _cluster(name: str) -> Cluster:
    cluster = Cluster.objects.filter(name=name).first()
    if cluster is None:
        raise Http404("No such cluster.")
    return cluster


def _references(names: list[str]) -> list[dict[str, str]]:
    """`cluster/vc1` and `environment/<product>/<env>` references as links."""
    links = []
    for ref in names:
        kind, _, rest = ref.partition("/")
        if kind == "cluster":
            links.append(
                {"what": "virtual cluster", "name": rest, "url": reverse("cluster", args=[rest])}
            )
        elif kind == "environment":
            product, _, env = rest.partition("/")
            url = reverse("resource", args=[product, "environments", env])
            links.append({"what": f"environment of {product}", "name": env, "url": url})
        else:
            links.append({"what": kind, "name": rest, "url": ""})
    return links


# ---- List and page -------------------------------------------------------------------------------


@require_GET
@login_required
def cluster_list(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    rows = Cluster.objects.select_related("health").order_by("name")
    filters = ClusterFilter(request.GET, queryset=rows)
    # A cluster never checked has no health row: the template's lookup of `cluster.health`
    # then fails silently (ObjectDoesNotExist) and shows "not checked yet".
    page = paginate(request, filters.qs)
    context = {
        "filter": filters,
        "page": page,
        "clusters": page.object_list,
        "can_manage": permissions.can_manage_clusters(request.user),
    }
    template = "clusters.html" + ("#results" if htmx_partial(request) else "")
    return render(request, template, context)


def _health_context(request: HttpRequest, cluster: Cluster) -> dict[str, Any]:
    last_check = (
        permissions.operations_visible_to(request.user)
        .filter(kind=CLUSTER_CHECK, target=cluster.name)
        .order_by("-pk")
        .first()
    )
    health = ClusterHealth.objects.filter(cluster=cluster).first()
    checks = []
    if health is not None:
        checks = [
            ("Reachable", health.reachable),
            ("May create namespaces", health.can_create_namespaces),
            ("May manage Argo CD objects", health.can_manage_argocd),
            ("Argo CD installed", health.argocd_installed),
            ("Argo CD namespace present", health.argocd_namespace_present),
        ]
    return {
        "cluster": cluster,
        "health": health,
        "checks": checks,
        "last_check": last_check,
        "running": last_check is not None and last_check.status in ("pending", "running"),
        "can_manage": permissions.can_manage_clusters(request.user),
    }


@require_GET
@login_required
def cluster_detail(request: HttpRequest, name: str) -> HttpResponse:
    _require_view(request)
    cluster = _cluster(name)
    context = _health_context(request, cluster)
    if htmx_partial(request):
        return render(request, "clusters/cluster_detail.html#health", context)
    spec = cluster.spec
    context.update(
        {
            "components": sorted((spec.get("componentsList") or {}).items()),
            "reserved": sorted((spec.get("reservedNamespacesAllowedProducts") or {}).items()),
            "resources": sorted((spec.get("productAllowedClusterResources") or {}).items()),
            "references": _references(services.cluster_references(name)),
            "manifest": dump_yaml(cluster.manifest).decode(),
        }
    )
    return render(request, "clusters/cluster_detail.html", context)


@require_POST
@login_required
def cluster_check(request: HttpRequest, name: str) -> HttpResponse:
    """Start a connectivity and readiness check (a queued operation)."""
    _require_manage(request)
    cluster = _cluster(name)
    operation = services.cluster_check_start(cluster=cluster, actor=request.user)
    if htmx_partial(request):  # the panel itself shows the running check
        return render(
            request, "clusters/cluster_detail.html#health", _health_context(request, cluster)
        )
    messages.info(request, f"Started a check of {name} (operation {operation.pk}).")
    return redirect("cluster", name=name)


@require_http_methods(["GET", "POST"])
@login_required
def cluster_delete(request: HttpRequest, name: str) -> HttpResponse:
    _require_manage(request)
    cluster = _cluster(name)
    references = services.cluster_references(name)
    form = DeleteConfirmForm(request.POST or None, expected=name)
    if request.method == "POST" and not references and form.is_valid():
        try:
            services.cluster_delete(
                name=name, actor=request.user, host=git_host(), secrets=secret_store()
            )
        except NautesError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Deleted cluster {name}, its file and its kubeconfig.")
            return redirect("clusters")
    diff = yaml_diff(cluster.path, dump_yaml(cluster.manifest), None)
    context = {
        "cluster": cluster,
        "form": form,
        "references": _references(references),
        "diff": diff_lines(diff),
        "location": cluster_kubeconfig_location(name),
    }
    return render(request, "clusters/cluster_delete.html", context)


# ---- Registration and edit wizard ----------------------------------------------------------------


def _seed(cluster: Cluster) -> ClusterDraft:
    """An edit draft from the registered cluster, in the API body shape."""
    reply = cluster_reply(cluster.name, cluster.spec)
    body = {key: reply[key] for key in BASICS_KEYS if key in reply}
    body["components_list"] = {k: v for k, v in reply["components_list"].items() if v}
    for key in ("reserved_namespaces_allowed_products", "product_allowed_cluster_resources"):
        if reply.get(key):
            body[key] = reply[key]
    return ClusterDraft(mode=f"edit:{cluster.name}", name=cluster.name, body=body)


def _step_list(draft: ClusterDraft) -> list[str]:
    return [s for s in STEP_NAMES if s != "kubeconfig" or draft.physical]


def _neighbour(draft: ClusterDraft, step: str, offset: int) -> str:
    steps = _step_list(draft)
    index = steps.index(step) + offset if step in steps else 0
    return steps[max(0, min(index, len(steps) - 1))]


def _step_url(draft: ClusterDraft, step: str) -> str:
    if draft.editing:
        return reverse("cluster-edit-step", args=[draft.name, step])
    return reverse("cluster-new-step", args=[step])


def _check_url(draft: ClusterDraft, step: str) -> str:
    if draft.editing:
        return reverse("cluster-edit-check", args=[draft.name, step])
    return reverse("cluster-new-check", args=[step])


def _problems(
    draft: ClusterDraft, body: dict[str, Any], *, kubeconfig: str | None, require: bool
) -> tuple[list[str], Any]:
    """Every rule the cluster would break (nothing is written)."""
    full = {**body, **({"kubeconfig": kubeconfig} if kubeconfig else {})}
    try:
        cluster = cluster_input_from_request(draft.name, full)
    except RuleViolation as exc:
        return [exc.message], None
    existing = {
        c.name: c.spec for c in Cluster.objects.exclude(name=draft.name).only("name", "manifest")
    }
    problems = cluster_problems(cluster, existing=existing, require_kubeconfig=require)
    old = Cluster.objects.filter(name=draft.name).first()
    if old is not None and not draft.editing:
        problems.insert(0, f"A cluster named {draft.name} is already registered; edit it instead.")
    elif old is not None:
        try:
            validate_cluster_update(
                old.spec, cluster, referenced_by=services.cluster_references(draft.name)
            )
        except NautesError as exc:
            problems.append(exc.message)
    return problems, cluster


def _context(draft: ClusterDraft, step: str, **extra: Any) -> dict[str, Any]:
    steps = _step_list(draft)
    return {
        "draft": draft,
        "step": step,
        "title": dict(STEPS)[step],
        "steps": [
            {
                "step": s,
                "title": title,
                "current": s == step,
                "skipped": s not in steps,
                "url": _step_url(draft, s),
                "reachable": draft.started or s == "basics",
            }
            for s, title in STEPS
        ],
        "position": steps.index(step) + 1 if step in steps else 1,
        "total": len(steps),
        "check_url": _check_url(draft, step),
        "step_url": _step_url(draft, step),
        **extra,
    }


@require_GET
@login_required
def cluster_new(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    return redirect("cluster-new-step", step="basics")


@require_GET
@login_required
def cluster_edit(request: HttpRequest, name: str) -> HttpResponse:
    """Start editing from the registered cluster (a fresh draft each time)."""
    _require_manage(request)
    draft = _seed(_cluster(name))
    draft.clear(request.session)
    draft.save(request.session)
    return redirect("cluster-edit-step", name=name, step="basics")


@require_http_methods(["GET", "POST"])
@login_required
def cluster_wizard(request: HttpRequest, step: str, name: str | None = None) -> HttpResponse:
    """One step of registering (`/clusters/new/<step>/`) or editing a cluster; nothing is
    written before "Register" on the review step."""
    _require_manage(request)
    if step not in STEP_NAMES:
        raise Http404("No such step.")
    mode = f"edit:{name}" if name else "new"
    draft = ClusterDraft.load(request.session, mode)
    if name is not None:
        cluster = _cluster(name)
        if not draft.started:
            draft = _seed(cluster)
            draft.save(request.session)
    if request.method == "POST" and request.POST.get("action") == "cancel":
        draft.clear(request.session)
        messages.info(request, "Nothing was registered or changed.")
        return redirect("cluster", name=name) if name else redirect("clusters")
    if step != "basics" and not draft.started:
        return redirect(_step_url(draft, "basics"))
    if step == "kubeconfig" and not draft.physical:
        return redirect(_step_url(draft, "components"))
    handler = {
        "basics": _basics,
        "kubeconfig": _kubeconfig,
        "components": _components,
        "review": _review,
    }[step]
    return handler(request, draft)


def _basics(request: HttpRequest, draft: ClusterDraft) -> HttpResponse:
    problems: list[str] = []
    initial = BasicsForm.initial_from(draft.name, draft.body) if draft.started else None
    if request.method == "POST":
        form = BasicsForm(request.POST, initial=initial, editing=draft.editing)
        if form.is_valid():
            body = {k: v for k, v in draft.body.items() if k not in BASICS_KEYS}
            body.update(form.body())
            if not draft.editing:
                draft.name = form.cleaned_data["name"]
            problems, _ = _problems(draft, body, kubeconfig=None, require=False)
            if not problems:
                draft.body = body
                draft.save(request.session)
                return redirect(_step_url(draft, _neighbour(draft, "basics", 1)))
    else:
        form = BasicsForm(initial=initial, editing=draft.editing)
    return render(
        request, "clusters/wizard.html", _context(draft, "basics", form=form, problems=problems)
    )


def _kubeconfig(request: HttpRequest, draft: ClusterDraft) -> HttpResponse:
    vault = KubeconfigVault(request.session, draft.mode)
    held = vault.get() is not None
    if request.method == "POST":
        action = request.POST.get("action", "next")
        if action == "forget":
            vault.clear()
            draft.kubeconfig_summary = {}
            draft.save(request.session)
            return redirect(_step_url(draft, "kubeconfig"))
        if action == "back":
            return redirect(_step_url(draft, "basics"))
        form = KubeconfigForm(request.POST, request.FILES)
        if form.is_valid():
            text = form.cleaned_data["kubeconfig"]
            if text:
                try:
                    normalize_kubeconfig(text, api_server=draft.body.get("api_server", ""))
                except RuleViolation as exc:
                    form.add_error(None, exc.message)
                else:
                    vault.put(text)
                    draft.kubeconfig_summary = kubeconfig_summary(text)
                    draft.save(request.session)
                    return redirect(_step_url(draft, "components"))
            elif held or draft.editing:
                return redirect(_step_url(draft, "components"))
            else:
                form.add_error(None, KUBECONFIG_REQUIRED_MESSAGE)
    else:
        form = KubeconfigForm()
    context = _context(draft, "kubeconfig", form=form, held=held)
    return render(request, "clusters/wizard.html", context)


def _resolved_components(draft: ClusterDraft) -> dict[str, Any]:
    """The components the body resolves to (catalogue defaults filled), by API key."""
    cluster = cluster_input_from_request(draft.name, draft.body)
    resolved = cluster.spec.get("componentsList") or {}
    from clusters import catalogue

    return {
        api_key: resolved[catalogue.API_TO_CRD[api_key]]
        for api_key in shape_categories(draft.body)
        if catalogue.API_TO_CRD[api_key] in resolved
    }


def _components(request: HttpRequest, draft: ClusterDraft) -> HttpResponse:
    categories = shape_categories(draft.body)
    try:
        initial = ComponentsForm.initial_from(draft.body, _resolved_components(draft))
    except RuleViolation as exc:
        messages.error(request, exc.message)
        return redirect(_step_url(draft, "basics"))
    problems: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action", "next")
        form = ComponentsForm(request.POST, initial=initial, categories=categories)
        if form.is_valid():
            body = {
                k: v
                for k, v in draft.body.items()
                if k
                not in (
                    "components_list",
                    "reserved_namespaces_allowed_products",
                    "product_allowed_cluster_resources",
                )
            }
            body.update(form.body())
            if action == "back":
                draft.body = body
                draft.save(request.session)
                return redirect(_step_url(draft, _neighbour(draft, "components", -1)))
            kubeconfig = KubeconfigVault(request.session, draft.mode).get()
            problems, _ = _problems(draft, body, kubeconfig=kubeconfig, require=False)
            if not problems:
                draft.body = body
                draft.save(request.session)
                return redirect(_step_url(draft, "review"))
        elif action == "back":
            return redirect(_step_url(draft, _neighbour(draft, "components", -1)))
    else:
        form = ComponentsForm(initial=initial, categories=categories)
    context = _context(draft, "components", form=form, problems=problems)
    return render(request, "clusters/wizard.html", context)


def _review(request: HttpRequest, draft: ClusterDraft) -> HttpResponse:
    vault = KubeconfigVault(request.session, draft.mode)
    kubeconfig = vault.get()
    require = draft.physical and not draft.editing
    problems, cluster = _problems(draft, draft.body, kubeconfig=kubeconfig, require=require)
    if require and kubeconfig is None and draft.kubeconfig_summary:
        problems.append("The kubeconfig was held for 30 minutes and has expired; upload it again.")
    if request.method == "POST":
        if request.POST.get("action") == "back":
            return redirect(_step_url(draft, "components"))
        if request.POST.get("action") == "register" and not problems:
            body = {**draft.body, **({"kubeconfig": kubeconfig} if kubeconfig else {})}
            try:
                outcome = services.cluster_save(
                    name=draft.name,
                    body=body,
                    actor=request.user,
                    host=git_host(),
                    secrets=secret_store(),
                )
            except NautesError as exc:
                problems = [exc.message]
            else:
                draft.clear(request.session)  # the kubeconfig leaves the session here
                verb = "Registered" if outcome.created else "Saved"
                messages.success(
                    request,
                    f"{verb} cluster {draft.name} (commit {outcome.commit_sha[:8]}); "
                    "its connectivity check has started.",
                )
                return redirect("cluster", name=draft.name)
    manifest = ""
    diff: list[tuple[str, str]] = []
    if cluster is not None:
        content = cluster_manifest_yaml(draft.name, cluster.spec)
        manifest = content.decode()
        old = Cluster.objects.filter(name=draft.name).first()
        if old is not None and draft.editing:
            diff = diff_lines(yaml_diff(old.path, dump_yaml(old.manifest), content))
    context = _context(
        draft,
        "review",
        problems=problems,
        manifest=manifest,
        diff=diff,
        held=kubeconfig is not None,
        location=cluster_kubeconfig_location(draft.name) if draft.name else None,
    )
    return render(request, "clusters/wizard.html", context)


@require_POST
@login_required
def cluster_wizard_check(request: HttpRequest, step: str, name: str | None = None) -> HttpResponse:
    """htmx: check a step's input as the user types; never echoes a kubeconfig."""
    _require_manage(request)
    if step not in STEP_NAMES:
        raise Http404("No such step.")
    draft = ClusterDraft.load(request.session, f"edit:{name}" if name else "new")
    live: list[str] = []
    typed = False
    if step == "basics":
        form = BasicsForm(
            request.POST,
            initial=BasicsForm.initial_from(draft.name, draft.body),
            editing=draft.editing,
        )
        typed = bool(request.POST.get("name") or draft.editing)
        if typed and form.is_valid():
            body = {k: v for k, v in draft.body.items() if k not in BASICS_KEYS}
            body.update(form.body())
            probe = ClusterDraft(mode=draft.mode, name=form.cleaned_data["name"], body=body)
            live, _ = _problems(probe, body, kubeconfig=None, require=False)
        elif typed:
            live = [
                f"{form.fields[f].label or f}: {' '.join(map(str, e))}"
                for f, e in form.errors.items()
            ]
    elif step == "kubeconfig":
        text = request.POST.get("kubeconfig_text", "").strip()
        typed = bool(text)
        if text:
            try:
                normalize_kubeconfig(text, api_server=draft.body.get("api_server", ""))
            except RuleViolation as exc:
                live = [exc.message]
    elif step == "components" and draft.started:
        typed = True
        components = ComponentsForm(request.POST, categories=shape_categories(draft.body))
        if components.is_valid():
            body = {**draft.body, **components.body()}
            kubeconfig = KubeconfigVault(request.session, draft.mode).get()
            live, _ = _problems(draft, body, kubeconfig=kubeconfig, require=False)
        else:
            live = [
                f"{components.fields[f].label if f in components.fields else 'Form'}: "
                f"{' '.join(map(str, e))}"
                for f, e in components.errors.items()
            ]
    context = _context(draft, step, live=live, typed=typed)
    return render(request, "clusters/wizard.html#live", context)
