"""What the layout and accessibility tests ask of a page in the browser: axe-core's verdict (vendored,
injected, never downloaded) and whether anything makes the page scroll sideways."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SERIOUS = ("critical", "serious")

# The elements reaching past the viewport's right edge that are not inside a box scrolling on its own
# (a responsive table), the innermost ones: those to fix. When every one is inside such a box, one of
# them escapes its clipping (an absolutely positioned element whose containing block is outside the
# box): those are listed then.
OVERFLOW = """() => {
  const root = document.documentElement, width = root.clientWidth;
  if (root.scrollWidth <= width) return null;
  const scrolls = (el) => { for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return true; } return false; };
  const past = [...document.body.querySelectorAll('*')].filter((el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.right > width + 1;
  });
  const free = past.filter((el) => !scrolls(el));
  const wide = free.length ? free : past;
  const leaves = wide.filter((el) => !wide.some((other) => other !== el && el.contains(other)));
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  return {scrollWidth: root.scrollWidth, clientWidth: width,
          culprits: leaves.slice(0, 5).map((el) => `${name(el)} right=${Math.round(el.getBoundingClientRect().right)}`
            + ` "${(el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40)}"`)};
}"""


def axe_violations(page) -> list[str]:
    """axe-core's critical and serious violations on the page as it stands, one line per node."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    lines = []
    for violation in result["violations"]:
        if violation["impact"] in SERIOUS:
            for node in violation["nodes"][:5]:
                lines.append(f"{violation['id']} ({violation['impact']}): {' '.join(node['target'])} "
                             f"{node.get('failureSummary', '').splitlines()[-1].strip()[:160]}")
    return lines


def sideways(page) -> dict | None:
    """None when the page fits its viewport's width; otherwise the widths and the elements that overflow."""
    return page.evaluate(OVERFLOW)


ON_POSTGRES = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")

# The layout and accessibility checks read templates, CSS and scripts, which do not depend on the
# database: they run in `make test` (SQLite) and are not repeated by CI's PostgreSQL run.
ONCE_PER_CI = pytest.mark.skipif(
    ON_POSTGRES, reason="layout and accessibility do not depend on the database: checked in the SQLite run")

# The long walks (every page at 390 px, axe on the key pages) take their language from the database
# instead: Vietnamese (the default) on SQLite, English on PostgreSQL. CI runs the browser tests on both,
# so it walks each language once, for the time of one walk per run.
WALK_LANGUAGE, WALK_LOCALE = ("en", "en-GB") if ON_POSTGRES else ("vi", "vi-VN")
