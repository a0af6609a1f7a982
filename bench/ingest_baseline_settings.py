"""Settings for the ingest benchmark's Daphne: the project, plus the baseline endpoint.

The DRF-serializer baseline exists only here (bench/ingest_baseline_urls.py), never in
the production URLconf.
"""

from wedsync_ops.settings import *  # noqa: F403

ROOT_URLCONF = "ingest_baseline_urls"
