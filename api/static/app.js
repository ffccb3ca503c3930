// The docqa chat page: a conversation kept in localStorage, answers streamed from
// /v1/ask (passages first, then the answer), citations opened in their document context,
// and a documents panel (upload, list, delete). Plain JS, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const THREAD_KEY = "docqa-thread";
const KEY_KEY = "docqa-key";
const CONTEXT_TURNS = 3; // earlier exchanges sent with a follow-up
const MAX_KEPT = 50; // exchanges kept in localStorage

let thread = loadThread();
let controller = null; // the AbortController of the request in flight
let lastTrigger = null; // the citation button that opened the source panel

// --- small helpers ---------------------------------------------------------------------

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// A lang attribute for text mostly in a script other than Latin (screen readers switch voice).
const SCRIPTS = [
  [/[\u3040-\u30ff]/g, "ja"], [/[\uac00-\ud7af]/g, "ko"], [/[\u4e00-\u9fff\u3400-\u4dbf]/g, "zh"],
  [/[\u0400-\u04ff]/g, "ru"], [/[\u0600-\u06ff]/g, "ar"], [/[\u0590-\u05ff]/g, "he"],
  [/[\u0370-\u03ff]/g, "el"], [/[\u0e00-\u0e7f]/g, "th"], [/[\u0900-\u097f]/g, "hi"],
];
function langOf(text) {
  const letters = (text.match(/\p{L}/gu) || []).length;
  if (!letters) return null;
  for (const [pattern, lang] of SCRIPTS) {
    if ((text.match(pattern) || []).length / letters > 0.3) return lang;
  }
  return null;
}
function withLang(node, text) {
  const lang = langOf(text);
  if (lang) node.lang = lang;
  return node;
}

// `text` starts at document offset `base`; `spans` (in document offsets) are marked.
function highlighted(text, base, spans) {
  const inside = (spans || [])
    .map((s) => [Math.max(0, s.char_start - base), Math.min(text.length, s.char_end - base)])
    .filter(([from, to]) => from < to)
    .sort((a, b) => a[0] - b[0]);
  const nodes = [];
  let at = 0;
  for (const [from, to] of inside) {
    if (from < at) continue; // overlapping spans: the first one marked wins
    if (from > at) nodes.push(document.createTextNode(text.slice(at, from)));
    nodes.push(el("mark", text.slice(from, to)));
    at = to;
  }
  if (at < text.length || !nodes.length) nodes.push(document.createTextNode(text.slice(at)));
  return nodes;
}

// Markdown documents: an ATX heading line ("## Fares", "# Title #") is shown without its
// syntax. The text is cut into parts [from, to, level] (level 0: not a heading) that keep
// `text`'s own offsets, so spans in document offsets still mark the same characters; the
// hashes are simply never shown. Nothing from the document becomes HTML: parts are text.
const ATX_HEADING = /^(#{1,6}[ \t]+)(.*?)(?:[ \t]+#+)?[ \t\r]*$/;
function markdownParts(text) {
  const parts = [];
  const plain = (from, to) => {
    const last = parts[parts.length - 1];
    if (last && !last[2] && last[1] === from) last[1] = to;
    else if (from < to) parts.push([from, to, 0]);
  };
  let at = 0;
  for (const line of text.split("\n")) {
    const end = at + line.length;
    const match = ATX_HEADING.exec(line);
    if (match && match[2]) {
      const from = at + match[1].length;
      parts.push([from, from + match[2].length, match[1].trim().length]);
    } else {
      plain(at, end);
    }
    if (end < text.length) plain(end, end + 1); // the newline
    at = end + 1;
  }
  return parts;
}

function isMarkdown(source) { return /\.(md|markdown)$/i.test(source || ""); }

// The server's offsets count code points (Python strings), JS strings count UTF-16 units:
// each emoji or rare CJK character before a span would otherwise shift its mark by one.
// `points` code points into `text`, in units; outside `text` the excess is kept as it is.
function toUnits(text, points) {
  if (points <= 0) return points;
  let units = 0;
  for (const char of text) {
    if (points === 0) return units;
    points -= 1;
    units += char.length;
  }
  return units + points;
}

// `text` (at document offset `base`) with `spans` marked, Markdown headings without syntax.
function shownText(text, base, spans, markdown) {
  const local = (spans || []).map((s) => ({
    char_start: toUnits(text, s.char_start - base), char_end: toUnits(text, s.char_end - base),
  }));
  const parts = markdown ? markdownParts(text) : [[0, text.length, 0]];
  return parts.flatMap(([from, to, level]) => {
    const nodes = highlighted(text.slice(from, to), from, local);
    if (!level) return nodes;
    const heading = el("strong", undefined, "md-heading");
    heading.append(...nodes);
    return [heading];
  });
}

// The heading level when all of `text` is one Markdown heading line, else 0.
function headingLevel(text, markdown) {
  if (!markdown) return 0;
  const parts = markdownParts(text.trim());
  return parts.length === 1 ? parts[0][2] : 0;
}

function plainText(text, markdown) {
  return markdown ? markdownParts(text).map(([f, t]) => text.slice(f, t)).join("") : text;
}

// Every answer span in one phrase: "A", "A and B", "A, B and C".
function named(answer) {
  const texts = (answer.spans && answer.spans.length ? answer.spans : [answer]).map((s) => s.text);
  return texts.length < 2 ? texts.join("")
    : `${texts.slice(0, -1).join(", ")} and ${texts[texts.length - 1]}`;
}

function setStatus(text) { $("status").textContent = text; }

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

// --- talking to the server -------------------------------------------------------------

class ApiError extends Error {}

function headers(json) {
  const out = json ? { "content-type": "application/json" } : {};
  const key = $("api-key").value.trim();
  if (key) out.authorization = `Bearer ${key}`;
  return out;
}

// Plain words for what went wrong; the HTTP status is checked before any JSON parsing.
async function failure(response) {
  const type = response.headers.get("content-type") || "";
  let detail = "";
  if (type.includes("application/json")) {
    try {
      const body = await response.json();
      detail = body.error ? body.error.message : "";
    } catch (_) { /* a broken error body: the status says enough */ }
  }
  if (response.status === 401) {
    return new ApiError("This server needs an API key: enter it under Documents.");
  }
  if (response.status === 403) return new ApiError(`Not allowed with this API key. ${detail}`);
  if (response.status === 503 && detail) return new ApiError(detail);
  if (detail) return new ApiError(`The server refused the request: ${detail}`);
  return new ApiError(`The docqa server answered with an error (HTTP ${response.status}). `
    + "If a proxy sits in front of it, check that it is running.");
}

async function send(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError("Can't reach the docqa server. Check that it is running, then try again.");
  }
  if (!response.ok) throw await failure(response);
  return response;
}

async function getJson(path, options = {}) {
  const response = await send(path, { ...options, headers: headers(true) });
  if (!(response.headers.get("content-type") || "").includes("application/json")) {
    throw new ApiError("The server sent something other than JSON: is a proxy in the way?");
  }
  return response.json();
}

// Server-Sent Events from a fetch body: calls onEvent(name, data) per event.
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    }
  }
}

// --- the thread ------------------------------------------------------------------------

function loadThread() {
  try {
    const saved = JSON.parse(localStorage.getItem(THREAD_KEY) || "[]");
    return Array.isArray(saved) ? saved : [];
  } catch (_) {
    return [];
  }
}

function saveThread() {
  thread = thread.slice(-MAX_KEPT);
  try {
    localStorage.setItem(THREAD_KEY, JSON.stringify(thread));
  } catch (_) { /* storage full or blocked: the conversation still works until reload */ }
}

function conversation() {
  const turns = [];
  for (const turn of thread.slice(-CONTEXT_TURNS)) {
    if (turn.state !== "done") continue;
    turns.push({ role: "user", content: turn.question });
    if (turn.found && turn.answer) turns.push({ role: "assistant", content: named(turn.answer) });
  }
  return turns;
}

// A passage that is only a heading ("# Title", a heading paragraph of a Word file) says
// nothing of its own: the list leaves it out unless the answer cites it. The numbers on
// the page count the passages shown (1, 2, 3, 4 with one left out), and the answer's
// marker uses the same numbering; data-rank keeps the server's rank (answer.citation and
// the stream's span ranks are ranks, 1-based, like turn.passages' order).
function isHeadingOnly(passage) {
  const text = passage.text.trim();
  if (text.includes("\n")) return false;
  const section = (passage.citation.section || "").trim();
  return headingLevel(text, isMarkdown(passage.citation.source)) > 0
    || (section !== "" && text === section);
}

function shownPassages(turn) {
  const cited = turn.found && turn.answer ? turn.answer.citation : null;
  const shown = turn.passages
    .map((passage, i) => ({ passage, rank: i + 1 }))
    .filter(({ passage, rank }) => !isHeadingOnly(passage) || rank === cited);
  return shown.map((item, i) => ({ ...item, number: i + 1 }));
}

function citeButton(turn, rank, spans) {
  const passage = turn.passages[rank - 1];
  const shown = shownPassages(turn).find((item) => item.rank === rank);
  const number = shown ? shown.number : rank;
  const button = el("button", String(number), "cite");
  button.type = "button";
  button.setAttribute("aria-label", `Source ${number}: ${passage ? passage.citation.title : ""}`);
  button.addEventListener("click", () => openSource(passage, spans, button));
  button.addEventListener("mouseenter", () => showPreview(button, passage, spans));
  button.addEventListener("focus", () => showPreview(button, passage, spans));
  button.addEventListener("mouseleave", hidePreview);
  button.addEventListener("blur", hidePreview);
  return button;
}

// The answer's spans (every answer the passage gives, with their PDF boxes), in document
// offsets, when the passage of rank `rank` holds them; [] otherwise. A turn saved before
// answers had `spans` has its one span.
function answerSpans(turn, rank) {
  const answer = turn.answer;
  if (!turn.found || !answer || answer.citation !== rank) return [];
  if (answer.spans && answer.spans.length) return answer.spans;
  return [{ char_start: answer.char_start, char_end: answer.char_end }];
}

// "relevance 0.87": the calibrated chance that the passage answers the question. The
// ranking score only orders one question's passages, so it is no more than a tooltip;
// without a relevance (no relevance model for this index or mode) nothing is shown.
function relevanceLabel(passage) {
  if (typeof passage.relevance !== "number") return [];
  const label = el("span", `relevance ${passage.relevance.toFixed(2)}`, "relevance");
  label.title = "Estimated chance that this passage answers the question"
    + (typeof passage.score === "number" ? ` (ranking score ${passage.score.toFixed(3)})` : "");
  return [label];
}

function renderPassages(turn) {
  const box = el("details", undefined, "passages");
  const shown = shownPassages(turn);
  box.append(el("summary", turn.found === false
    ? `Closest passages (${shown.length})` : `Passages (${shown.length})`));
  const list = el("ol");
  for (const { passage, rank } of shown) {
    const item = el("li");
    item.dataset.rank = String(rank);
    const head = el("div", undefined, "passage-head");
    const spans = answerSpans(turn, rank);
    head.append(citeButton(turn, rank, spans), withLang(el("strong", passage.citation.title),
      passage.citation.title), ...relevanceLabel(passage));
    const text = withLang(el("p", undefined, "passage-text"), passage.text);
    text.append(...shownText(passage.text, passage.char_start, spans,
      isMarkdown(passage.citation.source)));
    item.append(head, text);
    list.append(item);
  }
  box.append(list);
  return box;
}

function renderAnswer(turn) {
  if (turn.state === "error") return el("p", turn.error, "error turn-error");
  if (turn.state === "stopped") return el("p", "Stopped before an answer.", "note");
  if (turn.state === "pending") {
    return el("p", turn.passages.length ? "Reading the passages…" : "Searching…", "note");
  }
  if (!turn.found || !turn.answer) {
    return el("p", "I could not find the answer in the indexed documents. "
      + "The closest passages are listed below.", "answer not-found");
  }
  const answer = turn.answer;
  const line = withLang(el("p", undefined, "answer"), answer.text);
  line.append(el("span", named(answer), "answer-text"), " ",
    citeButton(turn, answer.citation, answerSpans(turn, answer.citation)));
  if (!answer.fallback) return line;
  const box = el("div");
  box.append(el("p", "No exact answer was extracted: this is the closest "
    + (answer.kind === "sentence" ? "sentence." : "passage."), "note"), line);
  return box;
}

function renderTurn(turn) {
  const item = el("li", undefined, "turn");
  item.append(withLang(el("p", turn.question, "question"), turn.question), renderAnswer(turn));
  if (turn.passages.length) item.append(renderPassages(turn));
  return item;
}

function render() {
  const list = $("thread");
  list.replaceChildren(...thread.map(renderTurn));
  $("intro").hidden = thread.length > 0;
}

function updateLast() {
  const list = $("thread");
  const fresh = renderTurn(thread[thread.length - 1]);
  if (list.children.length === thread.length) list.replaceChild(fresh, list.lastElementChild);
  else list.append(fresh);
  $("intro").hidden = true;
}

// --- asking ----------------------------------------------------------------------------

function setBusy(busy) {
  $("chat").setAttribute("aria-busy", String(busy));
  $("ask").disabled = busy;
  $("stop").hidden = !busy;
  for (const item of $("thread").children) item.classList.remove("pending-old");
  if (busy) {
    const items = [...$("thread").children];
    for (const item of items.slice(0, -1)) item.classList.add("pending-old");
  }
}

async function ask(question) {
  showError("");
  const context = conversation();
  const turn = { question, state: "pending", passages: [], found: null, answer: null };
  thread.push(turn);
  updateLast();
  setBusy(true);
  setStatus("Searching…");
  controller = new AbortController();
  try {
    const response = await send("/v1/ask", {
      method: "POST",
      headers: headers(true),
      signal: controller.signal,
      body: JSON.stringify({ query: question, top_k: 5, stream: true, conversation: context }),
    });
    await readEvents(response, (name, data) => {
      if (name === "passages") {
        turn.passages = data.passages;
        setStatus("Reading the passages…");
      } else if (name === "answer") {
        turn.found = data.found;
        turn.answer = data.answer;
        for (const spans of data.spans) {
          const passage = turn.passages[spans.rank - 1];
          if (passage) passage.answer = spans.answer;
        }
        turn.state = "done";
      } else if (name === "error") {
        throw new ApiError(data.error.message);
      } else if (name === "done") {
        setStatus(`Answered in ${(data.took_ms / 1000).toFixed(1)} s.`);
      }
      updateLast();
    });
    if (turn.state !== "done") throw new ApiError("The answer stopped halfway: try again.");
    if (!turn.found) setStatus("Not found in the indexed documents.");
    $("announce").textContent = turn.found && turn.answer ? `Answer: ${named(turn.answer)}`
      : "I could not find the answer in the indexed documents.";
  } catch (error) {
    if (error.name === "AbortError") {
      turn.state = "stopped";
      setStatus("Stopped.");
    } else {
      turn.state = "error";
      turn.error = error instanceof ApiError ? error.message : `Something went wrong: ${error}`;
      showError(turn.error);
      setStatus("");
    }
  } finally {
    controller = null;
    saveThread();
    updateLast();
    setBusy(false);
  }
}

$("ask-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question || controller) return;
  $("question").value = "";
  ask(question);
});
$("question").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("ask-form").requestSubmit();
  }
});
$("stop").addEventListener("click", () => { if (controller) controller.abort(); });
$("new-chat").addEventListener("click", () => {
  if (controller) controller.abort();
  thread = [];
  saveThread();
  render();
  closeSource();
  showError("");
  setStatus("New conversation.");
  $("question").focus();
});

// --- citations -------------------------------------------------------------------------

function showPreview(anchor, passage, spans) {
  if (!passage) return;
  const box = $("preview");
  const first = spans.length ? Math.min(...spans.map((s) => s.char_start)) : null;
  const last = spans.length ? Math.max(...spans.map((s) => s.char_end)) : null;
  const at = (offset) => toUnits(passage.text, offset - passage.char_start);
  const cut = spans.length ? passage.text.slice(Math.max(0, at(first) - 80), at(last) + 120)
    : passage.text.slice(0, 240);
  const text = plainText(cut, isMarkdown(passage.citation.source));
  box.replaceChildren(withLang(el("strong", passage.citation.title), passage.citation.title),
    withLang(el("p", `${text}${cut.length < passage.text.length ? "…" : ""}`), text));
  box.hidden = false;
  const rect = anchor.getBoundingClientRect();
  const width = Math.min(448, document.documentElement.clientWidth - 16);
  const left = Math.max(8, Math.min(rect.left, document.documentElement.clientWidth - width - 8));
  box.style.left = `${left + window.scrollX}px`;
  box.style.top = `${rect.bottom + window.scrollY + 6}px`;
}

function hidePreview() { $("preview").hidden = true; }

async function openSource(passage, spans, trigger) {
  hidePreview();
  lastTrigger = trigger;
  const cite = passage.citation;
  $("docs").hidden = true;
  $("docs-toggle").setAttribute("aria-expanded", "false");
  try {
    const path = `/v1/documents/${encodeURIComponent(cite.document_id)}/passages`
      + `?around=${cite.paragraph}&radius=2`;
    const context = await getJson(path);
    const marked = spans.length ? spans
      : [{ char_start: passage.char_start, char_end: passage.char_end }];
    $("source-title").textContent = context.title;
    withLang($("source-title"), context.title);
    const where = [`paragraph ${cite.paragraph}`];
    if (cite.page !== null && cite.page !== undefined) where.push(`page ${cite.page}`);
    if (cite.section) where.push(cite.section);
    $("source-meta").textContent = where.join(" · ");
    let cited = null;
    const markdown = isMarkdown(context.source);
    const paragraphs = context.passages.map((p) => {
      const node = withLang(el("p"), p.text);
      const isCited = p.char_start === passage.char_start;
      if (isCited) {
        node.className = "cited";
        node.tabIndex = -1;
        cited = node;
      }
      node.append(...shownText(p.text, p.char_start, isCited ? marked : [], markdown));
      const level = headingLevel(p.text, markdown);
      if (level) {
        // The panel's own title is an h2: the document's headings sit below it.
        node.setAttribute("role", "heading");
        node.setAttribute("aria-level", String(Math.min(6, level + 2)));
        node.classList.add("doc-heading");
      }
      return node;
    });
    $("source-text").replaceChildren(...paragraphs);
    $("source").hidden = false;
    if (window.showPageImage) window.showPageImage(passage, spans);  // PDFs: page-view.js
    const target = cited || $("source-title");
    target.scrollIntoView({ block: "center" });
    target.focus({ preventScroll: true });
  } catch (error) {
    showError(error instanceof ApiError ? error.message : `Could not open the source: ${error}`);
  }
}

function closeSource() {
  $("source").hidden = true;
  if (lastTrigger && document.contains(lastTrigger)) lastTrigger.focus();
  lastTrigger = null;
}
$("source-close").addEventListener("click", closeSource);
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  hidePreview();
  if (!$("source").hidden) closeSource();
});

// --- documents -------------------------------------------------------------------------

const keyInput = $("api-key");
keyInput.value = localStorage.getItem(KEY_KEY) || "";
keyInput.addEventListener("change", () => localStorage.setItem(KEY_KEY, keyInput.value.trim()));

// Progress and results go to the status line; a refusal (an upload of an unsupported type,
// too large, not allowed) is an alert in the error style, with the server's own words.
function docsStatus(text) {
  $("docs-status").textContent = text;
  $("docs-error").hidden = true;
}
function docsError(error) {
  $("docs-status").textContent = "";
  $("docs-error").textContent = error instanceof ApiError ? error.message : String(error);
  $("docs-error").hidden = false;
}

async function listDocuments() {
  const list = $("doc-list");
  try {
    const body = await getJson("/v1/documents");
    list.replaceChildren(...body.documents.map((doc) => {
      const item = el("li");
      const name = withLang(el("span", doc.title), doc.title);
      const remove = el("button", "Delete", "secondary");
      remove.type = "button";
      remove.setAttribute("aria-label", `Delete ${doc.title}`);
      remove.addEventListener("click", () => deleteDocument(doc));
      item.append(name, remove);
      return item;
    }));
    docsStatus(`${body.total} document${body.total === 1 ? "" : "s"} indexed.`);
  } catch (error) {
    list.replaceChildren();
    docsError(error);
  }
}

async function deleteDocument(doc) {
  if (!window.confirm(`Delete “${doc.title}” from the index?`)) return;
  try {
    await getJson(`/v1/documents/${encodeURIComponent(doc.document_id)}`,
      { method: "DELETE" });
    docsStatus(`Deleted ${doc.title}.`);
    await listDocuments();
    docsStatus(`Deleted ${doc.title}.`);
  } catch (error) {
    docsError(error);
  }
}

async function upload(files) {
  if (!files.length) return;
  const form = new FormData();
  for (const file of files) form.append("files", file, file.name);
  docsStatus(`Uploading and indexing ${files.length} file${files.length === 1 ? "" : "s"}…`);
  try {
    const response = await send("/v1/documents", { method: "POST", headers: headers(false),
      body: form });
    const body = await response.json();
    await listDocuments();
    docsStatus(`Indexed ${body.documents.map((d) => d.title).join(", ")}.`);
  } catch (error) {
    docsError(error);
  }
}

$("files").addEventListener("change", (event) => {
  upload([...event.target.files]);
  event.target.value = "";
});
const drop = $("drop");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  upload([...event.dataTransfer.files]);
});

function toggleDocs(open) {
  $("docs").hidden = !open;
  $("docs-toggle").setAttribute("aria-expanded", String(open));
  if (open) {
    $("source").hidden = true;
    listDocuments();
    $("docs-title").scrollIntoView({ block: "nearest" });
  }
}
$("docs-toggle").addEventListener("click", () => toggleDocs($("docs").hidden));
$("docs-close").addEventListener("click", () => { toggleDocs(false); $("docs-toggle").focus(); });

// A reload during a request leaves a pending turn: it did not finish.
for (const turn of thread) if (turn.state === "pending") turn.state = "stopped";
render();
