// The docqa chat page: ask /v1/ask, list the cited passages, show a citation's source
// paragraph from /v1/documents/{id} with the cited span in <mark>. No build step.
"use strict";

const $ = (id) => document.getElementById(id);
const keyInput = $("api-key");
keyInput.value = localStorage.getItem("docqa-key") || "";
keyInput.addEventListener("change", () => localStorage.setItem("docqa-key", keyInput.value));

async function api(path, options = {}) {
  const headers = { "content-type": "application/json" };
  if (keyInput.value) headers.authorization = `Bearer ${keyInput.value}`;
  const response = await fetch(path, { ...options, headers });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
  return body;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// `text` is document text starting at document offset `base`; `span` is in document offsets.
function highlighted(text, base, span) {
  if (!span) return [document.createTextNode(text)];
  const from = span.char_start - base;
  const to = span.char_end - base;
  return [
    document.createTextNode(text.slice(0, from)),
    el("mark", text.slice(from, to)),
    document.createTextNode(text.slice(to)),
  ];
}

function citeLink(number, passage, span) {
  const link = el("a", `[${number}]`, "cite");
  link.href = "#source-box";
  link.dataset.cite = String(number);
  link.addEventListener("click", (event) => {
    event.preventDefault();
    showSource(passage, span).catch((error) => { $("status").textContent = error.message; });
  });
  return link;
}

async function showSource(passage, span) {
  const cite = passage.citation;
  const doc = await api(`/v1/documents/${encodeURIComponent(cite.document_id)}`);
  const paragraph = doc.text.slice(passage.char_start, passage.char_end);
  // The whole passage is the cited span when no answer span was found in it.
  const marked = span || { char_start: passage.char_start, char_end: passage.char_end };
  $("source-title").textContent = doc.title;
  const where = [`¶${cite.paragraph}`, `characters ${marked.char_start}–${marked.char_end}`];
  if (cite.page !== null) where.push(`page ${cite.page}`);
  $("source-meta").textContent = `${where.join(" · ")} · ${doc.source}`;
  $("source-text").replaceChildren(...highlighted(paragraph, passage.char_start, marked));
  $("source-box").hidden = false;
  if (window.showPageImage) await window.showPageImage(passage, span);
}

function showAnswer(body) {
  const answer = body.answer;
  const box = $("answer");
  box.replaceChildren();
  $("answer-note").textContent = "";
  if (!answer) {
    box.textContent = "No passage matched the question.";
    return;
  }
  const passage = body.passages[answer.citation - 1];
  const span = { char_start: answer.char_start, char_end: answer.char_end };
  box.append(el("span", answer.text, "answer-text"), " ", citeLink(answer.citation, passage, span));
  if (answer.fallback) {
    $("answer-note").textContent = "No exact answer was extracted: this is the closest "
      + (answer.kind === "sentence" ? "sentence." : "passage.");
  }
}

function showPassages(passages) {
  const list = $("passages");
  list.replaceChildren();
  for (const passage of passages) {
    const item = el("li");
    const head = el("div", undefined, "passage-head");
    head.append(citeLink(passage.rank, passage, passage.answer), " ",
      el("strong", passage.citation.title), " ", el("span", passage.score.toFixed(3), "score"));
    const text = el("p", undefined, "passage-text");
    text.append(...highlighted(passage.text, passage.char_start, passage.answer));
    item.append(head, text);
    list.append(item);
  }
}

$("ask-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const query = $("question").value.trim();
  if (!query) return;
  $("status").textContent = "Searching…";
  $("ask").disabled = true;
  try {
    const body = await api("/v1/ask", {
      method: "POST",
      body: JSON.stringify({ query, top_k: 5 }),
    });
    showAnswer(body);
    showPassages(body.passages);
    $("answer-box").hidden = false;
    $("passages-box").hidden = body.passages.length === 0;
    $("source-box").hidden = true;
    $("status").textContent = `${body.passages.length} passages in ${Math.round(body.took_ms)} ms`;
  } catch (error) {
    $("status").textContent = error.message;
  } finally {
    $("ask").disabled = false;
  }
});
