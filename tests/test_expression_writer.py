"""The expression writer of extract+compute (answer.expressions) and its LoRA SFT (`ragtune tune expressions`):
an expression that names an operand not offered or calls a function outside the evaluator's is refused, never
guessed; a computed answer cites every operand it uses; the SFT command registers a version and the gate decides.
The LLM is the shipped fast profile; the strategy tests that need a given reply wrap it."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragtune.cli.main import app
from ragtune.documents.models import Chunk
from ragtune.generation.arithmetic import ExpressionError
from ragtune.generation.config import AnswerConfig
from ragtune.generation.expressions import ExpressionsConfig, ExpressionWriter, check
from ragtune.generation.prompts import NO_ANSWER
from ragtune.generation.strategies import strategies
from ragtune.generation.strategies.selection import SentenceSelector
from ragtune.llm import Generation
from ragtune.packs import make_pack

INCOME = ("Consolidated Statements of Operations (in millions) | Total revenues | 2022: 1,240 | 2021: 987\n"
          "Consolidated Statements of Operations (in millions) | Net income | 2022: 210 | 2021: 150\n")
GROWTH = "What is the FY2021 - FY2022 total revenue growth rate for Acme?"
RATIO = "What is Acme's FY2022 ratio of net income to revenue?"  # no rule formula: the writer's


class Replying:
    """The fast LLM, except that ``generate`` returns ``reply`` (to test what the strategy does with a reply)."""

    def __init__(self, llm, reply: str) -> None:
        self.llm, self.reply = llm, reply

    def generate(self, messages, on_token=None, **options) -> Generation:
        gen = self.llm.generate(messages, **options | {"max_tokens": 4})
        return Generation(self.reply, gen.prompt_tokens, len(self.reply.split()), gen.latency_s, gen.model)


def chunk(n: int, text: str) -> Chunk:
    return Chunk(f"c{n}", "ACME_2022_10K.pdf", text, 0, len(text), n, 50)


@pytest.fixture(scope="module")
def make(project):
    config = AnswerConfig(strategy="extract+compute", pack="finance", expressions=ExpressionsConfig(writer="llm"))
    selector, pack = SentenceSelector(config, project.embedder), make_pack("finance")

    def strategy(llm):
        return strategies.get("extract+compute")(config, llm, selector, pack=pack,
                                                 writer=ExpressionWriter(config.expressions, llm))

    return strategy


@pytest.mark.parametrize("reply", ["a / z", "log(a) / b", "a.real / b", "__import__('os')", "a / b; b", "1240 / 987",
                                   "The ratio is high."])
def test_an_expression_outside_the_offered_names_and_arithmetic_is_refused(reply):
    with pytest.raises(ExpressionError):
        check(reply, {"a": 210.0, "b": 1240.0})


def test_checked_expressions_are_evaluated_over_the_offered_values():
    assert check("```\nExpression: a / b\n```", {"a": 210.0, "b": 1240.0}) == ("a / b", 210 / 1240)
    assert check("avg(a, b)", {"a": 1.0, "b": 3.0})[1] == 2.0


def test_the_writer_is_refused_when_its_expression_does_not_check(make, project):
    traces = []
    text = make(Replying(project.llm, "a / c")).respond(RATIO, [chunk(1, INCOME)], traces)
    assert text.startswith(NO_ANSWER) and "cannot be computed: 'a / c' names c, not an operand offered (a, b)" in text
    assert [t.stage for t in traces] == ["expression"] and traces[0].details["wrote"] == "a / c"
    text = make(Replying(project.llm, "sqrt(a)")).respond(RATIO, [chunk(1, INCOME)], [])
    assert "cannot be computed" in text and "not allowed" in text


def test_a_written_answer_cites_every_operand_it_uses(make, project):
    strategy = make(Replying(project.llm, "a / b"))
    text = strategy.respond(RATIO, [chunk(1, "Prose about the year."), chunk(2, INCOME)], [])
    assert text.startswith("0.17 [2].")
    assert "net income FY2022 = Net income, 2022: 210 million [2]" in text
    assert "revenue FY2022 = Total revenues, 2022: 1,240 million [2]" in text
    assert "= net income FY2022 / revenue FY2022" in text


def test_the_rules_formula_is_kept_unless_the_writer_always_writes(make, project):
    rules = make(Replying(project.llm, "b / a * 100"))
    assert rules.respond(GROWTH, [chunk(1, INCOME)], []).startswith("25.6% [1].")  # the rule's formula, no LLM
    rules.writer.config = ExpressionsConfig(writer="llm", when="always")
    assert rules.respond(GROWTH, [chunk(1, INCOME)], []).startswith("125.6% [1]")  # the writer's expression


def test_the_real_writer_answers_or_refuses_but_never_guesses(make, project):
    text = make(project.llm).respond(RATIO, [chunk(1, INCOME)], traces := [])
    assert traces[0].stage == "expression" and traces[0].completion_tokens > 0
    wrote = traces[0].details["wrote"]
    try:
        expression, _ = check(wrote, {"a": 210e6, "b": 1240e6})
    except ExpressionError:
        assert text.startswith(NO_ANSWER) and "cannot be computed" in text
    else:
        assert not text.startswith(NO_ANSWER) and "[1]" in text, (wrote, text)


TABLE = """# {name} annual report

| | 2022 | 2021 | 2020 |
|---|---|---|---|
| Total revenues | {r1:,} | {r2:,} | {r3:,} |
| Net income | {n1:,} | {n2:,} | {n3:,} |
| Operating income | {o1:,} | {o2:,} | {o3:,} |
| Total current assets | {c1:,} | {c2:,} | {c3:,} |
"""


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """A finance project of four small reports with tables, and `tune expressions --json` run once, briefly."""
    from ragtune import Project

    root = tmp_path_factory.mktemp("expressions")
    (root / "docs").mkdir()
    for k, name in enumerate(["Acme", "Birch", "Cobalt", "Dune"]):
        v = {f"{c}{i}": (k + 2) * base * (4 - i) for c, base in zip("rnoc", (500, 60, 90, 300), strict=True)
             for i in (1, 2, 3)}
        (root / "docs" / f"{name}.md").write_text(TABLE.format(name=name, **v))
    proj = Project.init(root / "p", domain="finance")
    proj.ingest([root / "docs"])
    proj.close()
    result = CliRunner().invoke(app, ["tune", "expressions", "-p", str(root / "p"), "--max-steps", "2",
                                      "--per-document", "6", "--test-examples", "3", "--batch-size", "4",
                                      "--max-tokens", "12", "--json"])
    assert result.exit_code == 0, result.output
    return root / "p", json.loads(result.output)


def test_tune_expressions_registers_a_version_and_the_gate_decides(tuned):
    from ragtune import Project

    root, result = tuned
    version, gate = result["version"], result["gate"]
    assert version["kind"] == "expressions" and result["train"]["steps"] == 2
    assert result["examples"]["test"] == 3 and result["examples"]["held_out_documents"] >= 1
    assert gate["n"] == 3 and gate["metric"] == "expression_right"
    assert version["status"] == ("champion" if gate["promote"] else "rejected") and result["decision"] in (
        "promoted", "rejected")
    proj = Project(Path(root))
    assert proj.registry.folder(version["id"]).joinpath("adapter.gguf").is_file()
    assert proj.registry.get(version["id"]).metrics["gate"] == gate
    proj.config.answer.expressions = ExpressionsConfig(writer="llm", model=version["id"])
    writer = proj.expression_writer()
    assert writer.llm.config.lora_path and writer.llm.config.lora_path.endswith("adapter.gguf")
    proj.close()


def test_tune_expressions_needs_table_rows(new_project):
    result = CliRunner().invoke(app, ["tune", "expressions", "-p", str(new_project.root)])
    assert result.exit_code != 0 and "at least 2 documents" in result.output
