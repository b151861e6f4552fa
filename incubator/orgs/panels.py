"""The organisation dashboard's panels: each domain registers what its panel needs.

A provider is ``fn(session, org, membership) -> dict``; the dashboard merges every provider's dict into
the page. Domains append to ``PANEL_PROVIDERS`` when their pages are loaded (the app factory loads them
all), so the dashboard needs no import of any domain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PANEL_PROVIDERS: list[Callable[[Any, Any, Any], dict[str, Any]]] = []
