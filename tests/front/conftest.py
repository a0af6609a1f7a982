"""The full stack's front door, as the Procfile runs it: HAProxy (`front proxy`) and the
supervisor of gunicorn and Daphne processes (`front serve`), on the test database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FrontDoor
from wedsync_ops import front


@pytest.fixture(scope="module")
def front_door(start_front) -> FrontDoor:
    return start_front()


def backend_socket(door: FrontDoor, name: str) -> Path:
    return Path(front.read_state(door.config)[name]["socket"])
