// PDF citations: the cited page as an image, the cited lines (or the answer spans') boxed.
// Self-contained: app.js calls window.showPageImage(passage, spans) when a source opens.
"use strict";

window.showPageImage = async function showPageImage(passage, spans) {
  const holder = document.getElementById("source-page");
  if (!holder) return;
  const cite = passage.citation;
  const spanBoxes = (spans || []).flatMap((s) => s.boxes || []);
  const boxes = (spanBoxes.length ? spanBoxes : cite.boxes) || [];
  holder.replaceChildren();
  holder.hidden = boxes.length === 0;
  if (!boxes.length) return;
  const page = boxes[0].page;
  const highlight = boxes.filter((b) => b.page === page)
    .map((b) => [b.x0, b.y0, b.x1, b.y1].join(",")).join(";");
  const url = `/v1/documents/${encodeURIComponent(cite.document_id)}/pages/${page}`
    + `?width=800&highlight=${encodeURIComponent(highlight)}`;
  // fetch, not <img src>, so that the API key travels in the header.
  const headers = {};
  const key = localStorage.getItem("docqa-key");
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(url, { headers });
  if (!response.ok) { holder.hidden = true; return; }
  const img = document.createElement("img");
  img.className = "page-image";
  img.alt = `Page ${page} of ${cite.title}, the cited lines highlighted`;
  img.src = URL.createObjectURL(await response.blob());
  const caption = document.createElement("p");
  caption.className = "note";
  caption.textContent = cite.pages && cite.pages.length > 1
    ? `Pages ${cite.pages.join(", ")}; showing page ${page}` : `Page ${page}`;
  holder.replaceChildren(caption, img);
};
