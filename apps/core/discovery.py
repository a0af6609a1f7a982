"""Each installed app's module of a given name (``periodic``, ``collectors``, ``demo``).

One loop instead of one per caller; a module that exists but fails to import raises, so
a broken collector or job is never silently skipped.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from django.apps import apps
from django.utils.module_loading import module_has_submodule


def app_modules(name: str) -> list[tuple[str, ModuleType]]:
    """(app name, module) for every installed app holding ``<app>.<name>``, in
    INSTALLED_APPS order."""
    return [
        (config.name, import_module(f"{config.name}.{name}"))
        for config in apps.get_app_configs()
        if module_has_submodule(config.module, name)
    ]
