"""Plain-text rendering of ``engine.summary`` for the ``flask --app spacematch match`` command."""

from __future__ import annotations

from typing import Any


def format_summary(summary: dict[str, Any]) -> str:
    """A few aligned lines: totals, the median best score, and unmatched needs per stadsdeel."""
    open_needs = summary["open_needs"]
    fit = summary["needs_with_fit"]
    share = f" ({fit / open_needs:.0%})" if open_needs else ""
    median = summary["median_best_score"]
    lines = [
        f"Open needs: {open_needs}; with at least one fit: {fit}{share}",
        f"Median best score: {median:.2f}"
        if median is not None
        else "Median best score: - (no fits)",
        f"Available properties: {summary['available_properties']}",
        "Unmatched needs per stadsdeel (unmatched / open):",
    ]
    per = summary["unmatched_by_stadsdeel"]
    width = max((len(v["name"]) for v in per.values()), default=0)
    for code, row in per.items():
        lines.append(f"  {code:<2} {row['name']:<{width}}  {row['unmatched']:>5} / {row['open']}")
    return "\n".join(lines)
