import pytest

from ragtune.evaluation.metrics import exact_match, normalize, rouge_l, token_f1


def test_normalize():
    assert normalize("The  Term, is 5 years!") == "term is 5 years"


def test_exact_match_and_f1_hand_computed():
    assert exact_match("Five years.", "five years") == 1.0
    # pred tokens: term is five years (4); ref: five years (2); common 2 -> P=0.5, R=1 -> F1=2/3
    assert token_f1("The term is five years", "five years") == pytest.approx(2 / 3)
    assert token_f1("", "") == 1.0 and token_f1("x", "") == 0.0


def test_rouge_l_hand_computed():
    # pred: a b c d (no articles) ; use words: "cat sat on mat" vs "cat on the mat" -> ref tokens cat on mat
    # LCS(cat sat on mat, cat on mat) = 3 ; P = 3/4, R = 3/3 -> F = 2*0.75/(1.75)
    assert rouge_l("cat sat on mat", "the cat on the mat") == pytest.approx(2 * 0.75 / 1.75)
    assert rouge_l("dog", "cat") == 0.0
