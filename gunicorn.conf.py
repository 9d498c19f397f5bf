"""gunicorn settings for production (`gunicorn -c gunicorn.conf.py nautes_portal.wsgi`)."""

from __future__ import annotations

import os

bind = os.environ.get("NAUTES_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
# Reads come from the index and are fast; writes wait for Git and Vault at most this long.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The portal never needs request bodies larger than a kubeconfig or a manifest.
limit_request_field_size = 16384
