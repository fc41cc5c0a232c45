"""Placeholder replaced by the HTML trace page (being written)."""

from typing import Any


def render_trace_html(document: dict[str, Any]) -> str:
    raise NotImplementedError("the HTML trace page is being written")
