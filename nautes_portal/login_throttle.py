"""Login throttling (django-axes, configured in settings): what counts and what a locked-out
user sees.

Failed password logins are counted per (username, client address); a locked-out pair gets the
portal's own login page with "Too many failed login attempts; try again in N minutes" and HTTP
429, from the login page and the admin's alike. Every attempt during the lockout is refused,
even with the right password, and starts the wait again (axes' default), so N is the whole
cool-off.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

LOCKOUT_STATUS = 429


def client_address(request: HttpRequest) -> str:
    """The address a login is counted under (AXES_CLIENT_IP_CALLABLE).

    Behind NAUTES_TRUSTED_PROXIES reverse proxies (an ingress: 1) every request comes from the
    nearest proxy, so REMOTE_ADDR would lock a username out for everyone. Each trusted proxy
    appends the address it saw to X-Forwarded-For, so the client is the entry that many places
    from the right; entries further left are the client's own words and are never used. A
    header shorter than the proxy count means the request did not come through them all:
    REMOTE_ADDR counts then.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.NAUTES_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    return forwarded[-proxies] if len(forwarded) >= proxies else remote


def cool_off(request: HttpRequest | None = None) -> dt.timedelta:
    """How long a locked-out (username, address) pair waits (AXES_COOLOFF_TIME)."""
    return dt.timedelta(minutes=settings.NAUTES_LOGIN_COOLOFF_MINUTES)


def not_a_password_login(request: HttpRequest, credentials: dict[str, Any] | None) -> bool:
    """Attempts without a username are never counted nor refused (AXES_WHITELIST_CALLABLE).

    An OIDC callback authenticates with a code and a nonce, not a username: counting its
    failures under "no username" would let anyone lock GitLab logins out of a shared address.
    """
    return not (credentials or {}).get("username")


def lockout_message() -> str:
    minutes = max(1, round(cool_off().total_seconds() / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed login attempts; try again in {minutes} {unit}."


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """The login page with the lockout message (AXES_LOCKOUT_CALLABLE), never a bare 403."""
    from nautes_portal.views import PortalLoginView

    view = PortalLoginView()
    view.setup(request)
    username = request.POST.get("username", "") if request.method == "POST" else ""
    form = AuthenticationForm(request, initial={"username": username})
    context = view.get_context_data(form=form, lockout=lockout_message())
    response = TemplateResponse(request, "registration/login.html", context, status=LOCKOUT_STATUS)
    response["Retry-After"] = str(int(cool_off().total_seconds()))
    add_never_cache_headers(response)  # as the login view's own answers
    return response.render()
