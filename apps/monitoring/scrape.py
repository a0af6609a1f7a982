"""Scraping Prometheus text endpoints: claim due targets, fetch, ingest, record health."""

from __future__ import annotations

import logging
import re
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from apps.monitoring import conf
from apps.monitoring.ingest import IngestError, ingest, parse_prometheus_text
from apps.monitoring.models import ScrapeTarget

log = logging.getLogger(__name__)

ACCEPT = "text/plain;version=0.0.4;q=0.9,*/*;q=0.1"


class ScrapeError(Exception):
    pass


def fetch(target: ScrapeTarget) -> str:
    """The target's exposition text; ScrapeError says what went wrong."""
    request = urllib.request.Request(target.url, headers={"Accept": ACCEPT})
    if target.bearer_token:
        request.add_header("Authorization", f"Bearer {target.bearer_token}")
    try:
        with urllib.request.urlopen(request, timeout=conf.SCRAPE_TIMEOUT) as response:
            body = response.read(conf.SCRAPE_MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise ScrapeError(f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ScrapeError(f"cannot reach target: {reason}") from None
    if len(body) > conf.SCRAPE_MAX_BYTES:
        raise ScrapeError(f"response larger than {conf.SCRAPE_MAX_BYTES} bytes")
    return body.decode("utf-8", errors="replace")


def label(samples: list[dict], target_labels: dict[str, str], now: float) -> list[dict]:
    """Add the target's labels (they win; a clashing exposed label is kept as exported_X)
    and stamp samples with the scrape time unless the exposition gave one."""
    for sample in samples:
        labels = sample["labels"]
        for key, value in target_labels.items():
            if key in labels and labels[key] != value:
                labels[f"exported_{key}"] = labels[key]
            labels[key] = value
        sample.setdefault("ts", now)
    return samples


def scrape(target: ScrapeTarget, now: float | None = None) -> int:
    """Scrape one target and record its health; returns samples stored."""
    now = time.time() if now is None else now
    started = time.perf_counter()
    error = ""
    stored = 0
    try:
        samples = parse_prometheus_text(fetch(target))
        if target.keep:
            wanted = re.compile(target.keep)
            samples = [s for s in samples if wanted.fullmatch(s["name"])]
        samples = label(samples, target.labels or {}, now)
        try:
            stored = ingest(samples, now=now)
        except IngestError as exc:
            if not exc.errors or exc.status != 400:
                raise
            # An exporter may expose NaN (an empty summary) or a bad name: keep the rest
            # of the scrape and report what was dropped, rather than losing it all.
            bad = {e["index"] for e in exc.errors if "index" in e}
            kept = [s for i, s in enumerate(samples) if i not in bad]
            stored = ingest(kept, now=now)
            first = exc.errors[0]
            error = (
                f"dropped {len(bad)} invalid samples (e.g. #{first['index']} "
                f"{samples[first['index']].get('name')}: {first['field']} {first['message']})"
            )
    except (ScrapeError, IngestError) as exc:
        error = str(exc)
    except Exception as exc:  # a broken target must not stop the others
        log.exception("scrape of %s failed", target.url)
        error = f"{type(exc).__name__}: {exc}"
    ScrapeTarget.objects.filter(pk=target.pk).update(
        last_scrape_at=timezone.now(),
        last_error=error[:2000],
        samples_last_scrape=stored,
        last_duration_ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return stored


def claim_due(now=None) -> list[ScrapeTarget]:
    """Targets due now, each claimed by exactly one caller across processes.

    The claim is a conditional UPDATE moving next_scrape_at forward: of two workers
    racing for a target, only one sees its row updated.
    """
    now = now or timezone.now()
    due = ScrapeTarget.objects.filter(enabled=True).filter(
        Q(next_scrape_at__isnull=True) | Q(next_scrape_at__lte=now)
    )
    claimed = []
    for target in due:
        following = now + timedelta(seconds=target.interval_seconds)
        won = ScrapeTarget.objects.filter(
            pk=target.pk, next_scrape_at=target.next_scrape_at
        ).update(next_scrape_at=following)
        if won:
            claimed.append(target)
    return claimed


def scrape_due() -> int:
    """Scrape every due target; returns how many were scraped."""
    targets = claim_due()
    for target in targets:
        scrape(target)
    return len(targets)
