"""GitLab push webhooks for `default.project` and the tenant repository: re-import on push.

GitLab sends the secret it was configured with in `X-Gitlab-Token`; anything else is refused.
The view only enqueues a sync; the worker reads Git.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_q.tasks import async_task
from rest_framework.exceptions import ParseError

from nautes_portal.errors import RuleViolation
from nautes_portal.integrations import tenant_repo_path
from nautes_portal.limits import InputTooLarge, parse_json_bounded, read_bounded
from products.models import Product

logger = logging.getLogger(__name__)


@csrf_exempt  # authenticated by the shared secret, not by a session
@require_POST
def gitlab_webhook(request: HttpRequest) -> HttpResponse:
    secret = settings.GITLAB_WEBHOOK_SECRET
    presented = request.headers.get("X-Gitlab-Token", "")
    if not secret or not hmac.compare_digest(presented.encode(), secret.encode()):
        return JsonResponse({"message": "invalid webhook token"}, status=401)
    try:
        # The same body limits as the API: 413 over the size, 400 over the depth, never a 500.
        payload = parse_json_bounded(read_bounded(request, request.META.get("CONTENT_LENGTH")))
        path = str(payload["project"]["path_with_namespace"])
    except InputTooLarge as exc:
        return JsonResponse({"message": exc.message}, status=exc.status)
    except RuleViolation as exc:
        return JsonResponse({"message": exc.message}, status=400)
    except (ParseError, KeyError, TypeError):
        return JsonResponse({"message": "not a GitLab project event"}, status=400)
    # GitLab paths are case-insensitive: `Nautes/tenant` is the repository `nautes/tenant`.
    namespace, _, project = path.rpartition("/")
    if path.casefold() == "/".join(tenant_repo_path()).casefold():
        async_task("products.tasks.sync_tenant")
        return JsonResponse({"message": "tenant sync queued"}, status=202)
    if project.casefold() == settings.NAUTES_DEFAULT_PROJECT.casefold():
        product = Product.objects.filter(name__iexact=namespace).only("pk").first()
        if product is not None:
            async_task("products.tasks.sync_product", product.pk)
            return JsonResponse({"message": "product sync queued"}, status=202)
    # A push to a repository the portal does not index: acknowledge so GitLab does not retry.
    logger.info("ignored webhook for %s", path)
    return JsonResponse({"message": "ignored"}, status=200)
