"""Logging out closes the user's open /ws/ops/ sockets (every tab, every process).

A socket authenticated by a session cookie would otherwise keep streaming ops
data after its session ended. Each ops socket joins the group `ops.user.<id>`;
on logout we send that group an `ops.logout` event and the consumer closes.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

log = logging.getLogger(__name__)

# Close code sent to an ops socket whose user logged out (documented in docs/proof.md).
CLOSE_LOGGED_OUT = 4401


def user_group(user_id: int) -> str:
    return f"ops.user.{user_id}"


@receiver(user_logged_out, dispatch_uid="close-ops-sockets-on-logout")
def close_ops_sockets(sender, request, user, **kwargs) -> None:
    if user is None or user.pk is None:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group(user.pk), {"type": "ops.logout"})
    except Exception:  # the logout itself must succeed even if Redis is away
        log.warning("could not close the ops sockets of user %s", user.pk, exc_info=True)
