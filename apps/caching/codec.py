"""How values are stored in Redis: pickled, zstd-compressed above a threshold.

Pickle because bundles hold dates, times and frozensets that JSON would lose; the
bytes only ever travel between our own processes through our own Redis keys.
One header byte says which form follows, so the threshold can change at any time.
"""

from __future__ import annotations

import pickle
from typing import Any

import zstandard

RAW = b"p"
ZSTD = b"z"


class CodecError(ValueError):
    """Stored bytes that cannot be decoded (corrupt, or written by something else)."""


class Codec:
    def __init__(self, threshold: int = 1024, level: int = 3) -> None:
        self.threshold = threshold
        self.level = level
        # zstd contexts are not thread-safe; these are cheap to create per call.

    def encode(self, value: Any) -> tuple[bytes, int]:
        """(stored bytes, uncompressed size)."""
        raw = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        if len(raw) >= self.threshold:
            packed = zstandard.ZstdCompressor(level=self.level).compress(raw)
            if len(packed) < len(raw):
                return ZSTD + packed, len(raw) + 1
        return RAW + raw, len(raw) + 1

    def decode(self, data: bytes) -> Any:
        return self.decode_sized(data)[0]

    def decode_sized(self, data: bytes) -> tuple[Any, int]:
        """(value, uncompressed size): the size is what L1 charges for it."""
        if not data:
            raise CodecError("empty value")
        kind, body = data[:1], data[1:]
        try:
            if kind == RAW:
                return pickle.loads(body), len(data)
            if kind == ZSTD:
                raw = zstandard.ZstdDecompressor().decompress(body)
                return pickle.loads(raw), len(raw) + 1
        except Exception as exc:
            raise CodecError(f"cannot decode cached value: {exc}") from exc
        raise CodecError(f"unknown cached value header {kind!r}")
