"""A PromQL subset with Prometheus's semantics, evaluated over the monitor's storage.

Parsing is promql-parser's (the Rust parser's bindings); this package evaluates the
tree over every step of a range at once with numpy: storage.py reads samples,
functions.py holds the range and histogram functions, engine.py walks the tree.
"""

from apps.monitoring.promql.engine import PromQLError, evaluate  # noqa: F401
