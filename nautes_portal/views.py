"""Portal-wide pages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
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


class PortalLoginView(auth_views.LoginView):
    """Local login form and/or "Log in with GitLab", as configured."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = settings.OIDC_ENABLED
        context["local_login"] = settings.NAUTES_LOCAL_LOGIN
        return context
