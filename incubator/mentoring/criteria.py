"""The criteria of the mentor matching and their default weights: what the forms, the API and the pages
name, without the solver (``matching`` and NumPy are loaded when a matching is scored)."""

from __future__ import annotations

CRITERIA = ("needs", "industry", "stage", "language", "availability", "feedback")
DEFAULT_WEIGHTS = {"needs": 40, "industry": 20, "stage": 10, "language": 10, "availability": 10, "feedback": 10}
