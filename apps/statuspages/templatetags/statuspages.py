"""{% status_pages_panel %}: the Wedding Day dashboard's list of weddings with a live page."""

from __future__ import annotations

from django import template

from apps.statuspages import console

register = template.Library()


@register.inclusion_tag("statuspages/_panel.html")
def status_pages_panel() -> dict:
    return {"rows": [r for r in console.board() if r["link"]["state"] == "live"]}
