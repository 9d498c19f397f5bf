"""A stateful fake GitLab (REST API v4) that python-gitlab drives unchanged.

`FakeGitLab` is a real HTTP server on 127.0.0.1 run in a thread. It keeps users, groups,
projects and their repositories in memory and follows GitLab's documented REST shapes for the
endpoints the portal uses: `{"message": ...}` error bodies, 201/202/204 statuses, offset
pagination with `X-*` headers and a `Link` header, id-or-URL-encoded-path addressing
(`/projects/group%2Fproject`; routing works on the raw path, so `%2F` never splits a segment),
access levels (Guest 10 … Owner 50) inherited from parent groups, protected branches, deploy
keys, project access tokens (each backed by a bot user whose token works) and project hooks.

The Commits API follows GitLab's `Files::MultiService`: `create` on an existing file, `update`,
`move` or `delete` on a missing one are refused with Gitaly's messages, and `last_commit_id`
is checked the way `Files::BaseService#file_has_changed?` does it (the file's last commit on the
branch must equal its last commit at `last_commit_id`). Validation and the branch update run
under one lock, so concurrent commits are serialised exactly like Gitaly's ref update: a commit
that passes validation is applied on top of whatever the branch holds by then.

Deliberate differences from GitLab (tests must not rely on these):

* Every request needs a token (`PRIVATE-TOKEN` or `Authorization: Bearer`); there is no
  anonymous access, no sudo, no OAuth scopes (a token can do whatever its user can), no personal
  namespaces (`POST /projects` needs `namespace_id`) and no rate limiting.
* Deleting a group or a project is immediate (GitLab deletes in the background, or marks for
  deletion on Premium); the reply is GitLab's `202 Accepted`.
* Repositories are linear: one parent per commit, no merges, tags, rebases or force pushes.
  Commit ids are 40-hex digests of the fake's own making, not real Git object ids (blob ids are).
* Project creation in a group needs Maintainer (GitLab's default "project creation protection");
  subgroup creation needs Maintainer; deleting a project or group needs Owner; deploy keys, hooks,
  access tokens and protected branches need Maintainer.
* The first commit to an empty repository (Developer or more) makes its branch the default one
  and, unless `protect_default_branch=False`, protects it for Maintainers (GitLab's default
  "fully protected" branch protection). Other branches are protected only through the API.
* Diffs come from `difflib` (3 lines of context, like Git, but hunks may differ in detail);
  binary files get an empty diff; renames are never detected. Tree listings are sorted by path.
  Commit lists omit `X-Total`/`X-Total-Pages`, as GitLab does.
"""

from __future__ import annotations

import base64
import datetime as dt
import difflib
import fnmatch
import hashlib
import http
import itertools
import json
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

JsonDict = dict[str, Any]

NO_ACCESS, GUEST, REPORTER, DEVELOPER, MAINTAINER, OWNER, ADMIN = 0, 10, 20, 30, 40, 50, 60
ACCESS_NAMES = {
    NO_ACCESS: "No access",
    GUEST: "Guest",
    REPORTER: "Reporter",
    DEVELOPER: "Developers + Maintainers",
    MAINTAINER: "Maintainers",
    OWNER: "Owner",
    ADMIN: "Admin",
}
VISIBILITIES = ("private", "internal", "public")
HOOK_EVENTS = (
    "push_events",
    "tag_push_events",
    "merge_requests_events",
    "issues_events",
    "confidential_issues_events",
    "note_events",
    "confidential_note_events",
    "job_events",
    "pipeline_events",
    "wiki_page_events",
    "deployment_events",
    "releases_events",
)
TOKEN_SCOPES = frozenset(
    {
        "api",
        "read_api",
        "read_repository",
        "write_repository",
        "read_registry",
        "write_registry",
        "create_runner",
        "manage_runner",
        "k8s_proxy",
        "self_rotate",
        "ai_features",
    }
)
KEY_TYPES = frozenset(
    {
        "ssh-rsa",
        "ssh-dss",
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ecdsa-sha2-nistp256@openssh.com",
        "sk-ssh-ed25519@openssh.com",
    }
)
_PATH_RE = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]*")
_PATH_ERROR = (
    "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', end in '.', "
    "'.git' or '.atom'."
)


class ApiError(Exception):
    """An error answer: GitLab's `{"message": ...}` (or Grape's `{"error": ...}`) body."""

    def __init__(self, status: int, message: str | JsonDict, *, key: str = "message") -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.body: JsonDict = {key: message}


def _not_found(what: str) -> ApiError:
    return ApiError(404, f"404 {what} Not Found")


def _forbidden(detail: str = "") -> ApiError:
    return ApiError(403, f"403 Forbidden - {detail}" if detail else "403 Forbidden")


def _bad(message: str | JsonDict) -> ApiError:
    return ApiError(400, message)


def _missing(name: str) -> ApiError:
    return ApiError(400, f"{name} is missing", key="error")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(when: dt.datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _blob_id(content: bytes) -> str:
    """Return the real Git blob id of `content`."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


# ---- State -------------------------------------------------------------------------------------


@dataclass(eq=False)
class User:
    """A GitLab user (a project access token's bot user too)."""

    id: int
    username: str
    name: str
    email: str
    token: str | None = field(repr=False)
    admin: bool = False
    bot: bool = False
    state: str = "active"


@dataclass(eq=False)
class Group:
    """A group; `members` maps user id → direct access level."""

    id: int
    name: str
    path: str
    parent: Group | None
    visibility: str
    description: str
    created_at: dt.datetime
    members: dict[int, int] = field(default_factory=dict)

    @property
    def full_path(self) -> str:
        """`parent/child` for a subgroup."""
        return f"{self.parent.full_path}/{self.path}" if self.parent else self.path

    def ancestors(self) -> list[Group]:
        """This group and its parents, nearest first."""
        chain, group = [], self
        while group is not None:
            chain.append(group)
            group = group.parent
        return chain


@dataclass(eq=False)
class Commit:
    """A commit holding a full snapshot of its tree."""

    id: str
    parent: str | None
    files: dict[str, bytes]
    author_name: str
    author_email: str
    committer_name: str
    committer_email: str
    message: str
    created_at: dt.datetime


@dataclass(eq=False)
class ProtectedBranch:
    """A protected branch rule (`name` may hold `*` wildcards)."""

    id: int
    name: str
    push_access_level: int
    merge_access_level: int
    allow_force_push: bool = False


@dataclass(eq=False)
class DeployKey:
    """A deploy key; projects enable it with their own `can_push` flag."""

    id: int
    title: str
    key: str
    user_id: int
    created_at: dt.datetime
    fingerprint: str
    fingerprint_sha256: str


@dataclass(eq=False)
class AccessToken:
    """A project access token and the bot user it authenticates as."""

    id: int
    name: str
    scopes: list[str]
    access_level: int
    expires_at: dt.date
    created_at: dt.datetime
    user_id: int
    revoked: bool = False

    def active(self) -> bool:
        """Not revoked and not expired."""
        return not self.revoked and self.expires_at >= _now().date()


@dataclass(eq=False)
class Hook:
    """A project webhook; the secret `token` is stored but never returned."""

    id: int
    url: str
    token: str | None = field(repr=False)
    events: dict[str, bool]
    enable_ssl_verification: bool
    push_events_branch_filter: str
    created_at: dt.datetime


@dataclass(eq=False)
class Project:
    """A project with its repository and settings."""

    id: int
    name: str
    path: str
    namespace: Group
    visibility: str
    description: str
    created_at: dt.datetime
    default_branch: str | None = None
    members: dict[int, int] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    protected: dict[str, ProtectedBranch] = field(default_factory=dict)
    deploy_keys: dict[int, bool] = field(default_factory=dict)  # key id → can_push
    tokens: dict[int, AccessToken] = field(default_factory=dict)
    hooks: dict[int, Hook] = field(default_factory=dict)

    @property
    def full_path(self) -> str:
        """`group/project`."""
        return f"{self.namespace.full_path}/{self.path}"


@dataclass(frozen=True)
class LoggedRequest:
    """One request the server answered (for assertions)."""

    method: str
    path: str  # the raw path, still URL-encoded, without the query string
    query: str
    user: str | None
    status: int
    body: Any = None


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int | None
    remaining: int
    delay: float


@dataclass
class Request:
    """A parsed API request handed to a route handler."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    body: JsonDict
    user: User
    host: str

    def get(self, name: str, default: Any = None) -> Any:
        """Return a body or query parameter (arrays as `name[]` in the query too)."""
        if name in self.body:
            return self.body[name]
        if name in self.query:
            return self.query[name][-1]
        if f"{name}[]" in self.query:
            return self.query[f"{name}[]"]
        return default

    def require(self, name: str) -> Any:
        """Return a parameter Grape declares `requires`."""
        value = self.get(name)
        if value is None or value == "":
            raise _missing(name)
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        """Return a Grape Boolean parameter."""
        value = self.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1", "yes", "t")

    def number(self, name: str, default: int | None = None) -> int | None:
        """Return an Integer parameter (400 when it is not one)."""
        value = self.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"{name} is invalid", key="error") from None


@dataclass
class Response:
    """What a route handler answers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


Handler = Callable[["FakeGitLab", Request], Response]
_ROUTES: list[tuple[str, tuple[str, ...], Handler]] = []


def _match_route(method: str, segments: tuple[str, ...]) -> tuple[Handler, dict[str, str]] | None:
    """Find the first route for the raw segments; captured segments are URL-decoded here."""
    for verb, pattern, func in _ROUTES:
        if verb != method or len(pattern) != len(segments):
            continue
        pairs = list(zip(pattern, segments, strict=True))
        if all(p.startswith(":") or p == s for p, s in pairs):
            return func, {p[1:]: unquote(s) for p, s in pairs if p.startswith(":")}
    return None


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Register a handler for `method` on `/api/v4/<pattern>` (`:name` captures a segment)."""

    def register(func: Handler) -> Handler:
        for verb in method.split("|"):
            _ROUTES.append((verb, tuple(pattern.strip("/").split("/")), func))
        return func

    return register


# ---- The server --------------------------------------------------------------------------------


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeGitLab


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # Keep-alive, as python-gitlab's requests session expects.
    disable_nagle_algorithm = True  # Headers and body go out separately: no 40 ms ACK stalls.
    server: _HttpServer

    def do_GET(self) -> None:
        self.server.fake._serve(self, "GET")

    def do_HEAD(self) -> None:
        self.server.fake._serve(self, "HEAD")

    def do_POST(self) -> None:
        self.server.fake._serve(self, "POST")

    def do_PUT(self) -> None:
        self.server.fake._serve(self, "PUT")

    def do_PATCH(self) -> None:
        self.server.fake._serve(self, "PATCH")

    def do_DELETE(self) -> None:
        self.server.fake._serve(self, "DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: `requests` holds what tests need."""


class FakeGitLab:
    """The fake GitLab: state, test helpers and the HTTP front end."""

    def __init__(self, *, protect_default_branch: bool = True) -> None:
        self.protect_default_branch = protect_default_branch
        self.lock = threading.RLock()
        self.users: dict[int, User] = {}
        self.groups: dict[int, Group] = {}
        self.projects: dict[int, Project] = {}
        self.deploy_keys: dict[int, DeployKey] = {}
        self.requests: list[LoggedRequest] = []
        self._faults: list[_Fault] = []
        self._triggers: list[tuple[str, re.Pattern[str], Callable[[], None]]] = []
        # The (host, port) of the client whose request fired the last `after_next` action.
        self.trigger_client: tuple[str, int] | None = None
        self._ids = {kind: itertools.count(1) for kind in ("user", "group", "project", "other")}
        self._commit_counter = itertools.count()
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._host = ""

    # -- lifecycle --

    def start(self) -> FakeGitLab:
        """Listen on a free 127.0.0.1 port and serve in a background thread."""
        self._httpd = _HttpServer(("127.0.0.1", 0), _RequestHandler)
        self._httpd.fake = self
        self._host = f"127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeGitLab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        """`127.0.0.1:<port>`."""
        assert self._host, "the server was never started"
        return self._host  # Kept after stop(): a slow request may still be answering.

    @property
    def url(self) -> str:
        """The base URL to give python-gitlab (`http://127.0.0.1:<port>`)."""
        return f"http://{self.host}"

    # -- test helpers (they bypass HTTP and permissions) --

    def add_user(
        self, username: str, name: str, email: str, token: str | None, admin: bool = False
    ) -> User:
        """Create a user whose API token is `token`."""
        with self.lock:
            user = User(next(self._ids["user"]), username, name, email, token, admin=admin)
            self.users[user.id] = user
            return user

    def user(self, username: str) -> User:
        """Return the user called `username` (KeyError when missing)."""
        with self.lock:
            for user in self.users.values():
                if user.username == username:
                    return user
        raise KeyError(username)

    def create_group(
        self,
        path: str,
        *,
        name: str | None = None,
        visibility: str = "private",
        description: str = "",
        owner: str | None = None,
    ) -> Group:
        """Create a group (its parent must exist), optionally with an Owner."""
        with self.lock:
            parent_path, _, segment = path.rpartition("/")
            parent = self.group(parent_path) if parent_path else None
            group = self._new_group(name or segment, segment, parent, visibility, description)
            if owner:
                group.members[self.user(owner).id] = OWNER
            return group

    def group(self, full_path: str) -> Group:
        """Return the group at `full_path` (KeyError when missing)."""
        with self.lock:
            found = self._group_by_path(full_path)
            if found is None:
                raise KeyError(full_path)
            return found

    def create_project(
        self, full_path: str, *, visibility: str = "private", description: str = ""
    ) -> Project:
        """Create an empty project in an existing group."""
        with self.lock:
            namespace_path, _, path = full_path.rpartition("/")
            return self._new_project(
                path, path, self.group(namespace_path), visibility, description
            )

    def project(self, full_path: str) -> Project:
        """Return the project at `full_path` (KeyError when missing)."""
        with self.lock:
            found = self._project_by_path(full_path)
            if found is None:
                raise KeyError(full_path)
            return found

    def add_member(self, target: Group | Project, username: str, level: int) -> None:
        """Give `username` a direct access level on a group or project (0 removes it)."""
        with self.lock:
            user_id = self.user(username).id
            if level:
                target.members[user_id] = level
            else:
                target.members.pop(user_id, None)

    def seed_commit(
        self,
        project: Project,
        files: dict[str, bytes | None],
        *,
        branch: str = "main",
        message: str = "seed",
        author: tuple[str, str] = ("Seeder", "seeder@example.com"),
    ) -> str:
        """Commit `files` (None deletes) directly, as if pushed; return the commit id."""
        with self.lock:
            parent = project.branches.get(branch)
            snapshot = dict(project.commits[parent].files) if parent else {}
            for path, content in files.items():
                if content is None:
                    snapshot.pop(path, None)
                else:
                    snapshot[path] = content
            return self._record_commit(project, branch, parent, snapshot, message, *author).id

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int | None = 500,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """Make the next `times` matching requests wait `delay` s, then fail with `status`.

        `method` is an HTTP verb or `*`; `path_regex` is searched in the raw (still URL-encoded)
        path without the query string. `status=None` only delays (the request then proceeds);
        a delay longer than the client's timeout simulates a timeout.
        """
        with self.lock:
            self._faults.append(
                _Fault(method.upper(), re.compile(path_regex), status, times, delay)
            )

    @property
    def armed(self) -> int:
        """How many injected faults and triggers have not struck yet."""
        with self.lock:
            return len(self._faults) + len(self._triggers)

    def after_next(self, method: str, path_regex: str, action: Callable[[], None]) -> None:
        """Run `action` once, right after the next matching request is answered and before the
        answer is sent: something else breaks at that very moment of a multi-step operation
        (Vault is sealed, a worker dies...)."""
        with self.lock:
            self._triggers.append((method.upper(), re.compile(path_regex), action))

    def _take_trigger(self, method: str, path: str) -> Callable[[], None] | None:
        with self.lock:
            for trigger in self._triggers:
                if trigger[0] in ("*", method) and trigger[1].search(path):
                    self._triggers.remove(trigger)
                    return trigger[2]
        return None

    # -- HTTP front end --

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.method in ("*", method) and fault.pattern.search(path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw_body = handler.rfile.read(length) if length else b""
        path, _, query = handler.path.partition("?")
        body = _parse_body(raw_body, handler.headers.get("Content-Type", ""))
        user = self._authenticate(handler)
        fault = self._take_fault(method, path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)  # Outside the lock: a slow answer must not block others.
        if fault is not None and fault.status is not None:
            phrase = http.HTTPStatus(fault.status).phrase
            response = Response(fault.status, {"message": f"{fault.status} {phrase}"})
        else:
            response = self._dispatch(method, path, query, body, user, handler)
        with self.lock:
            username = user.username if user else None
            self.requests.append(
                LoggedRequest(method, path, query, username, response.status, body)
            )
        action = self._take_trigger(method, path)
        if action is not None:
            self.trigger_client = handler.client_address[:2]
            action()
        self._write(handler, method, response)

    def _authenticate(self, handler: BaseHTTPRequestHandler) -> User | None:
        token = handler.headers.get("PRIVATE-TOKEN")
        authorization = handler.headers.get("Authorization", "")
        if not token and authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
        if not token:
            return None
        with self.lock:
            for user in self.users.values():
                if user.token is not None and secrets.compare_digest(user.token, token):
                    return user if user.state == "active" else None
        return None

    def _dispatch(
        self,
        method: str,
        path: str,
        query: str,
        body: JsonDict,
        user: User | None,
        handler: BaseHTTPRequestHandler,
    ) -> Response:
        prefix = "/api/v4/"
        if not path.startswith(prefix):
            return Response(404, {"error": "404 Not Found"})
        if user is None:
            return Response(401, {"message": "401 Unauthorized"})
        found = _match_route(method, tuple(path[len(prefix) :].rstrip("/").split("/")))
        if found is None:
            return Response(404, {"error": "404 Not Found"})
        handler_func, params = found
        request = Request(
            method,
            path,
            params,
            parse_qs(query, keep_blank_values=True),
            body,
            user,
            handler.headers.get("Host", self.host),
        )
        with self.lock:
            try:
                return handler_func(self, request)
            except ApiError as exc:
                return Response(exc.status, exc.body)

    def _write(self, handler: BaseHTTPRequestHandler, method: str, response: Response) -> None:
        if response.raw is not None:
            payload, content_type = response.raw, "text/plain; charset=utf-8"
        elif response.status == 204:
            payload, content_type = b"", ""
        else:
            payload, content_type = json.dumps(response.body).encode(), "application/json"
        try:
            handler.send_response(response.status)
            if content_type:
                handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            if method != "HEAD":
                handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # The client gave up (a timeout test).
            handler.close_connection = True

    # -- shared logic --

    def _next_id(self, kind: str = "other") -> int:
        return next(self._ids[kind])

    def _group_by_path(self, ident: str) -> Group | None:
        if ident.isdigit():
            return self.groups.get(int(ident))
        wanted = ident.lower()
        return next((g for g in self.groups.values() if g.full_path.lower() == wanted), None)

    def _project_by_path(self, ident: str) -> Project | None:
        if ident.isdigit():
            return self.projects.get(int(ident))
        wanted = ident.lower()
        return next((p for p in self.projects.values() if p.full_path.lower() == wanted), None)

    def real_level(self, user: User, target: Group | Project) -> int:
        """The user's membership level on `target`, inherited from parent groups (0: none)."""
        group = target.namespace if isinstance(target, Project) else target
        levels = [g.members.get(user.id, 0) for g in group.ancestors()]
        if isinstance(target, Project):
            levels.append(target.members.get(user.id, 0))
        return max(levels)

    def level(self, user: User, target: Group | Project) -> int:
        """The level permissions are checked against (administrators count as Admin, 60)."""
        return ADMIN if user.admin else self.real_level(user, target)

    def _can_see_group(self, user: User, group: Group) -> bool:
        if user.admin or group.visibility != "private" or self.real_level(user, group):
            return True
        # Members of a subgroup or of a project inside can see the group (GitLab does too).
        for other in self.groups.values():
            if group in other.ancestors() and other.members.get(user.id):
                return True
        return any(
            group in p.namespace.ancestors() and p.members.get(user.id)
            for p in self.projects.values()
        )

    def _can_see_project(self, user: User, project: Project) -> bool:
        return user.admin or project.visibility != "private" or bool(self.real_level(user, project))

    def find_group(self, request: Request, ident: str | None = None) -> Group:
        """Return the group named by the `:id` segment, 404 when missing or invisible."""
        group = self._group_by_path(ident if ident is not None else request.params["id"])
        if group is None or not self._can_see_group(request.user, group):
            raise _not_found("Group")
        return group

    def find_project(self, request: Request, *, read_code: bool = False) -> Project:
        """Return the project named by `:id`, 404 when missing or invisible."""
        project = self._project_by_path(request.params["id"])
        if project is None or not self._can_see_project(request.user, project):
            raise _not_found("Project")
        if read_code and project.visibility == "private":
            self.need(request, project, REPORTER)  # Guests cannot read private code.
        return project

    def need(self, request: Request, target: Group | Project, level: int) -> int:
        """Refuse with 403 unless the caller has at least `level` on `target`."""
        actual = self.level(request.user, target)
        if actual < level:
            raise _forbidden()
        return actual

    def _new_group(
        self, name: str, path: str, parent: Group | None, visibility: str, description: str
    ) -> Group:
        _check_path(path)
        _check_visibility(visibility)
        full = f"{parent.full_path}/{path}" if parent else path
        if self._group_by_path(full) is not None:
            raise _bad({"path": ["has already been taken"]})
        if parent is not None and _rank(visibility) > _rank(parent.visibility):
            raise _bad(
                {
                    "visibility_level": [
                        f"{visibility} is not allowed since the parent group has a "
                        f"{parent.visibility} visibility."
                    ]
                }
            )
        group = Group(self._next_id("group"), name, path, parent, visibility, description, _now())
        self.groups[group.id] = group
        return group

    def _new_project(
        self, name: str, path: str, namespace: Group, visibility: str, description: str
    ) -> Project:
        _check_path(path)
        _check_visibility(visibility)
        siblings = [p for p in self.projects.values() if p.namespace is namespace]
        errors: JsonDict = {}
        if any(p.path.lower() == path.lower() for p in siblings):
            errors["path"] = ["has already been taken"]
        if any(p.name == name for p in siblings):
            errors["name"] = ["has already been taken"]
        if _rank(visibility) > _rank(namespace.visibility):
            errors["visibility_level"] = [
                f"{visibility} is not allowed in a {namespace.visibility} group."
            ]
        if errors:
            raise _bad(errors)
        project = Project(
            self._next_id("project"), name, path, namespace, visibility, description, _now()
        )
        self.projects[project.id] = project
        return project

    def _delete_project(self, project: Project) -> None:
        self.projects.pop(project.id, None)
        for key_id in project.deploy_keys:
            self._forget_unused_key(key_id)
        for token in project.tokens.values():
            self.users[token.user_id].state = "blocked"

    def _forget_unused_key(self, key_id: int) -> None:
        if not any(key_id in p.deploy_keys for p in self.projects.values()):
            self.deploy_keys.pop(key_id, None)

    def _record_commit(
        self,
        project: Project,
        branch: str,
        parent: str | None,
        files: dict[str, bytes],
        message: str,
        author_name: str,
        author_email: str,
        committer: User | None = None,
    ) -> Commit:
        digest = hashlib.sha1(usedforsecurity=False)
        for part in (
            parent or "",
            message,
            author_name,
            author_email,
            str(next(self._commit_counter)),
        ):
            digest.update(part.encode() + b"\0")
        for path in sorted(files):
            digest.update(path.encode() + b"\0" + _blob_id(files[path]).encode())
        commit = Commit(
            digest.hexdigest(),
            parent,
            files,
            author_name,
            author_email,
            committer.name if committer else author_name,
            committer.email if committer else author_email,
            message,
            _now(),
        )
        project.commits[commit.id] = commit
        first = not project.branches
        project.branches[branch] = commit.id
        if first:
            project.default_branch = branch
            if self.protect_default_branch and not self._protection(project, branch):
                rule = ProtectedBranch(self._next_id(), branch, MAINTAINER, MAINTAINER)
                project.protected[branch] = rule
        return commit

    def _protection(self, project: Project, branch: str) -> ProtectedBranch | None:
        for rule in project.protected.values():
            if rule.name == branch or fnmatch.fnmatchcase(branch, rule.name):
                return rule
        return None

    def can_push(self, user: User, project: Project, branch: str) -> bool:
        """Whether `user` may push to `branch` (protected branches need their push level)."""
        level = self.level(user, project)
        rule = self._protection(project, branch)
        if rule is None:
            return level >= DEVELOPER
        return rule.push_access_level != NO_ACCESS and level >= rule.push_access_level

    def resolve(self, project: Project, ref: str | None) -> Commit | None:
        """Resolve a branch name, `HEAD`, or a full or abbreviated (7+) commit id."""
        ref = ref or project.default_branch or ""
        if ref == "HEAD":
            ref = project.default_branch or ""
        if ref in project.branches:
            return project.commits[project.branches[ref]]
        if re.fullmatch(r"[0-9a-f]{7,40}", ref):
            found = [c for sha, c in project.commits.items() if sha.startswith(ref)]
            if len(found) == 1:
                return found[0]
        return None

    def _files_of(self, project: Project, sha: str | None) -> dict[str, bytes]:
        return project.commits[sha].files if sha else {}

    def ancestry(self, project: Project, commit: Commit | None) -> Iterable[Commit]:
        """The commit and its ancestors, newest first."""
        while commit is not None:
            yield commit
            commit = project.commits[commit.parent] if commit.parent else None

    def touches(self, project: Project, commit: Commit, path: str) -> bool:
        """Whether `commit` changed `path` (a file, or any file under a directory)."""
        path = path.strip("/")
        before = self._files_of(project, commit.parent)
        return any(
            changed == path or changed.startswith(f"{path}/")
            for changed in _changed_paths(before, commit.files)
        )

    def last_commit_for_path(self, project: Project, ref: str, path: str) -> Commit | None:
        """`git log -1 <ref> -- <path>` (Gitlab::Git::Commit.last_for_path)."""
        start = self.resolve(project, ref)
        return next(
            (c for c in self.ancestry(project, start) if self.touches(project, c, path)), None
        )

    def file_has_changed(self, project: Project, start: str, path: str, commit_id: str) -> bool:
        """GitLab's `Files::BaseService#file_has_changed?`."""
        on_branch = self.last_commit_for_path(project, start, path)
        if on_branch is None:
            return False
        at_commit = self.last_commit_for_path(project, commit_id, path)
        if at_commit is None:
            return False
        return on_branch.id != at_commit.id

    # -- JSON entities --

    def web(self, path: str) -> str:
        """An absolute web URL on this server."""
        return f"{self.url}/{path}"

    def user_json(self, user: User, *, viewer: User | None = None) -> JsonDict:
        """Entities::UserBasic, plus the private fields for the user itself or an admin."""
        body: JsonDict = {
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "state": user.state,
            "locked": False,
            "avatar_url": None,
            "web_url": self.web(user.username),
        }
        if viewer is not None and (viewer.admin or viewer is user):
            body.update(email=user.email, is_admin=user.admin, bot=user.bot)
        return body

    def member_json(self, user: User, level: int) -> JsonDict:
        """Entities::Member."""
        return {**self.user_json(user), "access_level": level, "expires_at": None}

    def group_json(self, group: Group) -> JsonDict:
        """Entities::Group."""
        return {
            "id": group.id,
            "name": group.name,
            "path": group.path,
            "full_name": " / ".join(g.name for g in reversed(group.ancestors())),
            "full_path": group.full_path,
            "description": group.description,
            "visibility": group.visibility,
            "parent_id": group.parent.id if group.parent else None,
            "web_url": self.web(f"groups/{group.full_path}"),
            "created_at": _iso(group.created_at),
        }

    def project_json(self, project: Project) -> JsonDict:
        """Entities::Project (the fields the portal and python-gitlab use)."""
        namespace = project.namespace
        return {
            "id": project.id,
            "name": project.name,
            "name_with_namespace": f"{namespace.name} / {project.name}",
            "path": project.path,
            "path_with_namespace": project.full_path,
            "description": project.description,
            "visibility": project.visibility,
            "created_at": _iso(project.created_at),
            "default_branch": project.default_branch,
            "empty_repo": not project.branches,
            "archived": False,
            "ssh_url_to_repo": f"git@127.0.0.1:{project.full_path}.git",
            "http_url_to_repo": self.web(f"{project.full_path}.git"),
            "web_url": self.web(project.full_path),
            "namespace": {
                "id": namespace.id,
                "name": namespace.name,
                "path": namespace.path,
                "kind": "group",
                "full_path": namespace.full_path,
                "parent_id": namespace.parent.id if namespace.parent else None,
                "web_url": self.web(f"groups/{namespace.full_path}"),
            },
        }

    def commit_json(self, project: Project, commit: Commit, *, detail: bool = False) -> JsonDict:
        """Entities::Commit (or CommitDetail with stats)."""
        stamp = commit.created_at.isoformat(timespec="milliseconds")
        body: JsonDict = {
            "id": commit.id,
            "short_id": commit.id[:8],
            "created_at": stamp,
            "parent_ids": [commit.parent] if commit.parent else [],
            "title": commit.message.split("\n", 1)[0],
            "message": commit.message,
            "author_name": commit.author_name,
            "author_email": commit.author_email,
            "authored_date": stamp,
            "committer_name": commit.committer_name,
            "committer_email": commit.committer_email,
            "committed_date": stamp,
            "trailers": {},
            "extended_trailers": {},
            "web_url": self.web(f"{project.full_path}/-/commit/{commit.id}"),
        }
        if detail:
            diffs = _diff_entries(self._files_of(project, commit.parent), commit.files)
            added = sum(_count(d["diff"], "+") for d in diffs)
            removed = sum(_count(d["diff"], "-") for d in diffs)
            body.update(
                stats={"additions": added, "deletions": removed, "total": added + removed},
                status=None,
                project_id=project.id,
                last_pipeline=None,
            )
        return body

    def key_json(self, key: DeployKey, can_push: bool | None = None) -> JsonDict:
        """Entities::DeployKey (with `can_push` for a project's link)."""
        body: JsonDict = {
            "id": key.id,
            "title": key.title,
            "key": key.key,
            "created_at": _iso(key.created_at),
            "expires_at": None,
            "fingerprint": key.fingerprint,
            "fingerprint_sha256": key.fingerprint_sha256,
        }
        if can_push is not None:
            body["can_push"] = can_push
        return body

    def token_json(self, token: AccessToken) -> JsonDict:
        """Entities::ResourceAccessToken."""
        return {
            "id": token.id,
            "name": token.name,
            "revoked": token.revoked,
            "active": token.active(),
            "created_at": _iso(token.created_at),
            "scopes": list(token.scopes),
            "user_id": token.user_id,
            "last_used_at": None,
            "expires_at": token.expires_at.isoformat(),
            "access_level": token.access_level,
        }

    def hook_json(self, project: Project, hook: Hook) -> JsonDict:
        """Entities::ProjectHook (never the secret token)."""
        return {
            "id": hook.id,
            "url": hook.url,
            "project_id": project.id,
            "created_at": _iso(hook.created_at),
            "enable_ssl_verification": hook.enable_ssl_verification,
            "push_events_branch_filter": hook.push_events_branch_filter,
            **hook.events,
        }

    def protected_json(self, rule: ProtectedBranch) -> JsonDict:
        """Entities::ProtectedBranch."""

        def levels(level: int) -> list[JsonDict]:
            return [
                {
                    "id": rule.id,
                    "access_level": level,
                    "access_level_description": ACCESS_NAMES.get(level, str(level)),
                    "user_id": None,
                    "group_id": None,
                }
            ]

        return {
            "id": rule.id,
            "name": rule.name,
            "push_access_levels": levels(rule.push_access_level),
            "merge_access_levels": levels(rule.merge_access_level),
            "allow_force_push": rule.allow_force_push,
            "code_owner_approval_required": False,
        }

    def paginate(self, request: Request, items: list[Any], *, totals: bool = True) -> Response:
        """Offset pagination with GitLab's headers and a `Link` header on the request's host."""
        page = max(1, request.number("page", 1) or 1)
        per_page = min(100, max(1, request.number("per_page", 20) or 20))
        pages = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Next-Page": str(page + 1) if page < pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
        }
        if totals:
            headers.update({"X-Total": str(len(items)), "X-Total-Pages": str(pages)})

        def link(number: int, rel: str) -> str:
            query = {k: v for k, v in request.query.items() if k not in ("page", "per_page")}
            query.update(page=[str(number)], per_page=[str(per_page)])
            return (
                f'<http://{request.host}{request.path}?{urlencode(query, doseq=True)}>; rel="{rel}"'
            )

        links = []
        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < pages:
            links.append(link(page + 1, "next"))
        links.append(link(1, "first"))
        if totals:
            links.append(link(pages, "last"))
        headers["Link"] = ", ".join(links)
        return Response(200, chunk, headers)


# ---- Helpers -----------------------------------------------------------------------------------


def _parse_body(raw: bytes, content_type: str) -> JsonDict:
    if not raw:
        return {}
    if "json" in content_type:
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    form = parse_qs(raw.decode(errors="replace"), keep_blank_values=True)
    return {k.removesuffix("[]"): v if k.endswith("[]") else v[-1] for k, v in form.items()}


def _check_path(path: str) -> None:
    if (
        not path
        or not _PATH_RE.fullmatch(path)
        or path.endswith((".", ".git", ".atom"))
        or path.startswith("-")
    ):
        raise _bad({"path": [_PATH_ERROR]})


def _check_visibility(visibility: str) -> None:
    if visibility not in VISIBILITIES:
        raise ApiError(400, "visibility does not have a valid value", key="error")


def _rank(visibility: str) -> int:
    return VISIBILITIES.index(visibility)


def _changed_paths(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def _text(content: bytes) -> str | None:
    if b"\0" in content:
        return None
    try:
        return content.decode()
    except UnicodeDecodeError:
        return None


def _unified(old: bytes, new: bytes) -> str:
    """Git-like hunks (`@@ ... @@` onwards) between two versions of a file."""
    old_text, new_text = _text(old), _text(new)
    if old_text is None or new_text is None:
        return ""
    lines = difflib.unified_diff(
        old_text.splitlines(keepends=True), new_text.splitlines(keepends=True), n=3
    )
    out = []
    for line in itertools.islice(lines, 2, None):  # Skip difflib's own ---/+++ header.
        out.append(line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n")
    return "".join(out)


def _count(diff: str, sign: str) -> int:
    return sum(
        1 for line in diff.splitlines() if line.startswith(sign) and not line.startswith("@@")
    )


def _diff_entries(before: dict[str, bytes], after: dict[str, bytes]) -> list[JsonDict]:
    """Entities::Diff for every path that differs, sorted by path."""
    entries = []
    for path in _changed_paths(before, after):
        old, new = before.get(path), after.get(path)
        entries.append(
            {
                "old_path": path,
                "new_path": path,
                "a_mode": "0" if old is None else "100644",
                "b_mode": "0" if new is None else "100644",
                "new_file": old is None,
                "renamed_file": False,
                "deleted_file": new is None,
                "generated_file": False,
                "diff": _unified(old or b"", new or b""),
            }
        )
    return entries


def _fingerprints(key: str) -> tuple[str, str]:
    """(MD5 `aa:bb:…`, `SHA256:…`) of an OpenSSH public key, or ValueError."""
    parts = key.split()
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise ValueError(key)
    blob = base64.b64decode(parts[1], validate=True)
    md5 = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    sha = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return ":".join(md5[i : i + 2] for i in range(0, 32, 2)), f"SHA256:{sha}"


def _encoding_content(action: JsonDict) -> bytes | None:
    content = action.get("content")
    if content is None:
        return None
    if action.get("encoding", "text") == "base64":
        try:
            return base64.b64decode(content, validate=True)
        except ValueError:
            raise _bad("Invalid base64 content") from None
    return str(content).encode()


# ---- Routes: users -----------------------------------------------------------------------------


@route("GET", "user")
def _get_current_user(fake: FakeGitLab, request: Request) -> Response:
    return Response(200, fake.user_json(request.user, viewer=request.user))


@route("GET", "users")
def _list_users(fake: FakeGitLab, request: Request) -> Response:
    username = (request.get("username") or "").lower()
    search = (request.get("search") or "").lower()
    users = [
        u
        for u in fake.users.values()
        if (not username or u.username.lower() == username)
        and (not search or search in u.username.lower() or search in u.name.lower())
    ]
    return fake.paginate(request, [fake.user_json(u, viewer=request.user) for u in users])


@route("GET", "users/:user_id")
def _get_user(fake: FakeGitLab, request: Request) -> Response:
    user = (
        fake.users.get(int(request.params["user_id"]))
        if request.params["user_id"].isdigit()
        else None
    )
    if user is None:
        raise _not_found("User")
    return Response(200, fake.user_json(user, viewer=request.user))


# ---- Routes: groups ----------------------------------------------------------------------------


@route("GET", "groups")
def _list_groups(fake: FakeGitLab, request: Request) -> Response:
    user = request.user
    all_available = request.flag("all_available", default=user.admin)
    min_level = request.number("min_access_level")
    search = (request.get("search") or "").lower()
    groups = []
    for group in fake.groups.values():
        level = fake.real_level(user, group)
        visible = level > 0 or (all_available and fake._can_see_group(user, group))
        if not visible:
            continue
        if min_level is not None and level < min_level:
            continue
        if request.flag("owned") and level < OWNER:
            continue
        if request.flag("top_level_only") and group.parent is not None:
            continue
        if search and not any(
            search in s.lower() for s in (group.name, group.path, group.full_path)
        ):
            continue
        groups.append(group)
    groups.sort(key=lambda g: (g.name.lower(), g.id))
    if request.get("sort") == "desc":
        groups.reverse()
    return fake.paginate(request, [fake.group_json(g) for g in groups])


@route("GET", "groups/:id")
def _get_group(fake: FakeGitLab, request: Request) -> Response:
    group = fake.find_group(request)
    body = fake.group_json(group)
    if request.flag("with_projects", default=True):
        body["projects"] = [
            fake.project_json(p)
            for p in fake.projects.values()
            if p.namespace is group and fake._can_see_project(request.user, p)
        ]
    return Response(200, body)


@route("POST", "groups")
def _create_group(fake: FakeGitLab, request: Request) -> Response:
    name, path = request.require("name"), request.require("path")
    parent_id = request.number("parent_id")
    parent = None
    if parent_id is not None:
        parent = fake.find_group(request, str(parent_id))
        fake.need(request, parent, MAINTAINER)  # GitLab's default subgroup creation level.
    group = fake._new_group(
        str(name),
        str(path),
        parent,
        str(request.get("visibility", "private")),
        str(request.get("description") or ""),
    )
    group.members[request.user.id] = OWNER
    return Response(201, fake.group_json(group))


@route("PUT", "groups/:id")
def _update_group(fake: FakeGitLab, request: Request) -> Response:
    group = fake.find_group(request)
    fake.need(request, group, OWNER)
    if (visibility := request.get("visibility")) is not None:
        _check_visibility(visibility)
        group.visibility = visibility
    if (name := request.get("name")) is not None:
        group.name = str(name)
    if (description := request.get("description")) is not None:
        group.description = str(description)
    return Response(200, fake.group_json(group))


@route("DELETE", "groups/:id")
def _delete_group(fake: FakeGitLab, request: Request) -> Response:
    group = fake.find_group(request)
    fake.need(request, group, OWNER)
    for project in [p for p in fake.projects.values() if group in p.namespace.ancestors()]:
        fake._delete_project(project)
    for other in [g for g in fake.groups.values() if group in g.ancestors()]:
        fake.groups.pop(other.id, None)
    return Response(202, {"message": "202 Accepted"})


@route("GET", "groups/:id/projects")
def _list_group_projects(fake: FakeGitLab, request: Request) -> Response:
    group = fake.find_group(request)
    subgroups = request.flag("include_subgroups")
    search = (request.get("search") or "").lower()
    projects = [
        p
        for p in fake.projects.values()
        if (p.namespace is group or (subgroups and group in p.namespace.ancestors()))
        and fake._can_see_project(request.user, p)
        and (not search or search in p.name.lower() or search in p.path.lower())
    ]
    order = request.get("order_by", "created_at")
    keys: dict[str, Callable[[Project], Any]] = {
        "id": lambda p: p.id,
        "name": lambda p: p.name.lower(),
        "path": lambda p: p.path.lower(),
    }
    projects.sort(key=keys.get(order, lambda p: (p.created_at, p.id)))
    if request.get("sort", "desc") == "desc":
        projects.reverse()
    return fake.paginate(request, [fake.project_json(p) for p in projects])


def _members(fake: FakeGitLab, target: Group | Project, inherited: bool) -> dict[int, int]:
    if not inherited:
        return dict(target.members)
    sources: list[dict[int, int]] = []
    if isinstance(target, Project):
        sources.append(target.members)
        target = target.namespace
    sources += [g.members for g in target.ancestors()]
    merged: dict[int, int] = {}
    for members in sources:
        for user_id, level in members.items():
            merged[user_id] = max(level, merged.get(user_id, 0))
    return merged


def _member_list(
    fake: FakeGitLab, request: Request, target: Group | Project, inherited: bool
) -> Response:
    members = _members(fake, target, inherited)
    rows = [fake.member_json(fake.users[uid], level) for uid, level in sorted(members.items())]
    return fake.paginate(request, rows)


def _member_one(
    fake: FakeGitLab, request: Request, target: Group | Project, inherited: bool
) -> Response:
    raw_id = request.params["user_id"]
    level = _members(fake, target, inherited).get(int(raw_id)) if raw_id.isdigit() else None
    if not level:
        raise _not_found("Member")
    return Response(200, fake.member_json(fake.users[int(raw_id)], level))


def _add_member(fake: FakeGitLab, request: Request, target: Group | Project) -> Response:
    own = fake.need(request, target, MAINTAINER)
    level = request.number("access_level")
    if level is None:
        raise _missing("access_level")
    if level > own:
        raise _forbidden()
    ident = request.get("user_id") or request.get("username")
    user = None
    if str(ident).isdigit():
        user = fake.users.get(int(ident))
    elif ident is not None:
        user = next((u for u in fake.users.values() if u.username == ident), None)
    if user is None:
        raise _not_found("User")
    if user.id in target.members:
        raise ApiError(409, "Member already exists")
    target.members[user.id] = level
    return Response(201, fake.member_json(user, level))


@route("GET", "groups/:id/members")
def _group_members(fake: FakeGitLab, request: Request) -> Response:
    return _member_list(fake, request, fake.find_group(request), inherited=False)


@route("GET", "groups/:id/members/all")
def _group_members_all(fake: FakeGitLab, request: Request) -> Response:
    return _member_list(fake, request, fake.find_group(request), inherited=True)


@route("GET", "groups/:id/members/:user_id")
def _group_member(fake: FakeGitLab, request: Request) -> Response:
    return _member_one(fake, request, fake.find_group(request), inherited=False)


@route("GET", "groups/:id/members/all/:user_id")
def _group_member_all(fake: FakeGitLab, request: Request) -> Response:
    return _member_one(fake, request, fake.find_group(request), inherited=True)


@route("POST", "groups/:id/members")
def _add_group_member(fake: FakeGitLab, request: Request) -> Response:
    return _add_member(fake, request, fake.find_group(request))


@route("PUT", "groups/:id/members/:user_id")
def _update_group_member(fake: FakeGitLab, request: Request) -> Response:
    group = fake.find_group(request)
    own = fake.need(request, group, MAINTAINER)
    user_id = int(request.params["user_id"])
    level = request.number("access_level")
    if user_id not in group.members:
        raise _not_found("Member")
    if level is None or level > own:
        raise _forbidden() if level is not None else _missing("access_level")
    group.members[user_id] = level
    return Response(200, fake.member_json(fake.users[user_id], level))


@route("DELETE", "groups/:id/members/:user_id")
def _remove_group_member(fake: FakeGitLab, request: Request) -> Response:
    group = fake.find_group(request)
    fake.need(request, group, MAINTAINER)
    if group.members.pop(int(request.params["user_id"]), None) is None:
        raise _not_found("Member")
    return Response(204)


# ---- Routes: projects --------------------------------------------------------------------------


@route("GET", "projects/:id")
def _get_project(fake: FakeGitLab, request: Request) -> Response:
    return Response(200, fake.project_json(fake.find_project(request)))


@route("POST", "projects")
def _create_project(fake: FakeGitLab, request: Request) -> Response:
    name, path = request.get("name"), request.get("path")
    if not name and not path:
        raise ApiError(
            400, "name, path are missing, at least one parameter must be provided", key="error"
        )
    namespace_id = request.get("namespace_id")
    if namespace_id is None:
        raise _bad({"namespace": ["is not valid (the fake GitLab needs namespace_id)"]})
    namespace = fake.find_group(request, str(namespace_id))
    if fake.level(request.user, namespace) < MAINTAINER:
        raise _bad({"namespace": ["is not valid"]})  # What Projects::CreateService answers.
    path = str(path or re.sub(r"[^A-Za-z0-9_.-]+", "-", str(name)).strip("-").lower())
    project = fake._new_project(
        str(name or path),
        path,
        namespace,
        str(request.get("visibility", "private")),
        str(request.get("description") or ""),
    )
    return Response(201, fake.project_json(project))


@route("PUT", "projects/:id")
def _update_project(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request)
    fake.need(request, project, MAINTAINER)
    visibility = request.get("visibility")
    if visibility is not None and visibility != project.visibility:
        fake.need(request, project, OWNER)  # Changing visibility is an Owner's right.
        _check_visibility(visibility)
        if _rank(visibility) > _rank(project.namespace.visibility):
            raise _bad({"visibility_level": [f"{visibility} is not allowed in this group."]})
        project.visibility = visibility
    if (name := request.get("name")) is not None:
        if any(
            p.name == name and p is not project and p.namespace is project.namespace
            for p in fake.projects.values()
        ):
            raise _bad({"name": ["has already been taken"]})
        project.name = str(name)
    if (description := request.get("description")) is not None:
        project.description = str(description)
    if (branch := request.get("default_branch")) is not None:
        project.default_branch = str(branch)
    return Response(200, fake.project_json(project))


@route("DELETE", "projects/:id")
def _delete_project(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request)
    fake.need(request, project, OWNER)
    fake._delete_project(project)
    return Response(202, {"message": "202 Accepted"})


@route("GET", "projects/:id/members")
def _project_members(fake: FakeGitLab, request: Request) -> Response:
    return _member_list(fake, request, fake.find_project(request), inherited=False)


@route("GET", "projects/:id/members/all")
def _project_members_all(fake: FakeGitLab, request: Request) -> Response:
    return _member_list(fake, request, fake.find_project(request), inherited=True)


@route("GET", "projects/:id/members/all/:user_id")
def _project_member_all(fake: FakeGitLab, request: Request) -> Response:
    return _member_one(fake, request, fake.find_project(request), inherited=True)


@route("POST", "projects/:id/members")
def _add_project_member(fake: FakeGitLab, request: Request) -> Response:
    return _add_member(fake, request, fake.find_project(request))


# ---- Routes: repository ------------------------------------------------------------------------


@route("GET", "projects/:id/repository/tree")
def _tree(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request, read_code=True)
    commit = fake.resolve(project, request.get("ref"))
    if commit is None:
        raise _not_found("Tree")
    base = str(request.get("path") or "").strip("/")
    prefix = f"{base}/" if base else ""
    recursive = request.flag("recursive")
    entries: dict[str, str] = {}  # path → type
    for path in commit.files:
        if not path.startswith(prefix):
            continue
        parts = path[len(prefix) :].split("/")
        for depth in range(1, len(parts) + 1):
            if not recursive and depth > 1:
                break
            kind = "blob" if depth == len(parts) else "tree"
            entries[prefix + "/".join(parts[:depth])] = kind
    rows = []
    for path, kind in sorted(entries.items()):
        if kind == "blob":
            object_id = _blob_id(commit.files[path])
        else:
            listing = "".join(
                f"{p}\0{_blob_id(c)}"
                for p, c in sorted(commit.files.items())
                if p.startswith(f"{path}/")
            )
            object_id = hashlib.sha1(listing.encode(), usedforsecurity=False).hexdigest()
        mode = "100644" if kind == "blob" else "040000"
        rows.append(
            {
                "id": object_id,
                "name": path.rsplit("/", 1)[-1],
                "type": kind,
                "path": path,
                "mode": mode,
            }
        )
    return fake.paginate(request, rows)


def _file_at(
    fake: FakeGitLab, request: Request, *, ref_required: bool
) -> tuple[Project, Commit, str, bytes]:
    project = fake.find_project(request, read_code=True)
    ref = request.get("ref")
    if ref_required and not ref:
        raise _missing("ref")
    commit = fake.resolve(project, ref)
    if commit is None:
        raise _not_found("Commit")
    path = request.params["file_path"]
    content = commit.files.get(path)
    if content is None:
        raise _not_found("File")
    return project, commit, path, content


def _file_headers(
    fake: FakeGitLab, project: Project, commit: Commit, path: str, content: bytes, ref: str
) -> dict[str, str]:
    last = fake.last_commit_for_path(project, commit.id, path)
    return {
        "X-Gitlab-Blob-Id": _blob_id(content),
        "X-Gitlab-Commit-Id": commit.id,
        "X-Gitlab-Content-Sha256": hashlib.sha256(content).hexdigest(),
        "X-Gitlab-Encoding": "base64",
        "X-Gitlab-File-Name": path.rsplit("/", 1)[-1],
        "X-Gitlab-File-Path": path,
        "X-Gitlab-Last-Commit-Id": last.id if last else commit.id,
        "X-Gitlab-Ref": ref,
        "X-Gitlab-Size": str(len(content)),
        "X-Gitlab-Execute-Filemode": "false",
    }


@route("GET|HEAD", "projects/:id/repository/files/:file_path")
def _get_file(fake: FakeGitLab, request: Request) -> Response:
    project, commit, path, content = _file_at(fake, request, ref_required=True)
    headers = _file_headers(fake, project, commit, path, content, str(request.get("ref")))
    body = {
        "file_name": headers["X-Gitlab-File-Name"],
        "file_path": path,
        "size": len(content),
        "encoding": "base64",
        "content": base64.b64encode(content).decode(),
        "content_sha256": headers["X-Gitlab-Content-Sha256"],
        "ref": request.get("ref"),
        "blob_id": headers["X-Gitlab-Blob-Id"],
        "commit_id": commit.id,
        "last_commit_id": headers["X-Gitlab-Last-Commit-Id"],
        "execute_filemode": False,
    }
    return Response(200, body, headers)


@route("GET|HEAD", "projects/:id/repository/files/:file_path/raw")
def _get_raw_file(fake: FakeGitLab, request: Request) -> Response:
    project, commit, path, content = _file_at(fake, request, ref_required=False)
    ref = str(request.get("ref") or project.default_branch)
    return Response(
        200, headers=_file_headers(fake, project, commit, path, content, ref), raw=content
    )


def _branch_json(fake: FakeGitLab, request: Request, project: Project, name: str) -> JsonDict:
    rule = fake._protection(project, name)
    return {
        "name": name,
        "commit": fake.commit_json(project, project.commits[project.branches[name]]),
        "merged": False,
        "protected": rule is not None,
        "developers_can_push": rule is None or rule.push_access_level <= DEVELOPER,
        "developers_can_merge": rule is None or rule.merge_access_level <= DEVELOPER,
        "can_push": fake.can_push(request.user, project, name),
        "default": name == project.default_branch,
        "web_url": fake.web(f"{project.full_path}/-/tree/{name}"),
    }


@route("GET", "projects/:id/repository/branches")
def _list_branches(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request, read_code=True)
    rows = [_branch_json(fake, request, project, name) for name in sorted(project.branches)]
    return fake.paginate(request, rows)


@route("GET", "projects/:id/repository/branches/:branch")
def _get_branch(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request, read_code=True)
    name = request.params["branch"]
    if name not in project.branches:
        raise _not_found("Branch")
    return Response(200, _branch_json(fake, request, project, name))


@route("GET", "projects/:id/repository/commits")
def _list_commits(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request, read_code=True)
    start = fake.resolve(project, request.get("ref_name"))
    path = request.get("path")
    commits = [
        c for c in fake.ancestry(project, start) if not path or fake.touches(project, c, str(path))
    ]
    rows = [fake.commit_json(project, c) for c in commits]
    return fake.paginate(request, rows, totals=False)  # GitLab omits the totals here.


@route("GET", "projects/:id/repository/commits/:sha")
def _get_commit(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request, read_code=True)
    commit = fake.resolve(project, request.params["sha"])
    if commit is None:
        raise _not_found("Commit")
    return Response(200, fake.commit_json(project, commit, detail=True))


@route("GET", "projects/:id/repository/commits/:sha/diff")
def _get_commit_diff(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request, read_code=True)
    commit = fake.resolve(project, request.params["sha"])
    if commit is None:
        raise _not_found("Commit")
    return fake.paginate(
        request, _diff_entries(fake._files_of(project, commit.parent), commit.files)
    )


@route("GET", "projects/:id/repository/compare")
def _compare(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request, read_code=True)
    source = fake.resolve(project, request.require("from"))
    target = fake.resolve(project, request.require("to"))
    if source is None or target is None:
        raise ApiError(404, "404 Ref Not Found")
    base: Commit | None = source
    if not request.flag("straight"):  # Default: from the merge base (`from...to`).
        seen = {c.id for c in fake.ancestry(project, source)}
        base = next((c for c in fake.ancestry(project, target) if c.id in seen), None)
    between = []
    for commit in fake.ancestry(project, target):
        if base is not None and commit.id == base.id:
            break
        between.append(commit)
    between.reverse()
    return Response(
        200,
        {
            "commit": fake.commit_json(project, between[-1]) if between else None,
            "commits": [fake.commit_json(project, c) for c in between],
            "diffs": _diff_entries(base.files if base else {}, target.files),
            "compare_timeout": False,
            "compare_same_ref": source.id == target.id,
            "web_url": fake.web(f"{project.full_path}/-/compare/{source.id}...{target.id}"),
        },
    )


@route("POST", "projects/:id/repository/commits")
def _create_commit(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request, read_code=True)
    branch = str(request.require("branch"))
    message = str(request.require("commit_message"))
    actions = request.get("actions")
    if not isinstance(actions, list):
        raise _missing("actions")
    if not fake.can_push(request.user, project, branch):
        raise _forbidden("You are not allowed to push into this branch")
    start = str(request.get("start_branch") or branch)
    if not project.branches:
        parent = None  # An empty repository: the commit creates the branch.
    elif start not in project.branches:
        raise _bad("You can only create or edit files when you are on a branch")
    elif start != branch and branch in project.branches:
        raise _bad(
            f"A branch called '{branch}' already exists. "
            "Switch to that branch in order to make changes"
        )
    else:
        parent = project.branches[start]
    # Files::MultiService#validate!: every update-like action's last_commit_id first.
    for action in actions:
        if not isinstance(action, dict) or action.get("action") not in (
            "create",
            "update",
            "move",
            "delete",
            "chmod",
        ):
            raise _bad(
                f"Unknown action '{action.get('action') if isinstance(action, dict) else action}'"
            )
        if not action.get("file_path"):
            raise _missing("actions[file_path]")
        if parent and action["action"] != "create" and action.get("last_commit_id"):
            checked = str(action.get("previous_path") or action["file_path"])
            if fake.file_has_changed(
                project, parent, checked.lstrip("/"), str(action["last_commit_id"])
            ):
                raise _bad(f"The file has changed since you started editing it: {checked}")
    files = dict(fake._files_of(project, parent))
    for action in actions:
        _apply_action(files, action)
    commit = fake._record_commit(
        project,
        branch,
        parent,
        files,
        message,
        str(request.get("author_name") or request.user.name),
        str(request.get("author_email") or request.user.email),
        committer=request.user,
    )
    return Response(201, fake.commit_json(project, commit, detail=True))


def _apply_action(files: dict[str, bytes], action: JsonDict) -> None:
    """Apply one action the way Gitaly's UserCommitFiles does, with its error messages."""
    kind = action["action"]
    path = str(action["file_path"]).lstrip("/")
    if kind == "create" or kind == "move":
        if path in files or any(path.startswith(f"{p}/") for p in files):
            raise _bad("A file with this name already exists")
        if any(p.startswith(f"{path}/") for p in files):
            raise _bad("A directory with this name already exists")
    if kind == "move":
        previous = str(action.get("previous_path") or "").lstrip("/")
        if previous not in files:
            raise _bad("A file with this name doesn't exist")
        content = _encoding_content(action)
        moved = files.pop(previous)
        files[path] = moved if content is None else content
    elif kind == "create":
        files[path] = _encoding_content(action) or b""
    elif path not in files:
        raise _bad("A file with this name doesn't exist")
    elif kind == "update":
        content = _encoding_content(action)
        if content is None:
            raise _missing("actions[content]")
        files[path] = content
    elif kind == "delete":
        del files[path]


# ---- Routes: protected branches ----------------------------------------------------------------


@route("GET", "projects/:id/protected_branches")
def _list_protected(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request)
    fake.need(request, project, MAINTAINER)
    return fake.paginate(request, [fake.protected_json(r) for r in project.protected.values()])


@route("GET", "projects/:id/protected_branches/:name")
def _get_protected(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request)
    fake.need(request, project, MAINTAINER)
    rule = project.protected.get(request.params["name"])
    if rule is None:
        raise ApiError(404, "404 Not found")
    return Response(200, fake.protected_json(rule))


@route("POST", "projects/:id/protected_branches")
def _protect(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request)
    fake.need(request, project, MAINTAINER)
    name = str(request.require("name"))
    if name in project.protected:
        raise ApiError(409, f"Protected branch '{name}' already exists")
    rule = ProtectedBranch(
        fake._next_id(),
        name,
        request.number("push_access_level", MAINTAINER) or NO_ACCESS,
        request.number("merge_access_level", MAINTAINER) or NO_ACCESS,
        request.flag("allow_force_push"),
    )
    project.protected[name] = rule
    return Response(201, fake.protected_json(rule))


@route("DELETE", "projects/:id/protected_branches/:name")
def _unprotect(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request)
    fake.need(request, project, MAINTAINER)
    if project.protected.pop(request.params["name"], None) is None:
        raise ApiError(404, "404 Not found")
    return Response(204)


# ---- Routes: deploy keys -----------------------------------------------------------------------


def _project_key(fake: FakeGitLab, request: Request) -> tuple[Project, DeployKey]:
    project = fake.find_project(request)
    fake.need(request, project, MAINTAINER)
    raw_id = request.params["key_id"]
    key = fake.deploy_keys.get(int(raw_id)) if raw_id.isdigit() else None
    if key is None or key.id not in project.deploy_keys:
        raise _not_found("Deploy Key")
    return project, key


def _accessible_key(fake: FakeGitLab, user: User, key: DeployKey) -> bool:
    if user.admin or key.user_id == user.id:
        return True
    return any(
        key.id in p.deploy_keys and fake.level(user, p) >= MAINTAINER
        for p in fake.projects.values()
    )


@route("GET", "projects/:id/deploy_keys")
def _list_keys(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request)
    fake.need(request, project, MAINTAINER)
    rows = [
        fake.key_json(fake.deploy_keys[k], push) for k, push in sorted(project.deploy_keys.items())
    ]
    return fake.paginate(request, rows)


@route("GET", "projects/:id/deploy_keys/:key_id")
def _get_key(fake: FakeGitLab, request: Request) -> Response:
    project, key = _project_key(fake, request)
    return Response(200, fake.key_json(key, project.deploy_keys[key.id]))


@route("POST", "projects/:id/deploy_keys")
def _create_key(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request)
    fake.need(request, project, MAINTAINER)
    title, text = str(request.require("title")), str(request.require("key")).strip()
    can_push = request.flag("can_push")
    try:
        md5, sha256 = _fingerprints(text)
    except ValueError:
        raise _bad({"key": ["is invalid"], "fingerprint_sha256": ["cannot be generated"]}) from None
    existing = next((k for k in fake.deploy_keys.values() if k.fingerprint_sha256 == sha256), None)
    if existing is not None and existing.id in project.deploy_keys:
        return Response(201, fake.key_json(existing, project.deploy_keys[existing.id]))
    if existing is not None:
        if not _accessible_key(fake, request.user, existing):
            raise _bad({"fingerprint_sha256": ["has already been taken"]})
        project.deploy_keys[existing.id] = can_push
        return Response(201, fake.key_json(existing, can_push))
    key = DeployKey(fake._next_id(), title, text, request.user.id, _now(), md5, sha256)
    fake.deploy_keys[key.id] = key
    project.deploy_keys[key.id] = can_push
    return Response(201, fake.key_json(key, can_push))


@route("PUT", "projects/:id/deploy_keys/:key_id")
def _update_key(fake: FakeGitLab, request: Request) -> Response:
    project, key = _project_key(fake, request)
    if (title := request.get("title")) is not None:
        key.title = str(title)
    if request.get("can_push") is not None:
        project.deploy_keys[key.id] = request.flag("can_push")
    return Response(200, fake.key_json(key, project.deploy_keys[key.id]))


@route("DELETE", "projects/:id/deploy_keys/:key_id")
def _delete_key(fake: FakeGitLab, request: Request) -> Response:
    project, key = _project_key(fake, request)
    del project.deploy_keys[key.id]
    fake._forget_unused_key(key.id)  # GitLab deletes a key no project uses any more.
    return Response(204)


@route("POST", "projects/:id/deploy_keys/:key_id/enable")
def _enable_key(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request)
    fake.need(request, project, MAINTAINER)
    raw_id = request.params["key_id"]
    key = fake.deploy_keys.get(int(raw_id)) if raw_id.isdigit() else None
    if key is None or not _accessible_key(fake, request.user, key):
        raise _not_found("Deploy Key")
    project.deploy_keys.setdefault(key.id, False)
    return Response(201, fake.key_json(key))


# ---- Routes: project access tokens -------------------------------------------------------------


def _project_token(fake: FakeGitLab, request: Request) -> tuple[Project, AccessToken]:
    project = fake.find_project(request)
    fake.need(request, project, MAINTAINER)
    raw_id = request.params["token_id"]
    token = project.tokens.get(int(raw_id)) if raw_id.isdigit() else None
    if token is None:
        raise ApiError(404, "404 Not Found")
    return project, token


@route("GET", "projects/:id/access_tokens")
def _list_tokens(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request)
    fake.need(request, project, MAINTAINER)
    state = request.get("state")
    tokens = [
        t for t in project.tokens.values() if state is None or (state == "active") == t.active()
    ]
    return fake.paginate(request, [fake.token_json(t) for t in tokens])


@route("GET", "projects/:id/access_tokens/:token_id")
def _get_token(fake: FakeGitLab, request: Request) -> Response:
    return Response(200, fake.token_json(_project_token(fake, request)[1]))


@route("POST", "projects/:id/access_tokens")
def _create_token(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request)
    own = fake.need(request, project, MAINTAINER)
    name = str(request.require("name"))
    scopes = request.require("scopes")
    scopes = [scopes] if isinstance(scopes, str) else list(scopes)
    if not scopes or any(s not in TOKEN_SCOPES for s in scopes):
        raise ApiError(400, "scopes does not have a valid value", key="error")
    level = request.number("access_level", MAINTAINER) or MAINTAINER
    if level > own:
        raise _bad(
            f"Could not provision {ACCESS_NAMES.get(level, level)} access to a project access token"
        )
    expires = request.get("expires_at")
    try:
        expires_at = (
            dt.date.fromisoformat(str(expires))
            if expires
            else _now().date() + dt.timedelta(days=365)
        )
    except ValueError:
        raise ApiError(400, "expires_at is invalid", key="error") from None
    value = f"glpat-{secrets.token_urlsafe(15)}"
    bot_name = f"project_{project.id}_bot_{secrets.token_hex(4)}"
    bot = fake.add_user(bot_name, name, f"{bot_name}@noreply.{fake.host}", value)
    bot.bot = True
    project.members[bot.id] = level
    token = AccessToken(fake._next_id(), name, scopes, level, expires_at, _now(), bot.id)
    project.tokens[token.id] = token
    return Response(201, {**fake.token_json(token), "token": value})


@route("DELETE", "projects/:id/access_tokens/:token_id")
def _revoke_token(fake: FakeGitLab, request: Request) -> Response:
    project, token = _project_token(fake, request)
    if token.revoked:
        raise ApiError(400, "400 Bad request - Token already revoked")
    token.revoked = True
    fake.users[token.user_id].state = "blocked"  # Its token stops authenticating at once.
    project.members.pop(token.user_id, None)
    return Response(204)


# ---- Routes: hooks -----------------------------------------------------------------------------


def _project_hook(fake: FakeGitLab, request: Request) -> tuple[Project, Hook]:
    project = fake.find_project(request)
    fake.need(request, project, MAINTAINER)
    raw_id = request.params["hook_id"]
    hook = project.hooks.get(int(raw_id)) if raw_id.isdigit() else None
    if hook is None:
        raise _not_found("Hook")
    return project, hook


def _apply_hook_fields(request: Request, hook: Hook) -> None:
    for event in HOOK_EVENTS:
        if request.get(event) is not None:
            hook.events[event] = request.flag(event)
    if request.get("enable_ssl_verification") is not None:
        hook.enable_ssl_verification = request.flag("enable_ssl_verification")
    if (token := request.get("token")) is not None:
        hook.token = str(token) or None
    if (branch_filter := request.get("push_events_branch_filter")) is not None:
        hook.push_events_branch_filter = str(branch_filter)


def _check_hook_url(url: Any) -> str:
    if not isinstance(url, str) or not re.match(r"https?://[^/\s]+", url):
        raise _bad({"url": ["is blocked: Only allowed schemes are http, https"]})
    return url


@route("GET", "projects/:id/hooks")
def _list_hooks(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request)
    fake.need(request, project, MAINTAINER)
    return fake.paginate(request, [fake.hook_json(project, h) for h in project.hooks.values()])


@route("GET", "projects/:id/hooks/:hook_id")
def _get_hook(fake: FakeGitLab, request: Request) -> Response:
    project, hook = _project_hook(fake, request)
    return Response(200, fake.hook_json(project, hook))


@route("POST", "projects/:id/hooks")
def _create_hook(fake: FakeGitLab, request: Request) -> Response:
    project = fake.find_project(request)
    fake.need(request, project, MAINTAINER)
    url = _check_hook_url(request.require("url"))
    events = {event: event == "push_events" for event in HOOK_EVENTS}  # GitLab's defaults.
    hook = Hook(fake._next_id(), url, None, events, True, "", _now())
    _apply_hook_fields(request, hook)
    project.hooks[hook.id] = hook
    return Response(201, fake.hook_json(project, hook))


@route("PUT", "projects/:id/hooks/:hook_id")
def _update_hook(fake: FakeGitLab, request: Request) -> Response:
    project, hook = _project_hook(fake, request)
    hook.url = _check_hook_url(request.require("url"))
    _apply_hook_fields(request, hook)
    return Response(200, fake.hook_json(project, hook))


@route("DELETE", "projects/:id/hooks/:hook_id")
def _delete_hook(fake: FakeGitLab, request: Request) -> Response:
    project, hook = _project_hook(fake, request)
    del project.hooks[hook.id]
    return Response(204)
