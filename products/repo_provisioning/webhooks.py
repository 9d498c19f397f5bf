"""The code repository's webhook (the events its CodeRepo names)."""

from __future__ import annotations

from django.conf import settings

from nautes_portal.errors import IntegrationError, RuleViolation
from nautes_portal.operations.models import Operation
from products.repo_provisioning.base import _LOCAL, _gitlab, _project_id


def ensure_webhook(operation: Operation) -> str:
    """Step: the project's hook to the portal, with the configured events.

    The secret token comes from `settings.GITLAB_WEBHOOK_SECRET` at run time, never from the
    params; `webhook_token_configured` records whether the requester expected one, so that a
    worker missing the setting fails instead of silently creating an unauthenticated hook.
    With a URL but no events, the portal's hook is removed (the repository no longer wants one).
    """
    host = _gitlab()
    if host is None:
        return _LOCAL + "webhooks are not managed"
    params = operation.params
    url = str(params.get("webhook_url") or "")
    events = sorted(set(params.get("webhook_events") or []))
    if not url:
        return "no webhook URL configured; nothing to do"
    project_id = _project_id(operation)
    if not events:
        removed = host.delete_hooks(project_id, url)
        return f"no webhook events; removed {removed} hook(s)"
    token = settings.GITLAB_WEBHOOK_SECRET or None
    if params.get("webhook_token_configured") and token is None:
        raise IntegrationError(
            "Portal",
            "GITLAB_WEBHOOK_SECRET is not set in the worker that ran this step; set it and retry.",
            retryable=False,
        )
    try:
        hook = host.ensure_hook(project_id, url, events, token)
    except ValueError as exc:  # Unknown event names: a client mistake that validation missed.
        raise RuleViolation(str(exc)) from None
    secret_note = "with" if token else "without"
    return f"hook {hook.id} for {', '.join(hook.events)} ({secret_note} a secret token)"
