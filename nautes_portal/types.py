"""Types every app shares.

`Actor` is who does something: a signed-in user (a page's or the API's `request.user`), an
anonymous one (refused before it gets far), or None when the portal itself acts (a scheduled
sync, a reconcile pass). One alias instead of `Any`, so a type checker sees what services use
of it (`is_authenticated`, `get_username()`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias, cast

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

    # `User` is the portal's user model (settings.AUTH_USER_MODEL is Django's); a request's
    # `user` is typed as the abstract base by the stubs, so both are accepted.
    Actor: TypeAlias = User | AbstractBaseUser | AnonymousUser | None
else:  # the auth models need the app registry; annotations are never evaluated at run time
    Actor: TypeAlias = Any


def signed_in(actor: Actor) -> User | None:
    """The actor as a stored user, or None (anonymous, or the portal itself acting)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return cast("User", actor)
