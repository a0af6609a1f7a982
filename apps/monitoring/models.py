"""Metric storage: series (name + labels), raw samples, rollups, scrape targets."""

from __future__ import annotations

import hashlib
import re

import orjson
from django.core.exceptions import ValidationError
from django.db import models


def series_key(name: str, labels: dict[str, str]) -> str:
    """A stable identity for name + labels (labels in sorted order)."""
    canonical = name.encode() + b"\x00" + orjson.dumps(labels, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(canonical, digest_size=16).hexdigest()


class Series(models.Model):
    name = models.CharField(max_length=200, db_index=True)
    labels = models.JSONField(default=dict)
    # blake2b of name + sorted labels: a short unique key to look series up by.
    key = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "series"

    def __str__(self) -> str:
        inner = ",".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()))
        return f"{self.name}{{{inner}}}"


class Sample(models.Model):
    """One raw value. The primary key (series, ts) is also the range-query index.

    ts is unix seconds as a double: compact, fast to COPY, exact to the microsecond.
    """

    pk = models.CompositePrimaryKey("series", "ts")
    # The primary key starts with series: a separate index would only slow writes.
    series = models.ForeignKey(
        Series, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False
    )
    ts = models.FloatField()
    value = models.FloatField()

    def __str__(self) -> str:
        return f"{self.series_id}@{self.ts}={self.value}"


class Rollup(models.Model):
    """Aggregates of raw samples per fixed bucket (60 s or 3,600 s), keyed like samples."""

    MINUTE = 60
    HOUR = 3600

    pk = models.CompositePrimaryKey("resolution", "series", "ts")
    resolution = models.PositiveIntegerField()
    # The primary key (resolution, series, ts) serves range queries; no extra index.
    series = models.ForeignKey(
        Series, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False
    )
    ts = models.FloatField(help_text="Bucket start, unix seconds.")
    min = models.FloatField()
    max = models.FloatField()
    sum = models.FloatField()
    count = models.PositiveIntegerField()
    last = models.FloatField()

    def __str__(self) -> str:
        return f"{self.series_id}@{self.ts}/{self.resolution}s"


class RollupState(models.Model):
    """How far each resolution has been rolled up (unix seconds, exclusive)."""

    resolution = models.PositiveIntegerField(primary_key=True)
    done_until = models.FloatField(default=0.0)
    # The earliest source time written behind done_until (minus the lookback) since the
    # last run: late or backfilled samples. The next run starts there.
    late_from = models.FloatField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.resolution}s rolled up to {self.done_until}"


def validate_name_pattern(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValidationError(f"Not a regular expression: {exc}.") from None


class ScrapeTarget(models.Model):
    """A Prometheus text endpoint the monitor scrapes and ingests."""

    name = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=500)
    interval_seconds = models.PositiveIntegerField(default=30)
    labels = models.JSONField(default=dict, blank=True)
    bearer_token = models.CharField(max_length=500, blank=True)
    # Prometheus' `keep` relabelling on the metric name: a target that also exposes series
    # the monitor already collects (its own /metrics) must not count them twice.
    keep = models.CharField(
        max_length=500,
        blank=True,
        validators=[validate_name_pattern],
        help_text="Only metrics whose whole name matches this regular expression are stored "
        "(blank: all), e.g. (process|python)_.*",
    )
    enabled = models.BooleanField(default=True)
    # Claimed atomically by whichever worker scrapes it next.
    next_scrape_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_scrape_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    samples_last_scrape = models.PositiveIntegerField(default=0, editable=False)
    last_duration_ms = models.FloatField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name or self.url
