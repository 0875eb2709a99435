"""The cost model on a hand-computed scenario, price-sheet presets, and advise/report on fixed results."""

import json
from pathlib import Path

import pytest

from ragtune.errors import ConfigError
from ragtune.evaluation.bench import bench_dir
from ragtune.evaluation.config import BenchConfig
from ragtune.evaluation.cost import PRESETS, ArmUsage, CostModel, Deployment, PriceSheet, break_even, load_price_sheet
from ragtune.report.advise import advise
from ragtune.report.analysis import analyse

SHEET = PriceSheet.model_validate({
    "name": "hand",
    "models": {"default": {"hourly_usd": 1.0}, "api": {"input_per_mtok": 0.15, "output_per_mtok": 0.60},
               "gpu": {"hourly_usd": 3.6, "prompt_tokens_per_s": 1000, "completion_tokens_per_s": 100}},
    "embedding": {"per_mtok_usd": 0.02, "hourly_usd": 0.36, "tokens_per_s": 1000},
    "vector_store": {"monthly_usd": 20.0},
    "training": {"hourly_usd": 3.0},
    "labelling": {"per_item_usd": 0.5, "review_share": 0.1},
})
DEPLOYMENT = Deployment(corpus_tokens=1_000_000, embedding_tokens_per_s=None)


def usage(name, retrieves=False, fine_tuned=False, llm_s=1.8, latency_s=None, accuracy=0.5, price_key="fast",
          prompt_tokens=500, completion_tokens=50, **training):
    return ArmUsage(name, price_key, retrieves, fine_tuned, prompt_tokens, completion_tokens,
                    latency_s if latency_s is not None else llm_s, llm_s, 0.0, accuracy, **training)


RAG = usage("rag", retrieves=True, llm_s=3.6, latency_s=4.6)
SFT = usage("sft", fine_tuned=True, llm_s=1.8, training_hours=2.0, training_examples=400)


def test_cost_per_query_hand_computed():
    model = CostModel(SHEET, DEPLOYMENT)
    rag = model.arm(RAG, "monthly")
    # generation: 1 $/h x 3.6 s = $0.001; retrieval: 0.36 $/h x (4.6 - 3.6) s = $0.0001
    assert rag.generation_usd == pytest.approx(0.001) and rag.retrieval_usd == pytest.approx(0.0001)
    assert rag.cost_per_query_usd == pytest.approx(0.0011)
    assert rag.cost_per_correct_usd == pytest.approx(0.0022)  # accuracy 0.5
    # re-index 1M tokens: 0.02 $/Mtok + 0.36 $/h x 1000 s = 0.02 + 0.1; fixed = store 20 + 1 change x 0.12
    assert rag.refresh_usd == pytest.approx(0.12) and rag.fixed_monthly_usd == pytest.approx(20.12)
    sft = model.arm(SFT, "monthly")
    # retrain: 2 h x 3 $/h + 0.5 $ x 10% x 400 examples = 6 + 20
    assert sft.cost_per_query_usd == pytest.approx(0.0005) and sft.refresh_usd == pytest.approx(26.0)
    assert model.arm(SFT, "quarterly").fixed_monthly_usd == pytest.approx(26 / 3)
    # API tokens: (1000 x 0.15 + 100 x 0.60) / 1e6; GPU throughput: 1000/1000 + 100/100 = 2 s x 3.6 $/h
    api = usage("api", price_key="api", prompt_tokens=1000, completion_tokens=100)
    assert model.arm(api, "never").cost_per_query_usd == pytest.approx(0.00021)
    gpu = usage("gpu", price_key="gpu", prompt_tokens=1000, completion_tokens=100, llm_s=99.0)
    assert model.arm(gpu, "never").cost_per_query_usd == pytest.approx(0.002)


def test_break_even_volume_hand_computed():
    model = CostModel(SHEET, DEPLOYMENT)
    rag, sft = model.arm(RAG, "monthly"), model.arm(SFT, "monthly")
    # 20.12 + 0.0011 V = 26 + 0.0005 V  ->  V = 5.88 / 0.0006 = 9800 queries a month
    assert break_even(rag, sft) == pytest.approx(9800)
    assert rag.tco(9800) == pytest.approx(sft.tco(9800))
    # retraining quarterly, sft has both the lower fixed and per-query cost: cheaper at every volume
    assert break_even(model.arm(RAG, "quarterly"), model.arm(SFT, "quarterly")) is None


def test_presets_load_and_bad_sheets_are_config_errors(tmp_path):
    for name in PRESETS:
        sheet = load_price_sheet(name)
        assert sheet.name == name and "default" in sheet.models and sheet.sources
    bad = tmp_path / "prices.yaml"
    bad.write_text("name: x\nmodels: {fast: {hourly_usd: 1}}\n")
    with pytest.raises(ConfigError, match="default"):
        load_price_sheet(str(bad))
    with pytest.raises(ConfigError, match="laptop-cpu"):
        load_price_sheet("no-such-sheet", tmp_path)


def metric(mean, n=20):
    if mean is None:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    return {"mean": mean, "ci_low": mean - 0.05, "ci_high": mean + 0.05, "n": n}


def fixed_results(arms: dict[str, tuple[ArmUsage, float]], comparisons=()) -> dict:
    """Results in the shape `run_bench` writes, for arms given as (usage, token F1)."""
    cfg = BenchConfig(metrics=["exact_match", "token_f1", "faithfulness", "citation_accuracy"])
    out = []
    for name, (u, f1) in arms.items():
        u.name = name
        out.append({"name": name, "kind": name.split(":")[0], "model": "fast", "retrieves": u.retrieves,
                    "fine_tuned": u.fine_tuned, "n_questions": 20,
                    "metrics": {"exact_match": metric(f1 / 2), "token_f1": metric(f1),
                                "faithfulness": metric(0.8) if u.retrieves else metric(None),
                                "citation_accuracy": metric(0.9) if u.retrieves else metric(None)},
                    "accuracy": metric(u.accuracy), "n_correct": int(20 * u.accuracy),
                    "latency_s_p50": u.latency_s, "latency_s_p95": 2 * u.latency_s,
                    "tokens": {"prompt_mean": u.prompt_tokens, "completion_mean": u.completion_tokens},
                    "cost_per_query_usd": 0.0, "cost_per_correct_usd": None, "usage": u.__dict__,
                    "judge_calls": {"n": 0, "ungraded": 0}})
    return {"test_set_sha256": "ab" * 32, "n_questions": 20, "questions_source": "qa.csv", "seed": 0,
            "config": cfg.model_dump(mode="json"), "price_sheet": SHEET.model_dump(mode="json"),
            "deployment": DEPLOYMENT.__dict__, "arms": out, "comparisons": list(comparisons),
            "per_question": [], "run": "fixed", "leakage": {"checked": True}, "judge": {"model": "fast",
                                                                                      "backend": "llama_cpp"}}


def test_advise_picks_the_cheapest_arm_that_reaches_the_target():
    results = fixed_results({"base": (usage("base", llm_s=1.0, accuracy=0.1), 0.2), "rag": (RAG, 0.65),
                             "sft": (SFT, 0.62)})
    # documents rarely change: both reach 0.6; at 50,000 queries sft (26/12 + 25) beats rag (20.01 + 55)
    a = advise(analyse(results, 50_000, "yearly"), target=0.6)
    assert a.recommended == "sft" and a.meets_target
    assert "rag also reaches the target" in " ".join(a.reasons)
    # monthly changes: only arms that retrieve stay current, so rag is chosen and the reason says why
    a = advise(analyse(results, 50_000, "monthly"), target=0.6)
    assert a.recommended == "rag" and "only arms that retrieve are eligible" in a.reasons[0]
    assert "citation accuracy 0.900" in " ".join(a.trade_offs)
    # nobody reaches 0.9: the closest arm, with ways to close the gap
    a = advise(analyse(results, 50_000, "monthly"), target=0.9)
    assert a.recommended == "rag" and not a.meets_target and a.headline.startswith("No arm reaches")
    assert "--arms rag+sft" in a.reasons[0]


def test_report_text_matches_its_tables(new_project):
    from ragtune.report import write_report

    rag_sft = usage("rag+sft", retrieves=True, fine_tuned=True, llm_s=3.0, latency_s=4.0, accuracy=0.7,
                    training_hours=2.0, training_examples=400)
    test = {"metric": "token_f1", "a": "rag+sft", "b": "rag", "n": 20, "diff": 0.1, "ci_low": 0.02,
            "ci_high": 0.18, "p_value": 0.01, "p_holm": 0.02, "significant": True}
    results = fixed_results({"base": (usage("base", llm_s=1.0, accuracy=0.1), 0.2), "rag": (RAG, 0.65),
                             "sft": (SFT, 0.62), "rag+sft": (rag_sft, 0.75)}, [test])
    run = bench_dir(new_project.workdir) / "fixed"
    run.mkdir(parents=True)
    (run / "results.json").write_text(json.dumps(results))
    paths = write_report(new_project.workdir, queries_per_month=50_000, data_changes="monthly")
    md = Path(paths["markdown"]).read_text()
    report = json.loads(Path(paths["json"]).read_text())
    # every break-even sentence names a volume that is in the break-even table
    evens = report["analysis"]["break_even"]
    assert evens
    for e in evens:
        sentence = f"{e['cheaper_below']} is cheaper below {e['volume']:,.0f} queries a month"
        assert sentence in md and f"| {e['volume']:,.0f} |" in md
    assert "rag+sft vs rag: +0.100 [+0.020, +0.180]" in md
    html = Path(paths["html"]).read_text()
    assert html.count("data:image/png;base64,") == 5 and "<script" not in html
    csv_lines = Path(paths["arms_csv"]).read_text().splitlines()
    assert csv_lines[0].startswith("arm,model") and len(csv_lines) == 5


def comparison(a: str, b: str, diff: float, significant: bool, n_needed: int | None = None,
               mdd: float = 0.09) -> dict:
    """A token F1 paired test in the shape `run_bench` writes."""
    return {"metric": "token_f1", "a": a, "b": b, "n": 20, "diff": diff, "ci_low": diff - 0.1,
            "ci_high": diff + 0.1, "p_value": 0.001 if significant else 0.4, "p_holm": 0.003 if significant else 0.6,
            "significant": significant, "mdd": mdd, "n_needed": n_needed, "power": 0.95 if significant else 0.1}


def three_arms(rag_vs_sft_significant: bool) -> dict:
    """rag 0.45 and sft 0.42, both significantly better than base; rag vs sft as given."""
    return fixed_results({"base": (usage("base", llm_s=1.0, accuracy=0.1), 0.2), "rag": (RAG, 0.45),
                          "sft": (SFT, 0.42)},
                         [comparison("rag", "base", 0.25, True, mdd=0.08),
                          comparison("rag", "sft", 0.03, rag_vs_sft_significant, None if rag_vs_sft_significant
                                     else 900),
                          comparison("base", "sft", -0.22, True, mdd=0.1)])


def test_advise_does_not_rank_arms_it_cannot_separate():
    # yearly changes at 50,000 queries: rag $75.01 a month, sft $27.17; nobody reaches 0.6
    a = advise(analyse(three_arms(False), 50_000, "yearly"), target=0.6)
    assert a.recommended == "sft" and a.tied == ["rag", "sft"]  # the cheaper of the tied arms, not the higher mean
    assert "quality does not separate it from sft; among these tied arms sft costs the least" in a.headline
    assert ("Quality did not separate rag (the highest mean token_f1, 0.450) from sft (0.420, Holm-adjusted p 0.6; "
            "about 900 questions would be needed) on 20 questions: they are tied") in a.reasons[0]
    # when the test separates them, the closest arm is the one with the higher mean, as before
    a = advise(analyse(three_arms(True), 50_000, "yearly"), target=0.6)
    assert a.recommended == "rag" and a.tied == [] and a.headline.startswith("No arm reaches token_f1 0.60. The "
                                                                             "closest is rag")
    # both reach 0.4: cost decides, and the headline says that quality did not
    a = advise(analyse(three_arms(False), 50_000, "yearly"), target=0.4)
    assert a.recommended == "sft"
    assert a.headline.endswith("Quality does not separate it from rag (0.450), so cost decides between them.")
    assert ("rag also reaches the target (0.450) but costs $75.01 a month; its higher mean is not a separable "
            "difference (about 900 questions would be needed).") in a.reasons
    # only rag reaches 0.44 on its mean; the cheaper sft is tied with it, and advise says so
    a = advise(analyse(three_arms(False), 50_000, "yearly"), target=0.44)
    assert a.recommended == "rag"
    assert "sft misses the target on its mean (0.420) but is tied with rag and costs $27.17 a month" in " ".join(
        a.reasons)


def test_report_leads_with_what_the_benchmark_can_separate():
    from ragtune.report.document import to_html, to_markdown
    from ragtune.report.findings import power_line
    from ragtune.report.writer import build_sections

    an = analyse(three_arms(False), 50_000, "yearly")
    line = power_line(an)
    assert line == ("With 20 questions this benchmark can detect token_f1 differences of 0.080 to 0.100 (depending on "
                    "the pair) or more (80% power, alpha 0.05); rag vs base: +0.250 (Holm p = 0.003); sft vs base: "
                    "+0.220 (Holm p = 0.003); rag vs sft: +0.030, not separable, about 900 questions would be needed.")
    sections = build_sections(an, advise(an, 0.6))
    assert sections[0].title == "Summary" and sections[0].paragraphs[0] == line
    assert sections[1].title == "What this benchmark can tell apart (token_f1)"
    table = sections[1].tables[0]
    # significant differences first, each as the higher mean minus the other; questions needed where not separable
    assert [row[1] for row in table.rows] == ["rag - base", "sft - base", "rag - sft"]
    assert table.rows[1][3:] == ["+0.220 [+0.120, +0.320]", "0.001", "0.003", "yes", "0.100", "95%", "-"]
    assert table.rows[2][-4:] == ["no", "0.090", "10%", "900"]
    figures = {k: (k, b"png") for s in sections for k in s.figures}
    md, html = to_markdown("t", sections, figures), to_html("t", sections, figures)
    assert line in md and md.index(line) < md.index("## Recommendation")
    assert line in html and html.index(line) < html.index("Recommendation (")


def test_advise_names_which_tuning_paid():
    """sft is significantly better than base; rag+tuned:extract is not separated from rag:extract: one paid, with
    its cost, and when neither does advise says so plainly."""
    tuned = usage("rag+tuned:extract", retrieves=True, fine_tuned=True, llm_s=0.0, latency_s=0.4, accuracy=0.6,
                  training_hours=0.01, training_examples=84)
    arms = {"base": (usage("base", llm_s=1.0, accuracy=0.1), 0.2), "sft": (SFT, 0.42),
            "rag:extract": (usage("rag:extract", retrieves=True, llm_s=0.0, latency_s=0.4), 0.5),
            "rag+tuned:extract": (tuned, 0.53)}
    sft_paid = comparison("base", "sft", -0.22, True)
    reader = comparison("rag+tuned:extract", "rag:extract", 0.03, False, 900)
    a = advise(analyse(fixed_results(arms, [sft_paid, reader]), 50_000, "yearly"), target=0.6)
    assert [(t["tuned"], t["untuned"], t["paid"]) for t in a.tuning] == [
        ("sft", "base", True), ("rag+tuned:extract", "rag:extract", False)]
    assert a.tuning[0]["diff"] == pytest.approx(0.22) and a.tuning[0]["ci_low"] == pytest.approx(0.12)
    assert a.tuning_text.startswith("Tuning paid for sft; not for rag+tuned:extract. sft vs base: +0.220 token_f1 "
                                    "(95% CI +0.120 to +0.320, p 0.001, Holm-adjusted 0.003; 20 questions) for "
                                    "2.00 h of training, 400 examples, ")
    assert "rag+tuned:extract vs rag:extract: +0.030 token_f1" in a.tuning_text and "36 s of training, 84 " \
        "examples" in a.tuning_text and a.tuning_text == a.paragraphs[-1]
    none_paid = advise(analyse(fixed_results(arms, [comparison("base", "sft", -0.02, False), reader]), 50_000,
                              "yearly"), target=0.6)
    assert none_paid.tuning_text.startswith("No tuning paid on this test set: no tuned arm is significantly better "
                                            "than its untuned counterpart. sft vs base: +0.020")
    assert advise(analyse(three_arms(True), 50_000, "yearly"), target=0.6).tuning[0]["tuned"] == "sft"
    assert advise(analyse(fixed_results({"rag": (RAG, 0.6)}), 50_000, "yearly"), 0.5).tuning_text == ""
