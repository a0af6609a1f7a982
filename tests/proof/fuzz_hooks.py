"""Schemathesis hooks for tests/proof/test_fuzz_api.py (loaded with SCHEMATHESIS_HOOKS).

One extra check, `refused_write_changes_nothing`: before each PUT/PATCH/DELETE of a
record, the record is read (GET of the same path); if the write is refused (4xx), it is
read again and must be exactly as it was. "Nothing stored changes on a refused request"
(issue 15) is then checked on every refused write the fuzzer sends, not only on the cases
a person thought of. FUZZ_BASE_URL and FUZZ_AUTHORIZATION come from the test.
"""

from __future__ import annotations

import os

import requests
import schemathesis

WRITES = {"PUT", "PATCH", "DELETE"}
_before: dict[str, tuple[str, object]] = {}  # case id -> (path, body before the write)
_session = requests.Session()


def _read(path: str) -> object | None:
    response = _session.get(
        os.environ["FUZZ_BASE_URL"] + path,
        headers={"Authorization": os.environ["FUZZ_AUTHORIZATION"], "Accept": "application/json"},
        timeout=20,
        allow_redirects=False,
    )
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _record_path(case) -> str | None:
    if case.method.upper() not in WRITES or not case.path_parameters:
        return None
    try:
        path = case.formatted_path
    except Exception:  # a path the generator could not fill in: nothing to read back
        return None
    # Only a record itself (…/{id}/), not an action under it.
    if not case.operation.path.endswith("}/") or "?" in path or "#" in path:
        return None
    return path


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    path = _record_path(case)
    if path is None:
        return
    body = _read(path)
    if body is not None:
        _before[case.id] = (path, body)


@schemathesis.check
def refused_write_changes_nothing(ctx, response, case) -> None:
    seen = _before.pop(case.id, None)
    if seen is None or not 400 <= response.status_code < 500:
        return None
    path, body = seen
    after = _read(path)
    if after != body:
        raise AssertionError(
            f"{case.method} {path} was refused ({response.status_code}) yet the record "
            f"changed:\nbefore: {str(body)[:800]}\nafter:  {str(after)[:800]}"
        )
    return None
