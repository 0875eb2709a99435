"""Robust parsing of small-model output: numbered lists, scores, JSON with repair."""

from __future__ import annotations

import json
import re
from typing import Any

_BULLET = re.compile(
    r"^\s*(?:(?:[-*\u2022]+|\(?\d{1,2}[.):]|[A-Za-z][.)]|Q\d*[:.]|(?:Sub-)?questions?\s*\d*[:.]|Query\s*\d*[:.]"
    r"|Rephrased\s*\d*[:.])\s*)+",
    re.IGNORECASE,
)


def parse_lines(text: str, limit: int, min_chars: int = 8) -> list[str]:
    """Items of a list the model wrote one per line (bullets and numbering removed), deduplicated."""
    out: list[str] = []
    for line in text.splitlines():
        item = _BULLET.sub("", line).strip().strip('"').strip()
        if len(item) >= min_chars and item.lower() not in {o.lower() for o in out}:
            out.append(item)
        if len(out) == limit:
            break
    return out


def parse_score(text: str, low: int = 0, high: int = 10) -> int | None:
    """The first integer in ``text`` within [low, high], else None."""
    for m in re.finditer(r"\d{1,3}", text):
        value = int(m.group())
        if low <= value <= high:
            return value
    return None


def parse_json(text: str) -> Any:
    """JSON from model output: strips code fences and prose around the outermost object or array, and
    repairs common faults (trailing commas, single quotes, unquoted keys, missing closing brackets).
    Raises ValueError when nothing parseable is left."""
    t = re.sub(r"```(?:json)?", "", text).strip()
    starts = [i for i in (t.find("{"), t.find("[")) if i >= 0]
    if not starts:
        raise ValueError("no JSON object or array in the output")
    t = t[min(starts):]
    for candidate in (t, _repair(t)):
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            pass
        end = max(candidate.rfind("}"), candidate.rfind("]"))
        if end > 0:
            try:
                return json.loads(candidate[: end + 1])
            except json.JSONDecodeError:
                pass
    raise ValueError("output is not valid JSON even after repair")


def _repair(t: str) -> str:
    t = re.sub(r",\s*([}\]])", r"\1", t)
    t = re.sub(r"(?<=[{,\s])'([^'\n]*)'\s*:", r'"\1":', t)
    t = re.sub(r":\s*'([^'\n]*)'", r': "\1"', t)
    t = re.sub(r"(?<=[{,])\s*([A-Za-z_][A-Za-z0-9_]*)\s*:", r'"\1":', t)
    stack = []
    in_str = False
    for i, ch in enumerate(t):
        if ch == '"' and (i == 0 or t[i - 1] != "\\"):
            in_str = not in_str
        elif not in_str and ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif not in_str and ch in "}]" and stack:
            stack.pop()
    if in_str:
        t += '"'
    return re.sub(r",\s*$", "", t) + "".join(reversed(stack))
