"""Git is the system of record, the database an index (DESIGN §2): the pieces of the write and
sync paths that every app writing a configuration repository shares (products, clusters)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import OperationalError, connection

from nautes_portal.errors import Conflict
from nautes_portal.integrations.config_repo import PORTAL_AUTHOR, Author
from nautes_portal.types import Actor, signed_in

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SaveOutcome:
    """What a save or delete wrote."""

    commit_sha: str
    path: str
    created: bool
    warning: str = ""


def commit_author(actor: Actor) -> Author:
    """Commits are attributed to the acting user (the portal itself when there is none)."""
    user = signed_in(actor)
    if user is None:
        return PORTAL_AUTHOR
    username = user.get_username()
    name = user.get_full_name() or username
    return Author(name=name, email=user.email or f"{username}@users.noreply.nautes.local")


# Pauses before each new attempt to re-index after a failed index update: with the busy
# timeout each attempt waits for the database too, so a writer holding it for a few seconds
# is outlasted, and a reply is still never held for long.
REINDEX_PAUSES = (0.1, 0.3, 0.9, 2.0)


def index_after_commit(
    index_commit: Callable[[], None],
    reindex: Callable[[], None],
    *,
    what: str,
    commit_sha: str,
) -> str:
    """Bring the index up to a commit that has landed in Git; return a warning or "".

    The commit is done: an error here must not answer 5xx (the client would retry a change
    that is already saved) nor leave the index behind Git (the next save would get 409). So
    when the database refuses the update (SQLite busy beyond its timeout, a dropped
    connection), the index is rebuilt from Git a few times; only if that keeps failing does
    the save answer with a warning, and the scheduled sync repairs the index.
    """
    try:
        index_commit()
        return ""
    except OperationalError as exc:
        failure: OperationalError = exc
    for pause in REINDEX_PAUSES:
        logger.warning(
            "index update of %s after commit %s failed (%s); re-indexing from Git",
            what,
            commit_sha[:12],
            failure,
        )
        time.sleep(pause)
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()  # a dropped server connection reconnects
        try:
            reindex()
            return ""
        except OperationalError as exc:
            failure = exc
    logger.error("could not index %s at commit %s: %s", what, commit_sha[:12], failure)
    return (
        f"[warning] saved as commit {commit_sha[:12]}, but the portal's index could not be "
        "updated yet; it catches up at the next sync"
    )


IMPORT_ATTEMPTS = 5


def import_until_settled(attempt: Callable[[], bool | None], *, what: str) -> bool:
    """Run an import attempt again while a concurrent index update overtakes it (it returns
    None then); its own answer otherwise."""
    for _ in range(IMPORT_ATTEMPTS):
        outcome = attempt()
        if outcome is not None:
            return outcome
    raise Conflict(f"{what} keeps moving; sync again later")
