"""The feedback store on a real SQLite file: every feedback kind, exports, imports, schema versions, concurrency."""

import json
import multiprocessing
import sqlite3
import threading
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from ragtune.cli.main import app
from ragtune.datasets.exports import export_feedback, feedback_dataset
from ragtune.errors import ConfigError, InputError
from ragtune.feedback import schema as fbmod
from ragtune.feedback.records import Edit, Preference, Ranking, Rating
from ragtune.feedback.store import FeedbackStore

Q = "What is the term of the agreement?"
CONTEXT = [{"chunk_id": "c1", "source": "contract.pdf", "page": 2, "text": "The term is five (5) years.",
            "score": 0.4}]


def user(text):
    return [{"role": "user", "content": text}]


def bot(text):
    return [{"role": "assistant", "content": text}]


@pytest.fixture
def store(tmp_path):
    s = FeedbackStore(tmp_path / "feedback.db")
    yield s
    s.close()


@pytest.fixture
def three(store):
    """Three answers to Q and one to another question."""
    ids = [store.record_answer(Q, text, CONTEXT, model="fast", pipeline="hybrid")
           for text in ("Five years [1].", "Ten years.", "One year.")]
    other = store.record_answer("Who are the parties?", "Acme and Beta.")
    return (*ids, other)


def test_answer_round_trip_and_wal(store, tmp_path):
    aid = store.record_answer(Q, "Five years [1].", CONTEXT, model="fast", pipeline="hybrid",
                              details={"cost_usd": 0.001})
    a = store.answer(aid)
    assert (a.question, a.answer, a.model, a.pipeline, a.details) == (Q, "Five years [1].", "fast", "hybrid",
                                                                      {"cost_usd": 0.001})
    assert [c.model_dump() for c in a.context] == [{"chunk_id": "c1", "text": "The term is five (5) years.",
                                                    "source": "contract.pdf", "page": 2}]
    assert a.created_at.tzinfo is timezone.utc and abs(datetime.now(timezone.utc) - a.created_at) < timedelta(60)
    with sqlite3.connect(tmp_path / "feedback.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(InputError, match="no answer with id 99"):
        store.answer(99)


def test_every_feedback_kind_round_trips(store, three):
    a, b, c, other = three
    ids = [
        store.add_rating(a, "up", comment="correct", rater="ana"),
        store.add_rating(b, "down", source="ai", judge_model="qwen-judge"),
        store.add_preference(a, b, "a", comment="cites the clause"),
        store.add_preference(b, c, "tie", source="ai", judge_model="qwen-judge"),
        store.add_ranking([a, c, b]),
        store.add_edit(b, "Five years."),
    ]
    assert ids == [1, 2, 3, 4, 5, 6]
    got = store.feedback()
    assert [type(f) for f in got] == [Rating, Rating, Preference, Preference, Ranking, Edit]
    assert got[0].model_dump(exclude={"created_at"}) == {
        "kind": "rating", "id": 1, "answer_id": a, "rating": "up", "comment": "correct", "source": "human",
        "judge_model": None, "rater": "ana"}
    assert (got[1].source, got[1].judge_model, got[1].rating) == ("ai", "qwen-judge", "down")
    assert (got[2].answer_a, got[2].answer_b, got[2].preferred) == (a, b, "a")
    assert got[3].preferred == "tie"
    assert got[4].ranked == [a, c, b]
    assert (got[5].answer_id, got[5].edited_answer) == (b, "Five years.")
    assert [f.id for f in store.feedback(after_id=4)] == [5, 6]
    assert [f.id for f in store.feedback(kinds=["rating"], source="ai")] == [2]
    assert store.feedback(since=datetime.now(timezone.utc) + timedelta(hours=1)) == []
    assert store.counts() == {"answers": 4, "feedback": 6, "last_feedback_id": 6,
                              "by_kind": {"rating_up": 1, "rating_down": 1, "preference": 2, "ranking": 1, "edit": 1},
                              "by_source": {"human": 4, "ai": 2}}


def test_bad_feedback_is_refused_and_nothing_is_stored(store, three):
    a, b, _, other = three
    with pytest.raises(InputError, match="no answer with id 42"):
        store.add_rating(42, "up")
    with pytest.raises(InputError, match="different questions"):
        store.add_preference(a, other, "a")
    with pytest.raises(InputError, match="judge_model"):
        store.add_rating(a, "up", source="ai")
    with pytest.raises(InputError, match="appears twice"):
        store.add_ranking([a, b, a])
    with pytest.raises(InputError, match="preferred"):
        store.add({"kind": "preference", "answer_a": a, "answer_b": b, "preferred": "c"})
    assert store.feedback() == []
    assert store.add({"kind": "rating", "answer_id": a, "rating": "down"}) == 1  # a web request body


@pytest.fixture
def judged(store, three):
    """a: up twice (one ai) + ranked first; b: down, edited; c: preferred to b; other: down."""
    a, b, c, other = three
    store.add_rating(a, "up")
    store.add_rating(a, "up", source="ai", judge_model="judge")
    store.add_rating(b, "down")
    store.add_preference(b, c, "b")  # c preferred over b
    store.add_preference(a, c, "tie")
    store.add_ranking([a, c, b])
    store.add_edit(b, "Five (5) years.")
    store.add_rating(other, "down")
    return three


def test_sft_export(store, judged):
    assert feedback_dataset(store, "sft") == [
        {"messages": user(Q) + bot("Five years [1].")},
        {"messages": user(Q) + bot("Five (5) years.")},
    ]
    assert feedback_dataset(store, "sft", source="ai") == [{"messages": user(Q) + bot("Five years [1].")}]


def test_dpo_export(store, judged):
    rows = feedback_dataset(store, "dpo")
    pairs = [(r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in rows]
    assert all(r["prompt"] == user(Q) for r in rows)
    assert pairs == [
        ("One year.", "Ten years."),            # preference c over b (the tie gives nothing)
        ("Five years [1].", "One year."),       # ranking a > c > b, every pair
        ("Five years [1].", "Ten years."),
        ("Five (5) years.", "Ten years."),      # the edit over the original
    ]  # "a up vs b down" repeats the ranking pair (a, b): kept once; "other" has no pair


def test_kto_export(store, judged):
    rows = feedback_dataset(store, "kto")
    assert [(r["completion"][0]["content"], r["label"]) for r in rows] == [
        ("Five years [1].", True), ("Five (5) years.", True), ("Ten years.", False), ("Acme and Beta.", False)]
    assert rows[-1]["prompt"] == user("Who are the parties?")


def test_export_with_context_and_window(store, judged, tmp_path):
    row = feedback_dataset(store, "sft", with_context=True)[0]
    system, prompt, answer = row["messages"]
    assert system["role"] == "system" and "[1] (contract.pdf, page 2)\nThe term is five (5) years." in prompt["content"]
    assert prompt["content"].endswith(f"Question: {Q}\nAnswer:") and answer == bot("Five years [1].")[0]
    out = tmp_path / "out" / "dpo.jsonl"
    report = export_feedback(store, "dpo", out, after_id=6)  # only the edit and the last rating
    assert report == {"format": "dpo", "path": str(out), "rows": 1, "feedback_used": 2, "last_feedback_id": 8}
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        {"prompt": user(Q), "chosen": bot("Five (5) years."), "rejected": bot("Ten years.")}]
    empty = export_feedback(store, "kto", out, after_id=8)
    assert (empty["rows"], empty["last_feedback_id"], out.read_text()) == (0, 8, "")


def test_import_jsonl_and_csv(store, three, tmp_path):
    a, b, *_ = three
    jsonl = tmp_path / "fb.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in [
        {"kind": "rating", "answer_id": a, "rating": "up", "comment": "ok"},
        {"kind": "rating", "question": "What law governs?", "answer": "New York law.", "rating": "up"},
        {"kind": "preference", "question": "What law governs?", "answer_a": "New York law.",
         "answer_b": "Delaware law.", "preferred": "a", "source": "ai", "judge_model": "judge"},
        {"kind": "ranking", "ranked_ids": [b, a]},
        {"kind": "edit", "answer_id": b, "edited_answer": "Five years.", "created_at": "2025-01-02T03:04:05Z"},
    ]) + "\n\n")
    report = store.import_file(jsonl)
    assert report == {"file": str(jsonl), "feedback": 5, "answers_created": 2,
                      "by_kind": {"rating": 2, "preference": 1, "ranking": 1, "edit": 1}}
    fbs = store.feedback()
    new = store.answers(after_id=three[-1])
    assert [(x.question, x.answer) for x in new] == [("What law governs?", "New York law."),
                                                     ("What law governs?", "Delaware law.")]
    assert (fbs[2].answer_a, fbs[2].answer_b) == (new[0].id, new[1].id)  # the same answer text is reused
    assert fbs[4].created_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)

    csv_file = tmp_path / "fb.csv"
    csv_file.write_text('kind,question,answer,rating,ranked,comment\n'
                        'rating,What law governs?,New York law.,down,,"multi\nline comment"\n'
                        'ranking,What law governs?,,,"[""Delaware law."", ""New York law.""]",\n')
    assert store.import_file(csv_file)["answers_created"] == 0
    fbs = store.feedback(after_id=5)
    assert (fbs[0].answer_id, fbs[0].rating, fbs[0].comment) == (new[0].id, "down", "multi\nline comment")
    assert fbs[1].ranked == [new[1].id, new[0].id]


@pytest.mark.parametrize("suffix, content, line, message", [
    (".jsonl", '{"kind": "rating", "answer_id": 1, "rating": "up"}\n{"kind": "rating", "answer_id": 1}\n',
     2, "a rating needs rating"),
    (".jsonl", '{"kind": "rating", "answer_id": 1, "rating": "up"}\n\n{not json\n', 3, "not valid JSON"),
    (".jsonl", '{"kind": "edit", "answer_id": 1, "edited_answer": "x"}\n{"kind": "rating", "answer_id": 77, '
               '"rating": "up"}\n', 2, "no answer with id 77"),
    (".jsonl", '{"kind": "rating", "answer": "x", "rating": "up"}\n', 1, "needs the question"),
    (".jsonl", '{"kind": "rating", "answer_id": 1, "rating": "up", "ratng": 1}\n', 1, "ratng"),
    (".csv", "kind,question,answer,rating\nrating,Q?,A,up\nrating,Q?,A,sideways\n", 3, "rating"),
    (".csv", "kind,ranked_ids\nranking,[1 2]\n", 2, "expected a JSON array"),
])
def test_import_validation_names_the_line_and_writes_nothing(store, three, tmp_path, suffix, content, line,
                                                             message):
    path = tmp_path / f"bad{suffix}"
    path.write_text(content)
    with pytest.raises(InputError, match=f"{path}:{line}: .*{message}"):
        store.import_file(path)
    assert store.feedback() == [] and len(store.answers()) == 4


def test_import_rejects_unknown_file_type(store, tmp_path):
    (tmp_path / "fb.txt").write_text("x")
    with pytest.raises(InputError, match="use .jsonl or .csv"):
        store.import_file(tmp_path / "fb.txt")


def test_schema_versions(tmp_path):
    path = tmp_path / "feedback.db"
    FeedbackStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(ConfigError, match="schema v99 is newer"):
        FeedbackStore(path)
    # a version-1 file as ragtune 0.1 wrote it (no Alembic table, no comparisons), with an answer in it
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = 1")
        db.execute("DROP TABLE alembic_version")
        db.execute("DROP TABLE comparisons")
        db.execute("INSERT INTO answers (question, answer, context, details, created_at) "
                   "VALUES ('Q?', 'A.', '[]', '{}', '2025-01-01 00:00:00')")
    store = FeedbackStore(path)  # migrated in place by the Alembic revisions after 0001
    assert store.schema_version() == fbmod.SCHEMA_VERSION == 2 and store.answer(1).answer == "A."
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone()[0] == fbmod.HEAD
        assert "label_a" in [r[1] for r in db.execute("PRAGMA table_info(comparisons)")]
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(InputError, match="not a readable ragtune feedback store"):
        FeedbackStore(tmp_path / "junk.db")


def _write_ratings(path: str, answer_id: int, n: int) -> None:
    store = FeedbackStore(path)
    for i in range(n):
        store.add_rating(answer_id, "up" if i % 2 else "down", comment=f"w{i}")
    store.close()


def test_concurrent_writers_do_not_corrupt(tmp_path):
    path = tmp_path / "feedback.db"
    store = FeedbackStore(path)
    aid = store.record_answer(Q, "Five years.")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_ratings, args=(str(path), aid, 40)) for _ in range(2)]
    for p in procs:
        p.start()
    threads = [threading.Thread(target=lambda: [store.add_edit(aid, f"t{i}") for i in range(40)]) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    got = store.feedback()
    assert len(got) == 160 and [f.id for f in got] == list(range(1, 161))
    assert store.counts()["by_kind"] == {"rating_up": 40, "rating_down": 40, "preference": 0, "ranking": 0,
                                         "edit": 80}
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_cli_add_import_export_stats(new_project, tmp_path):
    runner = CliRunner()
    p = ["-p", str(new_project.root)]
    store = new_project.feedback
    a = store.record_answer(Q, "Five years.")
    b = store.record_answer(Q, "Ten years.")

    def run(*args):
        result = runner.invoke(app, ["feedback", *args, *p, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert run("add", "rating", str(a), "up", "--comment", "right")["comment"] == "right"
    assert run("add", "preference", str(a), str(b))["preferred"] == "a"
    assert run("add", "ranking", str(b), str(a), "--source", "ai", "--judge-model", "judge")["ranked"] == [b, a]
    assert run("add", "edit", str(b), "Five (5) years.")["edited_answer"] == "Five (5) years."
    src = tmp_path / "more.jsonl"
    src.write_text(json.dumps({"kind": "rating", "answer_id": b, "rating": "down"}) + "\n")
    assert run("import", str(src))["feedback"] == 1
    stats = run("stats")
    assert stats["feedback"] == 5 and stats["export_rows"] == {"sft": 2, "dpo": 3, "kto": 3, "verdicts": 0}
    out = tmp_path / "sft.jsonl"
    report = run("export", "--format", "sft", "--out", str(out), "--since", "2000-01-01")
    assert report["rows"] == 2 and len(out.read_text().splitlines()) == 2

    bad = runner.invoke(app, ["feedback", "add", "rating", "999", "up", *p])
    assert bad.exit_code == 1 and "no answer with id 999" in bad.stderr
    bad = runner.invoke(app, ["feedback", "export", "-f", "dpo", "-o", str(out), "--since", "yesterday", *p])
    assert bad.exit_code == 1 and "--since 'yesterday'" in bad.stderr


def test_ask_records_the_answer_shown(project):
    result = CliRunner().invoke(app, ["ask", "How many days of paid vacation do employees receive per year?",
                                      "-p", str(project.root), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    stored = project.feedback.answer(data["answer_id"])
    assert (stored.question, stored.answer, stored.pipeline) == (data["question"], data["answer"], data["pipeline"])
    assert [c.chunk_id for c in stored.context] == [c["chunk_id"] for c in data["chunks"]]
    assert stored.model and stored.details["usage"] == data["usage"]


def test_ask_answers_the_citation_check_flags_enter_the_review_queue(tmp_path):
    """`ragtune ask` records through the same function as the server: with the citation check and its unsupported
    sentences, so the review queue shows a flagged CLI answer and not a supported one."""
    from conftest import start_server, stop_server
    from ragtune import Project

    new_project = Project.init(tmp_path / "p", domain="contracts")  # its value reader answers "$50." bare

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "fees.txt").write_text("Late payments.\n\nA late fee of $50 is charged for each day a payment is "
                                   "overdue. Payments are made by bank transfer to the account named on the "
                                   "invoice.\n", encoding="utf-8")
    (docs / "deliveries.txt").write_text("Deliveries.\n\nThe supplier delivers the goods to the buyer's warehouse "
                                         "in the port of Riga, packed on wooden pallets.\n", encoding="utf-8")
    new_project.ingest([docs])
    new_project.close()

    def ask(question: str) -> dict:
        result = CliRunner().invoke(app, ["ask", question, "-p", str(new_project.root), "--strategy", "extract",
                                          "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    # the value read from the clause ("$50") has no word to check and little in common with the passage
    flagged = ask("What is the late fee?")
    supported = ask("How does the supplier deliver the goods?")
    assert [c["supported"] for c in flagged["citation_check"]].count(False) == 1
    assert supported["citation_check"] and all(c["supported"] for c in supported["citation_check"])
    stored = new_project.feedback.answer(flagged["answer_id"])
    assert stored.details["unsupported"] == ["$50."] and stored.details["citation_check"] == flagged["citation_check"]
    new_project.close()

    served = start_server(new_project.root)
    try:
        with served.client() as http:
            items = {i["answer_id"]: i for i in http.get("/api/review").json()["items"]}
    finally:
        stop_server(served)
    assert set(items) == {flagged["answer_id"]}
    assert items[flagged["answer_id"]]["flags"] == ["citation check: 1 unsupported sentence(s)"]


def test_verdicts_export_takes_reviewed_yes_no_answers(store):
    from ragtune.datasets.exports import feedback_dataset

    ask = "Is there a requirement for insurance?"
    doc = [{"chunk_id": "c9", "source": "docs/supply.txt", "text": "The Supplier shall maintain insurance."}]
    other = [{"chunk_id": "c8", "source": "docs/hosting.txt", "text": "Either party may terminate."}]
    up = store.record_answer(ask, "Yes. The Supplier shall maintain product liability insurance [1].", doc)
    fixed = store.record_answer(ask, "No; the closest passages: Either party may terminate [1].", other)
    down = store.record_answer("Does the contract have an audit clause?", "No.", doc)
    store.add_rating(up, "up")
    store.add_edit(fixed, "Yes. Hosting Provider shall carry general liability insurance of $1,000,000 [1].")
    store.add_rating(down, "down")  # wrong, but which verdict is right it does not say
    store.add_rating(store.record_answer(Q, "Five years [1].", CONTEXT), "up")  # not a yes/no question
    rows = feedback_dataset(store, "verdicts")
    assert rows == [
        {"id": f"answer-{up}", "question": ask, "answer": "Yes", "label": "Yes", "document": "docs/supply.txt",
         "contexts": ["The Supplier shall maintain product liability insurance."]},
        {"id": f"answer-{fixed}", "question": ask, "answer": "Yes", "label": "Yes", "document": "docs/hosting.txt",
         "contexts": ["Hosting Provider shall carry general liability insurance of $1,000,000."]}]
    store.add_edit(up, "No")  # a later correction wins, and a No quotes nothing
    assert feedback_dataset(store, "verdicts")[-1] | {"id": ""} == {
        "id": "", "question": ask, "answer": "No", "label": "No", "document": "docs/supply.txt", "contexts": []}
