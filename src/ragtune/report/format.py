"""Number formats shared by every table and sentence of a report, so text and tables show the same values."""

from __future__ import annotations

from ragtune.evaluation.stats import TINY


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


def questions(n: int | None) -> str:
    """A number of questions needed, an estimate: rounded to 2 significant digits from 100 up (873 -> 870)."""
    if n is None:
        return "n/a"
    return f"{round(n, 2 - len(str(n))):,}" if n >= 100 else str(n)


def needed(t: dict) -> str:
    """What separating the arms of a paired test that is not significant would take, in words."""
    n_needed = t.get("n_needed")
    if n_needed is not None and n_needed > t["n"]:
        return f"about {questions(n_needed)} questions would be needed"
    if n_needed is not None:
        return "the difference is near the smallest detectable; more questions would settle it"
    if t["diff"] is not None and abs(t["diff"]) < TINY:
        return "no difference observed"
    return "no estimate of the questions needed"


# Compact forms for the terminal's arms table, which must fit 80 columns without cutting anything.

def num_compact(x: float | None) -> str:
    """Two decimals without the leading zero: 0.36 -> .36, -0.05 -> -.05, 1.0 -> 1.00."""
    if x is None:
        return "n/a"
    s = f"{x:.2f}"
    return s.replace("0.", ".", 1) if s.lstrip("-").startswith("0.") else s


def interval_compact(m: dict, sep: str = " ") -> str:
    """``0.412 [.36,.46]``: the mean as in the report, then the interval in two decimals; ``sep`` between them."""
    if m.get("mean") is None:
        return "n/a"
    return f"{num(m['mean'])}{sep}[{num_compact(m['ci_low'])},{num_compact(m['ci_high'])}]"


def usd_compact(x: float | None) -> str:
    """Dollars in at most 7 characters: $0, $1e-7, $1.2e-4, $0.0012, $0.0123, $12.5, $1,250, $12.5k, $3.4M."""
    if x is None:
        return "n/a"
    a = abs(x)
    if a == 0:
        return "$0"
    if a >= 999_500:
        return f"${x / 1e6:.3g}M"
    if a >= 9_999.5:
        return f"${x / 1e3:.3g}k"
    if a >= 99.95:
        return f"${x:,.0f}"
    if a >= 0.01:
        return f"${x:.3g}"
    if a >= 0.001:
        return f"${x:.2g}"
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"${mantissa.removesuffix('.0')}e{int(exponent)}"


def seconds_compact(x: float | None) -> str:
    """Seconds in at most 5 characters: 0.62s, 12.3s, 123s."""
    if x is None:
        return "n/a"
    return f"{x:.2f}s" if x < 9.995 else f"{x:.1f}s" if x < 99.95 else f"{x:.0f}s"
