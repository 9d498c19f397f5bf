"""`/webhooks/`: GitLab's push events for the tenant repository and products' `default.project`."""

from __future__ import annotations

from django.urls import path

from products.webhooks import gitlab_webhook

urlpatterns = [path("gitlab", gitlab_webhook, name="gitlab-webhook")]
