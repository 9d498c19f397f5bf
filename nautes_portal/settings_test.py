"""Test settings: fast hashing, synchronous tasks, a throw-away data directory."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault(
    "NAUTES_DATA_DIR", tempfile.mkdtemp(prefix="nautes-test-", dir=os.environ.get("TMPDIR"))
)

from .settings import *  # noqa: F403
from .settings import NAUTES_DATA_DIR, Q_CLUSTER, STATIC_ROOT

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
NAUTES_GIT_DIR = Path(NAUTES_DATA_DIR) / "git"
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
