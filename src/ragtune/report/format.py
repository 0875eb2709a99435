"""Number formats shared by every table and sentence of a report, so text and tables show the same values."""

from __future__ import annotations


def usd(x: float | None) -> str:
    if x is None:
        return "n/a"
    if abs(x) >= 100:
        return f"${x:,.0f}"
    if abs(x) >= 1:
        return f"${x:,.2f}"
    return f"${x:.3g}" if x else "$0"


def num(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def volume(x: float) -> str:
    return f"{x:,.0f}"


def seconds(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f} s"


def interval(m: dict) -> str:
    """``mean [low, high]`` of a bootstrap interval dict, or n/a."""
    if m.get("mean") is None:
        return "n/a"
    return f"{num(m['mean'])} [{num(m['ci_low'])}, {num(m['ci_high'])}]"


def p_value(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.3g}"
