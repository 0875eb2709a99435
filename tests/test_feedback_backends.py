"""The feedback store on both backends: SQLite (a file) and PostgreSQL 16 (the session's real server, started
with PyPI's pgserver in conftest.py). The same Alembic migrations create both; feedback, exports, blind
comparisons and concurrent writers behave the same."""

import itertools
import threading

import pytest

from ragtune.datasets.exports import feedback_dataset
from ragtune.errors import ConfigError, InputError
from ragtune.feedback import schema
from ragtune.feedback.store import FeedbackStore

Q = "What is the term of the agreement?"
_names = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'feedback.db'}"
    server = request.getfixturevalue("pg_server")
    name = f"feedback_{next(_names)}"
    server.psql(f"CREATE DATABASE {name};")
    return server.get_uri(database=name)


def test_feedback_round_trips_and_exports(url):
    store = FeedbackStore(url)
    assert store.schema_version() == schema.SCHEMA_VERSION
    a = store.record_answer(Q, "Five years [1].", [{"chunk_id": "c1", "text": "The term is five years.",
                                                    "source": "x.pdf", "page": 2}], model="fast", pipeline="naive")
    b = store.record_answer(Q, "Ten years.", model="v2")
    store.add_rating(a, "up", comment="right", rater="ann")
    store.add_preference(a, b, "a", rater="bob")
    store.add_edit(b, "Five (5) years [1].")
    assert [f.kind for f in store.feedback()] == ["rating", "preference", "edit"]
    assert store.answer(a).context[0].page == 2 and store.answer(a).details == {}
    assert store.counts()["by_kind"]["preference"] == 1
    dpo = feedback_dataset(store, "dpo")
    assert {(r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in dpo} >= {
        ("Five years [1].", "Ten years."), ("Five (5) years [1].", "Ten years.")}
    with pytest.raises(InputError, match="no answer with id 999"):
        store.add_rating(999, "up")
    store.close()
    store = FeedbackStore(url)  # reopening finds the schema at head and keeps everything
    assert len(store.feedback()) == 3
    store.close()


def test_a_blind_comparison_takes_one_vote_stored_with_its_feedback(url):
    store = FeedbackStore(url)
    a, b = store.record_answer(Q, "Five years."), store.record_answer(Q, "Ten years.")
    store.record_comparison("c1", a, b, "naive@base (extract)", "advanced@v2 (generate)", rater="ann")
    assert store.comparison("c1")["choice"] is None
    voted = store.vote_comparison("c1", "b", comment="B cites", rater="ann")
    [pref] = store.feedback()
    assert (voted["choice"], voted["feedback_ids"], pref.preferred, pref.comment) == ("b", [pref.id], "b", "B cites")
    with pytest.raises(InputError, match="voted on already"):
        store.vote_comparison("c1", "a")
    store.record_comparison("c2", a, b, "x", "y")
    both = store.vote_comparison("c2", "both_bad")
    assert [(f.kind, f.rating) for f in store.feedback(after_id=pref.id)] == [("rating", "down")] * 2
    assert len(both["feedback_ids"]) == 2
    other = store.record_answer("Another question?", "Yes.")
    with pytest.raises(InputError, match="one question"):
        store.record_comparison("c3", a, other, "x", "y")
    with pytest.raises(InputError, match="no comparison"):
        store.vote_comparison("nope", "a")
    store.close()


def test_concurrent_writers_lose_nothing(url):
    store = FeedbackStore(url)
    aid = store.record_answer(Q, "Five years.")

    def write(worker: int) -> None:
        for i in range(25):
            store.add_rating(aid, "up" if i % 2 else "down", comment=f"{worker}-{i}")

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = store.feedback()
    assert len(got) == 100 and len({f.comment for f in got}) == 100 and len({f.id for f in got}) == 100
    store.close()


def test_project_feedback_url(new_project, pg_server):
    import yaml

    from ragtune import Project

    pg_server.psql("CREATE DATABASE project_feedback;")
    data = yaml.safe_load(new_project.config_path.read_text(encoding="utf-8"))
    data["feedback"] = {"url": pg_server.get_uri(database="project_feedback")}
    new_project.config_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    project = Project(new_project.root)
    project.feedback.record_answer(Q, "Five years.")
    assert project.feedback.engine.dialect.name == "postgresql" and len(project.feedback.answers()) == 1
    project.close()
    data["feedback"] = {"url": "sqlite:///fb/answers.db"}  # relative to the project folder
    new_project.config_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    project = Project(new_project.root)
    assert project.feedback.path == new_project.root / "fb" / "answers.db"
    project.close()
    with pytest.raises(ConfigError, match="use a sqlite:/// or postgresql:// URL"):
        FeedbackStore("mysql://x@localhost/db")


def test_review_and_dashboard_aggregates(url):
    store = FeedbackStore(url)
    a = store.record_answer(Q, "Five years [1].", model="v1", pipeline="naive")
    b = store.record_answer(Q, "Ten years.", model="v2", pipeline="naive", details={"unsupported": ["Ten years."]})
    c = store.record_answer("Who are the parties?", "Acme and Beta.", model="v1", pipeline="naive")
    store.add_rating(a, "down", source="ai", judge_model="judge")
    store.add_preference(a, b, "a", source="ai", judge_model="judge")  # b lost
    store.add_rating(a, "up", source="ai", judge_model="judge")  # the judge's latest thumbs on a
    for rater, rating in (("ann", "down"), ("ann", "up"), ("bob", "up"), ("cy", "down")):  # ann changed her mind
        store.add_rating(a, rating, rater=rater)
    store.add_rating(c, "up")  # no rater: counts as its own
    store.add_preference(a, b, "b", rater="ann")
    store.add_preference(a, b, "tie", rater="bob")
    lost = "AI judge judge: lost a comparison"
    assert store.review_flags() == {a: ["AI judge judge: thumbs down"],
                                    b: [lost, "citation check: 1 unsupported sentence(s)"]}
    assert store.review_flags(recent_answers=0) == {a: ["AI judge judge: thumbs down"],
                                                    b: [lost]}
    reviewers = store.reviewers()
    assert reviewers[a] == ["ann", "bob", "cy"] and reviewers[c][0].startswith("anonymous-") and b not in reviewers
    counted = store.vote_agreement()  # latest votes on a: up, up, down
    assert counted["annotators"] == {("up", "up"): 1, ("down", "up"): 2}
    assert counted["judge_votes"] == {("up", "up"): 1}
    assert sorted(store.preference_tally()) == [("v1", "naive", "v2", "naive", "b", 1),
                                                ("v1", "naive", "v2", "naive", "tie", 1)]
    assert store.version() == (c, len(store.feedback()))
    store.close()
