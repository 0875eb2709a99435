"""The generation queue: one worker, bounded; page loads and votes do not wait behind generation; a client that
disconnects mid-stream frees the generator."""

import threading

import pytest

from ragtune.server.queue import GenerationQueue, QueueFull


def test_one_worker_in_order_bounded_and_cancellable():
    q = GenerationQueue(max_waiting=2)
    gate, order = threading.Event(), []
    first = q.submit(lambda job: (gate.wait(30), order.append(1)), stream=False)
    while not q.stats()["busy"]:
        pass
    second = q.submit(lambda job: order.append(2), stream=False)
    third = q.submit(lambda job: order.append(3), stream=False)
    with pytest.raises(QueueFull, match="2 generation requests are waiting"):
        q.submit(lambda job: None, stream=False)
    assert q.stats()["waiting"] == 2
    third.cancel()  # a request whose client left is skipped
    gate.set()
    first.wait_blocking(30), second.wait_blocking(30), third.wait_blocking(30)
    assert order == [1, 2]
    stats = q.stats()
    assert (stats["completed"], stats["cancelled"], stats["waiting"]) == (2, 1, 0) and stats["wait_s"]["n"] == 2
    q.close()


def test_cancel_stops_a_running_generation_at_its_next_token():
    q = GenerationQueue()
    started, tokens = threading.Event(), []

    def generate(job):
        started.set()
        for i in range(10_000):
            job.emit(i)  # raises Cancelled once the client has gone
            tokens.append(i)
            threading.Event().wait(0.001)

    job = q.submit(generate, stream=False)
    started.wait(30)
    job.cancel()
    job.wait_blocking(30)
    assert len(tokens) < 10_000 and q.stats()["cancelled"] == 1
    q.close()


def test_pages_and_votes_do_not_wait_behind_generation(served):
    """While the generator is held busy, the chat page, the dashboard and a vote all complete."""
    state = served.state
    gate, busy = threading.Event(), threading.Event()
    blocker = state.queue.submit(lambda job: (busy.set(), gate.wait(60)), stream=False)
    try:
        assert busy.wait(60)
        answer_id = state.project.feedback.record_answer("Q?", "A.", ())
        with served.client() as http:
            assert http.get("/").status_code == 200
            assert http.get("/dashboard").status_code == 200
            assert http.get("/v1/models").status_code == 200
            r = http.post("/v1/feedback", json={"answer_id": answer_id, "rating": "down"})
            assert r.status_code == 200 and r.json()["stored"]
            assert http.get("/api/stats").json()["queue"]["busy"] is True
    finally:
        gate.set()
        blocker.wait_blocking(60)


def test_a_client_that_disconnects_mid_stream_frees_its_slot(served):
    state = served.state
    before = state.queue.stats()["cancelled"]
    gate = threading.Event()
    blocker = state.queue.submit(lambda job: gate.wait(60), stream=False)
    with served.client() as http, http.stream("POST", "/v1/chat/completions", json={
            "stream": True, "strategy": "generate",
            "messages": [{"role": "user", "content": "What is the notice period for the override?"}]}) as r:
        first = next(r.iter_lines())  # the role chunk: the request is queued behind the blocker
        assert first.startswith("data: ")
    # the client is gone before its turn: when the blocker ends, its job is skipped, not generated
    gate.set()
    blocker.wait_blocking(60)
    with served.client() as http:  # the generator is free for the next client
        r = http.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "Who is the buyer?"}]})
        assert r.status_code == 200
    assert state.queue.stats()["cancelled"] == before + 1


def test_slow_dashboard_figures_are_shown_as_last_computed_while_they_are_computed_again(new_project):
    """``State.derived``: a figure is kept until the store changes; after a change, a caller that accepts a stale
    figure (the dashboard) gets the last one at once when computing it was slow, and the new one once the
    background computation ends; a caller that does not (the review queue) waits for the new one."""
    import time

    from ragtune.server.deps import State

    new_project.config.server.stale_figures_after_s = 0.05
    state, store = State(new_project), new_project.feedback
    calls = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.1)
        return len(calls)

    assert state.derived("n", slow, stale_ok=True) == 1  # nothing kept yet: computed while the caller waits
    assert state.derived("n", slow, stale_ok=True) == 1 and len(calls) == 1  # the store is unchanged: kept
    store.add_rating(store.record_answer("Q?", "A."), "up", rater="ann")
    assert state.derived("n", slow, stale_ok=True) == 1  # stale, at once; computed again in the background
    for _ in range(100):
        if state.derived("n", slow, stale_ok=True) == 2:
            break
        time.sleep(0.02)
    assert state.derived("n", slow, stale_ok=True) == 2 and len(calls) == 2
    store.add_rating(1, "down", rater="bob")
    assert state.derived("n", slow) == 3  # the queue's figures are never stale
