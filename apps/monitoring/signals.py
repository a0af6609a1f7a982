"""Signals other apps listen to (alerts evaluates its rules on them)."""

from django.dispatch import Signal

# Sent after each committed ingest batch (on_commit), with
# samples=[(name, labels, ts, value), ...]: ts in unix seconds, labels a dict.
samples_ingested = Signal()
