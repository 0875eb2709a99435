"""Benchmark metrics and statistics on hand-computed cases."""

import pytest

from ragtune.evaluation.config import BenchConfig
from ragtune.evaluation.metrics import MetricEnv, Sample, build_metrics, metrics
from ragtune.evaluation.metrics.judge import calibrate, parse_grade
from ragtune.evaluation.stats import PairedTest, bootstrap_mean, holm, paired_test
from ragtune.registry import UnknownComponentError

FEE = "The monthly fee is twelve thousand dollars."
TERM = "The term is five years."
FEES = "Fees: twelve thousand dollars per month."


def score(name: str, sample: Sample, embedder=None) -> float | None:
    return metrics.get(name)(MetricEnv(BenchConfig(), embedder)).score(sample)


def test_text_metrics_strip_markers_and_score_refusals():
    s = Sample("How long?", "five years", "Five years [1].", answered=True)
    assert score("exact_match", s) == 1.0 and score("token_f1", s) == 1.0 and score("rouge_l", s) == 1.0
    refused = Sample("How long?", "five years", "The documents do not contain the answer.", answered=False)
    assert score("token_f1", refused) == 0.0
    # unanswerable: 1 for a refusal, 0 for any answer (SQuAD 2.0)
    assert score("token_f1", Sample("Cake recipe?", "", "No answer", answered=False, unanswerable=True)) == 1.0
    assert score("exact_match", Sample("Cake recipe?", "", "Flour", answered=True, unanswerable=True)) == 0.0


def test_faithfulness_and_citation_accuracy_hand_computed():
    # sentence 1: content words monthly fee twelve thousand dollars, all in passage 1 -> supported, cited right
    # sentence 2: fee rises ten percent yearly: 1/5 in the context -> unsupported; cites passage 2 (term) -> wrong
    answer = "The monthly fee is twelve thousand dollars [1]. The fee rises by ten percent yearly [2]."
    s = Sample("What is the fee?", "twelve thousand dollars", answer, True, contexts=[FEE, TERM])
    assert score("faithfulness", s) == pytest.approx(0.5)
    assert score("citation_accuracy", s) == pytest.approx(0.5)
    assert score("faithfulness", Sample("q", "r", "an answer", True, contexts=None)) is None
    assert score("citation_accuracy", Sample("q", "r", "no markers here", True, contexts=[FEE])) is None


def test_context_precision_and_recall_hand_computed():
    # evidence = the reference sentence; relevant passages at ranks 2 and 3 -> AP = (1/2 + 2/3) / 2
    s = Sample("What is the fee?", "twelve thousand dollars", "x", True, contexts=[TERM, FEE, FEES])
    assert score("context_precision", s) == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert score("context_recall", s) == 1.0
    # gold passages: the first is retrieved, the second (payment due date) is not -> recall 1/2
    gold = [FEE, "Payment is due on the first day of each month."]
    s = Sample("What is the fee?", "twelve thousand dollars", "x", True, contexts=[TERM, FEE], gold_contexts=gold)
    assert score("context_recall", s) == pytest.approx(0.5)
    assert score("context_precision", s) == pytest.approx(1 / 2)
    assert score("context_recall", Sample("q", "", "x", False, unanswerable=True, contexts=[FEE])) is None
    # a yes/no reference gives no lexical evidence to look for
    assert score("context_recall", Sample("q", "Yes", "x", True, contexts=[FEE])) is None


def test_correct_refusal():
    assert score("correct_refusal", Sample("q", "", "no", answered=False, unanswerable=True)) == 1.0
    assert score("correct_refusal", Sample("q", "", "cake", answered=True, unanswerable=True)) == 0.0
    assert score("correct_refusal", Sample("q", "a", "a", answered=True)) is None


def test_embedding_metrics_with_the_shipped_embedder(project):
    same = Sample("What is the term?", "five years", "five years", True)
    assert score("semantic_similarity", same, project.embedder) == pytest.approx(1.0, abs=1e-5)
    other = Sample("What is the term?", "five years", "bananas are yellow", True)
    assert score("semantic_similarity", other, project.embedder) < 0.5
    relevant = score("answer_relevancy", Sample("What is the term?", "", "The term is five years.", True),
                     project.embedder)
    unrelated = score("answer_relevancy", Sample("What is the term?", "", "Bananas are yellow.", True),
                      project.embedder)
    assert relevant > unrelated
    assert score("answer_relevancy", Sample("q", "a", "refused", False), project.embedder) is None


def test_judge_grades_parse_and_unknown_metrics():
    assert parse_grade("The answer is 5.") == 5
    assert parse_grade("1. The") == 1
    assert parse_grade("The answer is 50") is None and parse_grade("no idea") is None
    with pytest.raises(UnknownComponentError, match="exact_match"):
        build_metrics(["exact_match", "bleu"], MetricEnv(BenchConfig()))


def test_judge_calibration_needs_two_references_and_mode_on_skips_it():
    env = MetricEnv(BenchConfig())
    got = calibrate(env, [("What is the fee?", FEE), ("And the fee again?", FEE), ("Cake?", "")])
    assert not got["used"] and not env.judge_usable and "too few" in got["note"]
    assert score_with(env, Sample("What is the fee?", FEE, FEE, True)) is None  # not measured at all
    env = MetricEnv(BenchConfig(judge={"mode": "on"}))
    assert calibrate(env, []) == {"mode": "on", "used": True} and env.judge_usable


def score_with(env: MetricEnv, sample: Sample) -> float | None:
    return metrics.get("answer_correctness")(env).score(sample)


def test_bootstrap_is_deterministic_with_a_seed():
    values = [0.0, 0.2, 0.5, 0.9, 1.0, 0.4, 0.3]
    a = bootstrap_mean(values, seed=7, key="rag|token_f1")
    assert a == bootstrap_mean(values, seed=7, key="rag|token_f1")
    assert a.mean == pytest.approx(sum(values) / len(values)) and a.ci_low <= a.mean <= a.ci_high
    assert bootstrap_mean(values, seed=8, key="rag|token_f1").ci_low != a.ci_low or \
        bootstrap_mean(values, seed=8, key="rag|token_f1").ci_high != a.ci_high
    assert bootstrap_mean([], 0, "k").mean is None


def test_paired_permutation_test_and_holm():
    # every one of 8 differences is +1: only the 2 of 2^8 sign patterns with all-equal signs reach |mean| = 1
    t = paired_test("f1", "a", "b", [1.0] * 8, [0.0] * 8, seed=0, permutations=20000)
    assert t.diff == 1.0 and t.ci_low == t.ci_high == 1.0
    assert t.p_value == pytest.approx(2 / 256, abs=0.004)
    assert paired_test("f1", "a", "b", [0.5] * 4, [0.5] * 4, seed=0).p_value == 1.0
    tests = [PairedTest("m", "a", "b", 5, 0.1, 0, 0.2, p) for p in (0.01, 0.04, 0.03)]
    holm(tests, alpha=0.05)
    # sorted p 0.01, 0.03, 0.04 -> 3*0.01 = 0.03, max(0.03, 2*0.03) = 0.06, max(0.06, 1*0.04) = 0.06
    assert [t.p_holm for t in tests] == pytest.approx([0.03, 0.06, 0.06])
    assert [t.significant for t in tests] == [True, False, False]
