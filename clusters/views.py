"""Read-only cluster pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clusters.models import Cluster
from nautes_portal import permissions


@require_GET
@login_required
def cluster_list(request: HttpRequest) -> HttpResponse:
    if not permissions.can_view_clusters(request.user):
        raise PermissionDenied("Reading clusters needs access to the tenant repository.")
    clusters = list(Cluster.objects.select_related("health").order_by("name"))
    for cluster in clusters:
        if not hasattr(cluster, "health"):
            cluster.health = None  # type: ignore[assignment]
    return render(request, "clusters.html", {"clusters": clusters})
