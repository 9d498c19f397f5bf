"""Error messages never show where the server keeps its files (issue #12, finding 9).

A failing file operation or git command used to put the data directory's absolute path in the
API's error body, in the operation's step log and on its page (a 254-character repository name
answered 502 with it). Each failure here is real: the files are broken on disk, nothing of ours
is replaced.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from nautes_portal.operations.models import OperationStep

pytestmark = pytest.mark.django_db

BODY = {"git": {"gitlab": {"visibility": "private"}}}
# An absolute path anywhere in a text (not `$NAUTES_DATA_DIR/...`, not a relative path).
ABSOLUTE_PATH = re.compile(r"(?<![\w.$-])/(?:tmp|var|root|home|work|srv|data|app|usr|opt)\b")


def server_paths(settings: Any, tmp_path: Path) -> list[str]:
    places = [settings.NAUTES_DATA_DIR, settings.NAUTES_GIT_DIR, tmp_path, tempfile.gettempdir()]
    return sorted({form for place in places for form in (str(place), os.path.realpath(place))})


def assert_no_server_path(text: str, settings: Any, tmp_path: Path) -> None:
    for place in server_paths(settings, tmp_path):
        assert place not in text, f"{place} in {text!r}"
    assert not ABSOLUTE_PATH.search(text), text


def test_an_operation_step_failing_on_a_file_reports_no_server_path(
    alice: Any, alice_api: APIClient, git_root: Path, settings: Any, tmp_path: Path
) -> None:
    # The local Git host's id counters cannot be read: a directory stands where the file was.
    git_root.mkdir(parents=True, exist_ok=True)
    (git_root / ".nautes-ids.json").mkdir()

    response = alice_api.post("/api/v1/products/acme", BODY, format="json")

    assert response.status_code == 502
    body = response.json()
    assert body["reason"] == "OPERATION_FAILED"
    assert body["message"] == (
        "Create or update the product group: "
        "Cannot read the local Git host's file .nautes-ids.json: Is a directory."
    )
    assert_no_server_path(response.content.decode(), settings, tmp_path)

    step = OperationStep.objects.get(status="failed")
    assert step.name == "group" and "Is a directory" in step.error
    assert_no_server_path(step.error + step.operation.error, settings, tmp_path)
    operation_id = body["metadata"]["operation"]
    detail = alice_api.get(f"/api/v1/operations/{operation_id}")
    assert detail.status_code == 200
    assert_no_server_path(detail.content.decode(), settings, tmp_path)
    client = Client()
    client.force_login(alice)
    page = client.get(f"/operations/{operation_id}/")
    assert page.status_code == 200 and b"Is a directory" in page.content
    assert_no_server_path(page.content.decode(), settings, tmp_path)


def test_a_git_failure_on_a_broken_repository_reports_no_server_path(
    alice_api: APIClient, git_root: Path, settings: Any, tmp_path: Path
) -> None:
    assert alice_api.post("/api/v1/products/acme", BODY, format="json").status_code == 200
    # The repository's HEAD is gone: git no longer recognises the directory as a repository.
    (git_root / "acme" / "default.project.git" / "HEAD").unlink()

    response = alice_api.post(
        "/api/v1/products/acme/projects/api-server", {"language": "Go"}, format="json"
    )

    assert response.status_code == 502
    message = response.json()["message"]
    assert "not a git repository" in message  # git's own words are kept
    assert_no_server_path(response.content.decode(), settings, tmp_path)


def test_a_broken_embedded_openbao_key_file_reports_no_server_path(
    settings: Any, tmp_path: Path, client: Client
) -> None:
    """`/readyz` answers anyone: its reason must not show the data directory either."""
    data_dir = tmp_path / "data"
    openbao = data_dir / "openbao"
    openbao.mkdir(parents=True)
    (openbao / "addr").write_text("https://127.0.0.1:1\n")
    (openbao / "init.json").mkdir()  # unreadable as a file
    settings.NAUTES_DATA_DIR = data_dir
    settings.NAUTES_OPENBAO_DIR = openbao
    settings.VAULT_ADDR = ""

    response = client.get("/readyz")

    assert response.status_code == 503
    reason = response.json()["problems"]["vault"]
    assert reason.startswith("$NAUTES_DATA_DIR/openbao/init.json cannot be read"), reason
    assert_no_server_path(response.content.decode(), settings, tmp_path)


def test_a_repository_name_too_long_for_the_file_system_reports_no_server_path(
    alice_api: APIClient, settings: Any, tmp_path: Path
) -> None:
    """The finding as reported: a 254-character code repository name answered 502 with the
    server's absolute path (git could not create the directory). Whatever the answer is now
    (refused up front or a failure), it names no server path."""
    from tests.api.helpers import coderepo_body

    assert alice_api.post("/api/v1/products/acme", BODY, format="json").status_code == 200
    name = "r" * 254
    response = alice_api.post(
        f"/api/v1/products/acme/coderepos/{name}", coderepo_body(name), format="json"
    )
    assert response.status_code >= 400
    assert_no_server_path(response.content.decode(), settings, tmp_path)


def test_the_central_guard_redacts_server_directories_only(settings: Any, tmp_path: Path) -> None:
    from nautes_portal.errors import NautesError

    data_dir = tmp_path / "data"
    settings.NAUTES_DATA_DIR = data_dir
    settings.NAUTES_GIT_DIR = data_dir / "git"
    error = NautesError(
        f"cannot open {data_dir}/git/acme/x.json (file://{data_dir}/git/acme/x.git); "
        "pipelines/main.yaml and https://gitlab.example.com/nautes/acme are untouched",
        metadata={"problems": [{"message": f"see {data_dir}/openbao/init.json"}]},
    )
    assert error.message == (
        "cannot open $NAUTES_DATA_DIR/git/acme/x.json ($NAUTES_DATA_DIR/git/acme/x.git); "
        "pipelines/main.yaml and https://gitlab.example.com/nautes/acme are untouched"
    )
    assert error.metadata == {"problems": [{"message": "see $NAUTES_DATA_DIR/openbao/init.json"}]}
    assert error.as_body()["message"] == error.message
