"""Topic names: `wedding:<id>` and `supplier:<id>`, nothing else."""

from __future__ import annotations

import re

TOPIC_RE = re.compile(r"^(wedding|supplier):([1-9][0-9]{0,17})$")


class TopicError(ValueError):
    pass


def parse_topic(topic: object) -> tuple[str, int]:
    """('wedding', 12) for 'wedding:12'; raises TopicError naming the bad topic."""
    if not isinstance(topic, str):
        raise TopicError(f"Topic must be a string, got {type(topic).__name__}.")
    match = TOPIC_RE.match(topic)
    if match is None:
        raise TopicError(f"Malformed topic {topic[:80]!r}: use 'wedding:<id>' or 'supplier:<id>'.")
    return match.group(1), int(match.group(2))


def validate_topics(topics: object, limit: int) -> list[str]:
    """A de-duplicated list of well-formed topics, at most `limit`; raises TopicError."""
    if not isinstance(topics, list) or not topics:
        raise TopicError("'topics' must be a non-empty list.")
    if len(topics) > limit:
        raise TopicError(f"Too many topics in one frame: {len(topics)} > {limit}.")
    seen: dict[str, None] = {}
    for index, topic in enumerate(topics):
        try:
            parse_topic(topic)
        except TopicError as exc:
            raise TopicError(f"topics[{index}]: {exc}") from None
        seen[topic] = None
    return list(seen)
