"""The reconciler on a cluster's page: its last pass (a fragment the cluster page loads, since
the clusters app knows nothing of deployments) and a button for a pass now."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from clusters.models import Cluster
from deployments.models import ClusterReconcile, PassResult, RuntimeStatus
from deployments.services import cluster_reconcile_now
from nautes_portal import permissions
from nautes_portal.errors import NautesError
from nautes_portal.ui.htmx import HtmxHttpRequest


def _cluster(request: HtmxHttpRequest, name: str) -> Cluster:
    if not permissions.can_view_clusters(request.user):
        raise PermissionDenied("You may not view clusters.")
    cluster = Cluster.objects.filter(name=name).first()
    if cluster is None:
        raise Http404(f"cluster {name} is not found")
    return cluster


@require_GET
@login_required
def cluster_reconcile_fragment(request: HtmxHttpRequest, name: str) -> HttpResponse:
    cluster = _cluster(request, name)
    context = {
        "cluster": cluster,
        "record": ClusterReconcile.objects.filter(cluster=cluster.name).first(),
        "troubled": RuntimeStatus.objects.filter(
            deployed_cluster=cluster.name,
            pass_result__in=[PassResult.CONFLICT, PassResult.REFUSED],
        ).count()
        + RuntimeStatus.objects.filter(
            cluster=cluster.name,
            deployed_cluster="",
            pass_result__in=[PassResult.CONFLICT, PassResult.REFUSED],
        ).count(),
        "can_manage": permissions.can_manage_clusters(request.user),
    }
    return render(request, "deployments/cluster_reconcile.html", context)


@require_POST
@login_required
def cluster_reconcile_view(request: HtmxHttpRequest, name: str) -> HttpResponse:
    cluster = _cluster(request, name)
    if not permissions.can_manage_clusters(request.user):
        raise PermissionDenied("You may not reconcile clusters.")
    try:
        operation = cluster_reconcile_now(cluster_name=cluster.name, actor=request.user)
    except NautesError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Reconcile pass queued (operation {operation.pk}).")
    return redirect(reverse("cluster", args=[cluster.name]))
