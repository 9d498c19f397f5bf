"""Writes to products and their resources: rules → YAML → one atomic commit → index → audit.

Every function validates completely before its first side effect. Callers check permissions
(`nautes_portal.permissions`) before calling; services enforce the Nautes rules.

The package, one module per job: `base` (name rules, commit messages, problems as errors, the
configuration repository), `resources` (save and delete one resource), `preview` (what a save
or delete would do), `coderepos` (a Git project plus its manifest), `provision` (running the
repository provisioning operations after a commit), `product` (product save, delete and
import), `revert` (planning, previewing and applying the revert of one commit), `setup` (the
wizard's "Create": a product and its first resources) and `sync` (importing `default.project`
at HEAD into the index).
"""

from __future__ import annotations

from products.services.base import (
    KINDS_WITH_PRODUCT_FIELD,
    PRODUCT_NAME,
    VISIBILITIES,
    commit_message,
    product_project,
    product_repository,
    raise_problems,
)
from products.services.coderepos import coderepo_delete, coderepo_save
from products.services.preview import Preview, resource_preview
from products.services.product import (
    product_delete,
    product_git_fields,
    product_import,
    product_save,
    validate_product_name,
)
from products.services.provision import authorization_refresh
from products.services.resources import resource_delete, resource_save
from products.services.revert import (
    RevertPlan,
    RevertPreview,
    revert_apply,
    revert_plan,
    revert_preview,
)
from products.services.setup import SetupItem, SetupResult, product_setup
from products.services.sync import product_sync

__all__ = [
    "KINDS_WITH_PRODUCT_FIELD",
    "PRODUCT_NAME",
    "VISIBILITIES",
    "Preview",
    "RevertPlan",
    "RevertPreview",
    "SetupItem",
    "SetupResult",
    "authorization_refresh",
    "coderepo_delete",
    "coderepo_save",
    "commit_message",
    "product_delete",
    "product_git_fields",
    "product_import",
    "product_project",
    "product_repository",
    "product_save",
    "product_setup",
    "product_sync",
    "raise_problems",
    "resource_delete",
    "resource_preview",
    "resource_save",
    "revert_apply",
    "revert_plan",
    "revert_preview",
    "validate_product_name",
]
