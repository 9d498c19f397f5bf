"""Operation pages: the list and a live step log (htmx polling while it runs)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from nautes_portal import permissions
from nautes_portal.errors import NautesError
from nautes_portal.operations import operation_retry
from nautes_portal.operations.models import Operation
from nautes_portal.ui.htmx import HtmxHttpRequest


def _visible(request: HtmxHttpRequest, pk: int) -> Operation:
    operation = permissions.operations_visible_to(request.user).filter(pk=pk).first()
    if operation is None:
        raise Http404("No such operation.")
    return operation


@require_GET
@login_required
def operation_list(request: HtmxHttpRequest) -> HttpResponse:
    operations = permissions.operations_visible_to(request.user).select_related("created_by")[:200]
    return render(request, "deployments/operation_list.html", {"operations": operations})


@require_GET
@login_required
def operation_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    operation = _visible(request, pk)
    context = {
        "operation": operation,
        "can_retry": permissions.can_retry_operation(request.user, operation),
    }
    template = "deployments/operation_detail.html"
    if request.htmx:
        template += "#steps"
    return render(request, template, context)


@require_POST
@login_required
def operation_retry_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    operation = _visible(request, pk)
    if not permissions.can_retry_operation(request.user, operation):
        raise PermissionDenied("You may not retry this operation.")
    try:
        operation_retry(operation)
    except NautesError as exc:
        messages.error(request, exc.message)
    return redirect("operation", pk=pk)
