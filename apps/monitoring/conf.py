"""Monitoring settings, read from the environment (defaults suit both run modes)."""

from __future__ import annotations

import environ

env = environ.Env()

# Ingest limits: every refusal names the limit that was hit.
MAX_BODY_BYTES = env.int("MONITORING_MAX_BODY_BYTES", default=8 * 1024 * 1024)
MAX_SAMPLES_PER_BATCH = env.int("MONITORING_MAX_SAMPLES_PER_BATCH", default=20_000)
MAX_LABELS = env.int("MONITORING_MAX_LABELS", default=20)
MAX_NAME_LENGTH = 200
MAX_LABEL_NAME_LENGTH = env.int("MONITORING_MAX_LABEL_NAME_LENGTH", default=100)
MAX_LABEL_VALUE_LENGTH = env.int("MONITORING_MAX_LABEL_VALUE_LENGTH", default=256)
# Remote write: a snappy body may inflate ~20x, so the decoded size has its own limit.
MAX_DECOMPRESSED_BYTES = env.int("MONITORING_MAX_DECOMPRESSED_BYTES", default=32 * 1024 * 1024)
MAX_FUTURE_SECONDS = env.float("MONITORING_MAX_FUTURE_SECONDS", default=300.0)
# Cardinality guard: how many series one metric name may have.
MAX_SERIES_PER_METRIC = env.int("MONITORING_MAX_SERIES_PER_METRIC", default=5_000)
# Requests per second one user may send to the ingest endpoint (DRF throttle syntax).
INGEST_THROTTLE = env.str("MONITORING_INGEST_THROTTLE", default="1000/s")

# Retention and rollups (seconds).
RAW_RETENTION = env.int("MONITORING_RAW_RETENTION_SECONDS", default=48 * 3600)
MINUTE_RETENTION = env.int("MONITORING_1M_RETENTION_SECONDS", default=30 * 86400)
HOUR_RETENTION = env.int("MONITORING_1H_RETENTION_SECONDS", default=400 * 86400)
# Rollups recompute this far back each run, so samples that arrive late are counted.
ROLLUP_LOOKBACK = env.int("MONITORING_ROLLUP_LOOKBACK_SECONDS", default=300)

# Query: ranges up to this long are answered from raw samples, longer ones from rollups.
RAW_QUERY_MAX_RANGE = env.int("MONITORING_RAW_QUERY_MAX_RANGE_SECONDS", default=6 * 3600)
MAX_POINTS = env.int("MONITORING_MAX_POINTS", default=1_000)
MAX_QUERY_SERIES = env.int("MONITORING_MAX_QUERY_SERIES", default=200)
# PromQL (the Prometheus query API): Prometheus's own defaults.
PROMQL_LOOKBACK_SECONDS = env.float("MONITORING_PROMQL_LOOKBACK_SECONDS", default=300.0)
PROMQL_TIMEOUT_SECONDS = env.float("MONITORING_PROMQL_TIMEOUT_SECONDS", default=120.0)
PROMQL_MAX_POINTS = 11_000  # points per series a range query may ask for, as Prometheus
MAX_PROMQL_SERIES = env.int("MONITORING_MAX_PROMQL_SERIES", default=5_000)

# Scraping.
SCRAPE_TIMEOUT = env.float("MONITORING_SCRAPE_TIMEOUT_SECONDS", default=10.0)
SCRAPE_MAX_BYTES = env.int("MONITORING_SCRAPE_MAX_BYTES", default=16 * 1024 * 1024)
