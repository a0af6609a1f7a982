"""What PostgreSQL keeps for the gateway: the outbox of publishes Redis could not take,
and the last sequence number of each topic (so numbering survives Redis losing its data)."""

from __future__ import annotations

from django.db import models


class OutboxMessage(models.Model):
    """A publish accepted while Redis was unreachable; the relay announces it, in id order."""

    topic = models.CharField(max_length=64)
    data = models.TextField(help_text="The message's data as JSON text.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"


class TopicSeq(models.Model):
    topic = models.CharField(max_length=64, primary_key=True)
    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.topic}: {self.last_seq}"
