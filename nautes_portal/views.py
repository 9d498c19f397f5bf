"""Portal-wide pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from nautes_portal import permissions


@require_GET
@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    events = permissions.audit_events_visible_to(request.user)[:200]
    return render(request, "audit.html", {"events": events})
