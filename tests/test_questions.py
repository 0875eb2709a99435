"""Benchmark question sets: formats, canonical hash, unanswerable questions, the demo set."""

import json

import pytest

from ragtune.demo import BENCH_QUESTIONS, CORPUS
from ragtune.errors import InputError
from ragtune.evaluation.questions import QuestionSet


def test_csv_and_jsonl_give_the_same_set_and_hash(tmp_path):
    csv_path = tmp_path / "qa.csv"
    csv_path.write_text('Question,Answer,contexts\nWhat is the term?,five years,"[""The term is five years.""]"\n'
                        "Cake recipe?,,\n", encoding="utf-8")
    rows = [{"question": "Cake recipe?", "answer": ""},
            {"question": "What is the term?", "answer": "five years", "contexts": ["The term is five years."]}]
    jsonl = tmp_path / "qa.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    a, b = QuestionSet.read(csv_path), QuestionSet.read(jsonl)
    assert a.sha256 == b.sha256  # row order and format do not matter
    term = a.questions[0]
    assert term.gold_contexts == ["The term is five years."] and not term.unanswerable
    assert a.questions[1].unanswerable and a.questions[1].answer == ""
    assert a.limit(1).sha256 != a.sha256
    rows[1]["answer"] = "5 years"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert QuestionSet.read(jsonl).sha256 != a.sha256


def test_bad_question_files_name_the_problem(tmp_path):
    bad = tmp_path / "qa.csv"
    bad.write_text("query,response\nx,y\n", encoding="utf-8")
    with pytest.raises(InputError, match="record 1 needs a non-empty 'question' and an 'answer'"):
        QuestionSet.read(bad)
    dup = tmp_path / "dup.csv"
    dup.write_text("question,answer\nq,a\nq,a\n", encoding="utf-8")
    with pytest.raises(InputError, match="repeats"):
        QuestionSet.read(dup)
    with pytest.raises(InputError, match="no such questions file"):
        QuestionSet.read(tmp_path / "missing.csv")
    txt = tmp_path / "qa.txt"
    txt.write_text("question,answer\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"\.csv, \.jsonl or \.json"):
        QuestionSet.read(txt)


def test_the_demo_question_set():
    qs = QuestionSet.read(BENCH_QUESTIONS)
    assert len(qs.questions) == 102 and sum(q.unanswerable for q in qs.questions) == 2
    assert all(q.answer for q in qs.questions if not q.unanswerable)
    labelled = [q for q in qs.questions if q.document]
    assert len(labelled) == 81 and all(q.gold_contexts for q in labelled)
    assert {q.document for q in labelled} == {p.name for p in CORPUS.glob("*.txt")}  # each asked of its contract


def test_default_questions_are_the_synth_test_split(new_project):
    from ragtune.datasets.io import dataset_dir
    from ragtune.evaluation.questions import load_questions

    with pytest.raises(InputError, match="ragtune data synth"):
        load_questions(new_project.workdir, new_project.store)
    folder = dataset_dir(new_project.workdir, "synth")
    folder.mkdir(parents=True)
    rows = [{"id": "qa-1", "question": "What is the term?", "answer": "five years", "type": "factual",
             "chunk_ids": [], "sources": []},
            {"id": "qa-2", "question": "Who won the cup?", "answer": "The documents do not contain the answer.",
             "type": "unanswerable", "chunk_ids": [], "sources": []}]
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    qs = load_questions(new_project.workdir, new_project.store)
    assert [q.id for q in qs.questions] == ["qa-1", "qa-2"] and qs.source == "synth dataset (test split)"
    assert [q.unanswerable for q in qs.questions] == [False, True]
