"""The closing arms table of ``bench`` and ``demo`` reads whole at 80 columns: nothing cut, nothing ellipsised; so does
``compare``'s result."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

import ragtune.cli.bench as cli_bench
import ragtune.cli.graph as cli_graph
import ragtune.cli.output as cli_output
from ragtune.report.format import usd_compact

# (label, token F1 mean, n correct, p50 latency, prompt/completion tokens, $ / query, $ / correct)
ARMS = [
    ("base", 0.1234, 0, 0.42, (61.0, 48.0), 1e-7, None),
    ("rag", 0.4567, 9, 1.87, (812.0, 45.0), 0.0123, 0.0273),
    ("rag-advanced:extract+generate", 0.5021, 11, 12.34, (1534.0, 256.0), 12.5, 22.7),
    ("rag+sft:extract+generate", 0.6789, 14, 123.4, (2048.0, 31.0), 0.0004, 0.00057),
    ("rag:decompose:generate", None, 0, None, (None, None), None, None),
]


def metric(mean: float | None) -> dict:
    if mean is None:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    return {"mean": mean, "ci_low": max(mean - 0.061, 0.0), "ci_high": min(mean + 0.058, 1.0), "n": 20}


def results() -> dict:
    """The part of `run_bench`'s results that the table reads."""
    arms = [{"name": name, "n_questions": 20, "metrics": {"token_f1": metric(f1), "rouge_l": metric(f1 and f1 - 0.1)},
             "n_correct": n_correct, "latency_s_p50": p50, "latency_s_p95": p50 and 2 * p50,
             "tokens": {"prompt_mean": tokens[0], "completion_mean": tokens[1]},
             "cost_per_query_usd": per_query, "cost_per_correct_usd": per_correct}
            for name, f1, n_correct, p50, tokens, per_query, per_correct in ARMS]
    return {"test_set_sha256": "ab" * 32, "n_questions": 20, "arms": arms,
            "config": {"primary_metric": "token_f1", "correct_threshold": 0.5}}


def render(monkeypatch: pytest.MonkeyPatch, metrics: list[str] | None) -> list[str]:
    console = Console(width=80, record=True, file=io.StringIO())
    monkeypatch.setattr(cli_output, "out", console)
    monkeypatch.setattr(cli_bench, "out", console)
    cli_bench.print_arms(results(), metrics)
    return console.export_text().splitlines()


@pytest.mark.parametrize("metrics", [None, ["token_f1", "rouge_l"]], ids=["bench", "demo"])
def test_arms_table_fits_80_columns_whole(monkeypatch: pytest.MonkeyPatch, metrics: list[str] | None) -> None:
    lines = render(monkeypatch, metrics)
    text = "\n".join(lines)
    assert lines and all(len(line) <= 80 for line in lines), text
    assert "…" not in text and "..." not in text
    # a wrapped label continues in the first column of the next lines: join that column over the body
    body = lines[next(i for i, line in enumerate(lines) if set(line.strip()) == {"─"}) + 1:]
    arm_column = "".join(line.split(" ")[0] for line in body)
    for name, f1, *_ in ARMS:
        assert name in arm_column, text
        if f1 is not None:
            assert f"{f1:.3f}" in text
            if metrics:
                assert f"{f1 - 0.1:.3f}" in text
    for cost in ("$1e-4", "$12.3", "$12.5k", "$22.7k", "$0.4", "$0.57", "n/a"):
        assert cost in text, cost
    assert "$per1,000queries" in "".join(text.split())


def test_usd_compact_is_short_at_every_scale() -> None:
    cases = {0: "$0", 1e-7: "$1e-7", 1.23e-4: "$1.2e-4", 0.00123: "$0.0012", 0.0123: "$0.0123", 0.5: "$0.5",
             12.5: "$12.5", 1250: "$1,250", 12_500: "$12.5k", 3.4e6: "$3.4M", None: "n/a"}
    for x, text in cases.items():
        assert usd_compact(x) == text and len(text) <= 7


SUMMARIES = [  # (document, summary, key terms)
    ("Widget Supply Agreement", "This Agreement is governed by the laws of the State of Delaware, without regard to "
     "its conflict of laws principles [1].", ["governing law: Delaware"]),
    ("Master Services Agreement", "This Agreement shall be governed by the laws of the State of New York, and the "
     "courts of New York County have exclusive jurisdiction over any dispute arising under it [1].",
     ["governing law: New York", "jurisdiction: New York County"]),
]


def comparison():
    from ragtune.generation.citations import Citation
    from ragtune.generation.compare import Comparison, DocumentRow

    rows = [DocumentRow(n, f"docs/{title}.txt", title, summary, "extract",
                        [Citation(1, f"docs/{title}.txt", None, f"{n}f3a9c2e7d1b04a6e")], terms, [])
            for n, (title, summary, terms) in enumerate(SUMMARIES, start=1)]
    return Comparison("governing law", rows, "Row 1 is governed by Delaware law [1]; row 2 by New York law [2].",
                      "template", [1, 2], {"prompt_tokens": 0, "completion_tokens": 0}, 1.2, 0.0, None, "default",
                      "extract")


@pytest.mark.parametrize("width", [80, 160])
def test_compare_reads_whole_at_any_width(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    console = Console(width=width, record=True, file=io.StringIO())
    monkeypatch.setattr(cli_graph, "out", console)
    cli_graph.print_comparison(comparison())
    lines = console.export_text().splitlines()
    text = "\n".join(lines)
    assert all(len(line) <= width for line in lines), text
    flowing = " ".join(" ".join(line.strip(" │|") for line in lines).split())
    for title, summary, terms in SUMMARIES:
        assert title in flowing and all(t in text for t in terms), text
        if width == 80:  # a summary reads as a paragraph, not as a column a few words wide
            assert summary in flowing, text
    if width == 80:
        assert len(lines) <= 20, text
    assert "Row 1 is governed by Delaware law [1]; row 2 by New York law [2]." in flowing
