"""Serve the plotly.min.js that the plotly package ships, as static/vendor/plotly.min.js.

No CDN: the browser loads exactly the plotly.js that matches the Python package.
"""

from __future__ import annotations

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_DIR = Path(plotly.__file__).parent / "package_data"
SERVED = {"vendor/plotly.min.js": "plotly.min.js"}


class _PrefixedStorage(FileSystemStorage):
    prefix = "vendor"


class PlotlyFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        self.storage = _PrefixedStorage(location=str(PLOTLY_DIR))

    def check(self, **kwargs):
        return []

    def find(self, path: str, find_all: bool = False, **kwargs):
        if path in SERVED:
            found = str(PLOTLY_DIR / SERVED[path])
            return [found] if find_all else found
        return [] if find_all else None

    def list(self, ignore_patterns):
        for name in SERVED.values():
            yield name, self.storage
