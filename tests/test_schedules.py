"""Each app registers its own schedules in `ready()`; `bootstrap` installs them all, once."""

from __future__ import annotations

import importlib
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from nautes_portal.schedules import (
    install_registered_schedules,
    register_schedule,
    registered_schedules,
)

pytestmark = pytest.mark.django_db

# name → (func, minutes): the core's, clusters', products' and deployments' own schedules.
EXPECTED = {
    "nautes: resume operations whose worker died": (
        "nautes_portal.operations.tasks.resume_stale_operations",
        5,
    ),
    "nautes: check clusters": ("clusters.services.check_all_clusters", 5),
    "nautes: sync configuration repositories": ("products.tasks.sync_all", 3),
    "nautes: sync memberships from GitLab": ("products.tasks.sync_memberships", 10),
    "nautes: collect deployment status": ("deployments.status.status_collect_task", 1),
    "nautes: reconcile runtime clusters": ("deployments.tasks.reconcile_due_clusters", 1),
}


def _installed() -> dict[str, tuple[str, int]]:
    rows = Schedule.objects.filter(name__startswith="nautes: ")
    return {row.name: (row.func, row.minutes) for row in rows}


def test_bootstrap_installs_every_apps_schedule_exactly_once(settings: Any) -> None:
    settings.NAUTES_SYNC_MINUTES = 3  # read when installing, not when registering
    call_command("bootstrap", stdout=StringIO())
    call_command("bootstrap", stdout=StringIO())
    assert _installed() == EXPECTED
    assert Schedule.objects.filter(name__startswith="nautes: ").count() == len(EXPECTED)
    assert all(row.schedule_type == Schedule.MINUTES for row in Schedule.objects.all())


def test_every_registered_func_is_importable() -> None:
    for task in registered_schedules():
        module, _, name = task.func.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), task.func


def test_a_schedule_no_longer_registered_is_removed_and_others_are_kept() -> None:
    dropped = Schedule.objects.create(
        name="nautes: a task that was renamed", func="products.tasks.gone", minutes=1
    )
    retry = Schedule.objects.create(name="retry operation 1 #0", func="x.y", repeats=1)
    install_registered_schedules()
    assert not Schedule.objects.filter(pk=dropped.pk).exists()
    assert Schedule.objects.filter(pk=retry.pk).exists()
    assert set(_installed()) == set(EXPECTED)


def test_installing_one_schedule_leaves_the_others_alone() -> None:
    install_registered_schedules("nautes: check clusters")
    assert set(_installed()) == {"nautes: check clusters"}
    with pytest.raises(ValueError, match="no registered schedule"):
        install_registered_schedules("nautes: nothing like it")


def test_registering_again_is_a_no_op_and_a_clash_is_refused() -> None:
    before = registered_schedules()
    register_schedule("nautes: check clusters", "clusters.services.check_all_clusters", minutes=5)
    assert registered_schedules() == before
    with pytest.raises(ValueError, match="already registered"):
        register_schedule("nautes: check clusters", "clusters.services.other", minutes=5)
    with pytest.raises(ValueError, match="start with"):
        register_schedule("check clusters", "clusters.services.check_all_clusters", minutes=5)
    assert registered_schedules() == before
