"""Status pages: private links, public incident updates, subscribers and what they were sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class StatusLink(models.Model):
    """A private link to one wedding's status page. Only the token's SHA-256 is stored: the
    token is shown once, when issued. Validity follows the wedding's date (links.window)."""

    wedding = models.ForeignKey(
        "weddings.Wedding", on_delete=models.CASCADE, related_name="status_links"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"status link #{self.pk} for wedding {self.wedding_id} ({state})"


class IncidentUpdateStatus(models.TextChoices):
    # Statuspage's incident statuses.
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class PublicUpdate(models.Model):
    """An operator's words about an incident, shown on every affected wedding's page (the
    incident's own timeline is internal: contacts called, capacity decisions)."""

    incident = models.ForeignKey(
        "alerts.Incident", on_delete=models.CASCADE, related_name="public_updates"
    )
    status = models.CharField(max_length=15, choices=IncidentUpdateStatus.choices)
    body = models.TextField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.status}: {self.body[:60]}"


class Subscriber(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email"
        WEBHOOK = "webhook"

    wedding = models.ForeignKey(
        "weddings.Wedding", on_delete=models.CASCADE, related_name="status_subscribers"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    target = models.CharField(max_length=500, help_text="Email address or webhook URL.")
    # HMAC-SHA256 key for webhook bodies (X-WedSync-Signature).
    secret = models.CharField(max_length=100, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Changes up to this StatusChange id have been sent (or were before the subscription).
    cursor = models.BigIntegerField(default=0)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["wedding", "kind", "target"]
        constraints = [
            models.UniqueConstraint(
                fields=["wedding", "kind", "target"], name="status_subscriber_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target} (wedding {self.wedding_id})"


class PageState(models.Model):
    """What subscribers were last told about a wedding, to notice what changed."""

    wedding = models.OneToOneField(
        "weddings.Wedding", on_delete=models.CASCADE, related_name="status_state"
    )
    state = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"page state of wedding {self.wedding_id}"


class StatusChange(models.Model):
    """One thing subscribers are told about: a component left operational, an incident was
    opened, updated or resolved. Sent in batches (notify.py)."""

    wedding = models.ForeignKey(
        "weddings.Wedding", on_delete=models.CASCADE, related_name="status_changes"
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=20)
    text = models.CharField(max_length=500)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.text


class Delivery(models.Model):
    """What was sent to whom (shown to operators)."""

    class Status(models.TextChoices):
        SENT = "sent"
        FAILED = "failed"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    wedding = models.ForeignKey(
        "weddings.Wedding", on_delete=models.CASCADE, related_name="status_deliveries"
    )
    kind = models.CharField(max_length=20, default="changes")  # changes | confirm
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    subject = models.CharField(max_length=300)
    changes = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} to subscriber {self.subscriber_id}: {self.status}"
