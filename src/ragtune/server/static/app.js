// ragtune serve: a little plain JavaScript, no build step, nothing from a CDN.
// Everything the server sends as HTML was rendered (and escaped) by its templates; streamed text is set as text.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf()},
    body: JSON.stringify(body),
  });
  let data = {};
  try { data = await response.json(); } catch (e) { data = {}; }
  return {ok: response.ok, status: response.status, data};
}

function errorText(result) {
  return (result.data && result.data.error && result.data.error.message) || ("HTTP " + result.status);
}

// POST a JSON body and read the server-sent events of the response.
async function streamSSE(url, body, onEvent) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf(), "Accept": "text/event-stream"},
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    onEvent("error", {message: errorText({data, status: response.status})});
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, {stream: true});
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) onEvent(event, JSON.parse(data));
    }
  }
}

// Drafts: what a person types is kept in this browser until the server has stored it.
const draftKey = (scope, field) => `ragtune:draft:${scope}:${field}`;

function keepDrafts(root, scope, status) {
  for (const area of root.querySelectorAll("[data-draft]")) {
    const key = draftKey(scope, area.dataset.draft);
    const saved = localStorage.getItem(key);
    if (saved !== null) {
      area.value = saved;
      status.textContent = "draft restored (not submitted yet)";
    }
    area.addEventListener("input", () => {
      localStorage.setItem(key, area.value);
      status.textContent = "draft kept in this browser (not submitted yet)";
    });
  }
}

function dropDraft(scope, field) { localStorage.removeItem(draftKey(scope, field)); }

function bindFeedback(section) {
  const id = section.dataset.answerId;
  const status = section.querySelector(".status");
  const comment = section.querySelector(".comment");
  const edit = section.querySelector(".edit");
  keepDrafts(section, "answer-" + id, status);
  for (const button of section.querySelectorAll(".vote")) {
    button.addEventListener("click", async () => {
      status.textContent = "saving…";
      const result = await postJSON("/api/feedback", {answer_id: Number(id), kind: "rating",
                                                      rating: button.dataset.rating, comment: comment.value});
      if (result.ok) {
        dropDraft("answer-" + id, "comment");
        status.textContent = `saved: thumbs ${button.dataset.rating} (feedback #${result.data.feedback_id})`;
        section.dataset.saved = "rating";
      } else {
        status.textContent = "not saved: " + errorText(result) + " (your draft is kept)";
      }
    });
  }
  section.querySelector(".save-edit").addEventListener("click", async () => {
    status.textContent = "saving…";
    const result = await postJSON("/api/feedback", {answer_id: Number(id), kind: "edit", edited_answer: edit.value});
    if (result.ok) {
      dropDraft("answer-" + id, "edit");
      status.textContent = `saved: correction (feedback #${result.data.feedback_id})`;
      section.dataset.saved = "edit";
    } else {
      status.textContent = "not saved: " + errorText(result) + " (your draft is kept)";
    }
  });
}

function chatPage() {
  const form = document.getElementById("ask-form");
  const stream = document.getElementById("stream");
  const result = document.getElementById("result");
  const slot = document.getElementById("feedback-slot");
  const progress = document.getElementById("progress");
  const existing = slot.querySelector(".feedback");
  if (existing) bindFeedback(existing);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    stream.textContent = "";
    stream.hidden = false;
    result.textContent = "";
    result.hidden = true;
    slot.textContent = "";
    progress.textContent = "waiting for the generator…";
    document.body.dataset.state = "streaming";
    await streamSSE("/api/ask", {
      question: document.getElementById("question").value,
      pipeline: document.getElementById("pipeline").value,
      model: document.getElementById("model").value || null,
      strategy: document.getElementById("strategy").value,
      document: document.getElementById("document").value.trim() || null,
    }, (name, data) => {
      if (name === "queued") progress.textContent = `in line: ${data.waiting} waiting`;
      else if (name === "token") { progress.textContent = "answering…"; stream.append(data.text); }
      else if (name === "done") {
        progress.textContent = `answer ${data.answer_id} (recorded)`;
        result.innerHTML = data.html;
        result.hidden = false;
        stream.hidden = true;
        const template = document.getElementById("feedback-template").innerHTML;
        slot.innerHTML = template.replaceAll("__ID__", String(data.answer_id));
        const section = slot.querySelector(".feedback");
        section.querySelector(".edit").value = data.answer;
        bindFeedback(section);
        history.replaceState(null, "", "/?answer=" + data.answer_id);
        document.body.dataset.state = "answered";
      } else if (name === "error") {
        progress.textContent = "error: " + data.message;
        document.body.dataset.state = "error";
      }
    });
  });
}

function comparePage() {
  const form = document.getElementById("compare-form");
  const progress = document.getElementById("progress");
  const voteBox = document.getElementById("vote");
  const status = document.getElementById("vote-status");
  const reveal = document.getElementById("reveal");
  let comparison = null;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const side of "AB") {
      const box = document.getElementById("side-" + side);
      box.querySelector(".stream").textContent = "";
      box.querySelector(".final").textContent = "";
    }
    voteBox.hidden = true;
    reveal.textContent = "";
    status.textContent = "";
    progress.textContent = "waiting for the generator…";
    await streamSSE("/api/compare", {
      question: document.getElementById("question").value, first: document.getElementById("first").value,
      second: document.getElementById("second").value,
      first_strategy: document.getElementById("first-strategy").value,
      second_strategy: document.getElementById("second-strategy").value,
    }, (name, data) => {
      if (name === "token") {
        progress.textContent = "answering…";
        document.querySelector(`#side-${data.side} .stream`).append(data.text);
      } else if (name === "done") {
        const box = document.getElementById("side-" + data.side);
        box.querySelector(".stream").textContent = "";
        box.querySelector(".final").innerHTML = data.html;
      } else if (name === "ready") {
        comparison = data.comparison_id;
        progress.textContent = "both answers are in: vote";
        voteBox.hidden = false;
        keepDrafts(voteBox, "compare-" + comparison, status);
        document.body.dataset.state = "ready";
      } else if (name === "error") {
        progress.textContent = "error: " + data.message;
      }
    });
  });
  for (const button of document.querySelectorAll(".choice")) {
    button.addEventListener("click", async () => {
      status.textContent = "saving…";
      const result = await postJSON(`/api/compare/${comparison}/vote`, {
        choice: button.dataset.choice, comment: document.getElementById("vote-comment").value});
      if (!result.ok) { status.textContent = "not saved: " + errorText(result); return; }
      dropDraft("compare-" + comparison, "vote-comment");
      status.textContent = `saved: ${button.dataset.choice} (feedback #${result.data.feedback_ids.join(", #")})`;
      reveal.textContent = `A was ${result.data.reveal.A.label}; B was ${result.data.reveal.B.label}`;
      document.body.dataset.state = "voted";
    });
  }
}

function reviewPage() {
  const section = document.querySelector(".feedback");
  if (section) bindFeedback(section);
}

function dashboardPage() {
  const exportStatus = document.getElementById("export-status");
  for (const button of document.querySelectorAll(".export")) {
    button.addEventListener("click", async () => {
      exportStatus.textContent = "exporting…";
      const result = await postJSON("/api/export", {format: button.dataset.format});
      if (!result.ok) { exportStatus.textContent = "failed: " + errorText(result); return; }
      exportStatus.textContent = `${result.data.rows} ${result.data.format} rows written to ${result.data.path} `;
      const link = document.createElement("a");
      link.href = result.data.download;
      link.textContent = "download";
      link.className = "download";
      exportStatus.append(link);
    });
  }
  const loopStatus = document.getElementById("loop-status");
  document.getElementById("run-loop").addEventListener("click", async () => {
    const result = await postJSON("/api/loop", {});
    if (!result.ok) { loopStatus.textContent = "not started: " + errorText(result); return; }
    loopStatus.textContent = "running: " + result.data.command.slice(2).join(" ");
    const timer = setInterval(async () => {
      const r = await fetch("/api/loop", {credentials: "same-origin"});
      const data = await r.json();
      if (data.status !== "running") {
        clearInterval(timer);
        loopStatus.textContent = `finished (exit ${data.returncode})`;
        document.body.dataset.state = "loop-finished";
        setTimeout(() => location.reload(), 500);
      }
    }, 2000);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const logout = document.getElementById("logout");
  if (logout) logout.addEventListener("click", async () => {
    await postJSON("/logout", {});
    location.href = "/login";
  });
  const pages = {chat: chatPage, compare: comparePage, review: reviewPage, dashboard: dashboardPage};
  const run = pages[document.body.dataset.page];
  if (run) run();
});
