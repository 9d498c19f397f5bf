"""The periodic tasks every app asks for, installed as django-q2 schedules by one core call.

Each app registers its own schedules in its `AppConfig.ready()` (`register_schedule`); the
`bootstrap` command calls `install_registered_schedules()` and so imports no app for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

# Every schedule the portal owns has a name with this prefix; other names (the engine's
# one-off `retry operation ...`, an operator's own) are never touched here.
PREFIX = "nautes: "


@dataclass(frozen=True)
class ScheduledTask:
    """A task run every `minutes` (or the integer setting `minutes_setting`, read at install)."""

    name: str
    func: str
    minutes: int
    minutes_setting: str = ""

    def interval(self) -> int:
        """The minutes between runs now: the setting when it names one, else `minutes`."""
        if self.minutes_setting:
            return int(getattr(settings, self.minutes_setting, self.minutes))
        return self.minutes


_REGISTRY: dict[str, ScheduledTask] = {}


def register_schedule(name: str, func: str, *, minutes: int, minutes_setting: str = "") -> None:
    """Ask for `func` (a dotted path django-q2 imports) to run every `minutes`.

    Registering the same task again is a no-op (`ready()` may run more than once); the same name
    for a different task is a programming error.
    """
    if not name.startswith(PREFIX):
        raise ValueError(f"schedule names start with {PREFIX!r}: {name!r}")
    task = ScheduledTask(name=name, func=func, minutes=minutes, minutes_setting=minutes_setting)
    existing = _REGISTRY.setdefault(name, task)
    if existing != task:
        raise ValueError(f"schedule {name!r} is already registered as {existing}")


def registered_schedules() -> list[ScheduledTask]:
    """Every registered task, by name."""
    return sorted(_REGISTRY.values(), key=lambda task: task.name)


def install_registered_schedules(*names: str) -> None:
    """Create or update the schedules of the registered tasks (all, or only `names`).

    Idempotent: one row per name. Installing all of them also deletes the portal's schedules
    whose task is no longer registered, so a renamed or dropped task stops running.
    """
    from django_q.models import Schedule

    tasks = [task for task in registered_schedules() if not names or task.name in names]
    unknown = set(names) - {task.name for task in tasks}
    if unknown:
        raise ValueError(f"no registered schedule named {sorted(unknown)}")
    for task in tasks:
        Schedule.objects.update_or_create(
            name=task.name,
            defaults={
                "func": task.func,
                "schedule_type": Schedule.MINUTES,
                "minutes": task.interval(),
                "repeats": -1,
            },
        )
    if not names:
        Schedule.objects.filter(name__startswith=PREFIX).exclude(name__in=list(_REGISTRY)).delete()
