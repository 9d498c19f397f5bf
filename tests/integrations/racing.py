"""Committers racing on one configuration repository, for the backend and contract tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

from nautes_portal.integrations.config_repo import Author, CommitConflict, ConfigRepository


def race(
    repo: ConfigRepository, count: int, *, path_of: Callable[[int], str], retry: bool
) -> list[int]:
    """`count` threads each commit `n: <number>` to `path_of(number)`; the numbers whose commit
    landed, in landing order. Without `retry`, everyone reads the same head before anyone
    commits and a conflict ends the thread; with it, a conflict reads the head again."""
    barrier = threading.Barrier(count)
    landed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(number: int) -> None:
        try:
            while True:
                parent = repo.head()
                if not retry:
                    barrier.wait()
                try:
                    repo.commit(
                        changes={path_of(number): f"n: {number}\n".encode()},
                        expected_parent=parent,
                        message=f"worker {number}",
                        author=Author(f"Worker {number}", f"w{number}@example.com"),
                    )
                except CommitConflict:
                    if retry:
                        continue
                    return
                with lock:
                    landed.append(number)
                return
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return landed


def own_file(number: int) -> str:
    return f"files/{number:02}.yaml"
