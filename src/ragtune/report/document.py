"""A report's content as sections of paragraphs, figures and tables, rendered to one self-contained HTML file
(figures inlined as base64 PNG) and to Markdown, so the two never differ."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from html import escape


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    collapsed: bool = False


CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #ddd; padding-bottom: .3em; }
h2 { margin-top: 2em; border-bottom: 1px solid #eee; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.88em; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 4px 0; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
code { background: #f3f3f3; padding: 1px 4px; border-radius: 3px; }
"""


def _html_table(t: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in t.header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in t.rows)
    caption = f"<caption>{escape(t.caption)}</caption>" if t.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(title: str, sections: list[Section], figures: dict[str, tuple[str, bytes]]) -> str:
    """``figures`` maps a key to (caption, PNG bytes)."""
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
             f"<style>{CSS}</style></head><body><h1>{escape(title)}</h1>"]
    for s in sections:
        inner = [f"<p>{escape(p)}</p>" for p in s.paragraphs]
        for key in s.figures:
            caption, png = figures[key]
            data = base64.b64encode(png).decode("ascii")
            inner.append(f"<figure><img id='plot-{key}' alt='{escape(caption)}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>{escape(caption)}</figcaption></figure>")
        inner.extend(_html_table(t) for t in s.tables)
        if s.collapsed:
            parts.append(f"<details><summary><h2 style='display:inline'>{escape(s.title)}</h2></summary>"
                         f"{''.join(inner)}</details>")
        else:
            parts.append(f"<section><h2>{escape(s.title)}</h2>{''.join(inner)}</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(title: str, sections: list[Section], figures: dict[str, tuple[str, bytes]]) -> str:
    lines = [f"# {title}", ""]
    for s in sections:
        lines += [f"## {s.title}", ""]
        for p in s.paragraphs:
            lines += [p, ""]
        for key in s.figures:
            lines += [f"*Plot: {figures[key][0]} (in report.html).*", ""]
        for t in s.tables:
            if t.caption:
                lines += [f"**{t.caption}**", ""]
            lines.append("| " + " | ".join(map(_md_cell, t.header)) + " |")
            lines.append("|" + "---|" * len(t.header))
            lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in t.rows]
            lines.append("")
    return "\n".join(lines)
