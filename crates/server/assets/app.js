// Consailt's progressive enhancements. Every page works without this file; with it the
// header's search box shows results as you type, the editor previews Markdown live, and AI
// answers stream into the page.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// Search as you type: a listbox under the header's box, navigable with the arrow keys.
function searchBox() {
  const input = document.getElementById("site-search");
  const list = document.getElementById("search-suggestions");
  if (!input || !list) return;
  let controller = null;
  let active = -1;
  const options = () => Array.from(list.querySelectorAll('[role="option"]'));
  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const select = (index) => {
    const all = options();
    all.forEach((el, i) => el.setAttribute("aria-selected", i === index ? "true" : "false"));
    active = index;
    if (all[index]) {
      input.setAttribute("aria-activedescendant", all[index].id);
      all[index].scrollIntoView({ block: "nearest" });
    }
  };
  const fetchSuggestions = debounce(async () => {
    const q = input.value.trim();
    if (!q) return close();
    if (controller) controller.abort();
    controller = new AbortController();
    try {
      const response = await fetch("/search/suggest?q=" + encodeURIComponent(q), {
        signal: controller.signal,
        headers: { Accept: "text/html" },
      });
      if (!response.ok) return close();
      list.innerHTML = await response.text();
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    } catch (error) {
      if (error.name !== "AbortError") close();
    }
  }, 180);
  input.addEventListener("input", fetchSuggestions);
  input.addEventListener("keydown", (event) => {
    const all = options();
    if (event.key === "ArrowDown" && all.length) {
      event.preventDefault();
      select((active + 1) % all.length);
    } else if (event.key === "ArrowUp" && all.length) {
      event.preventDefault();
      select((active - 1 + all.length) % all.length);
    } else if (event.key === "Enter" && active >= 0 && all[active]) {
      event.preventDefault();
      window.location.href = all[active].href;
    } else if (event.key === "Escape") {
      close();
    }
  });
  document.addEventListener("click", (event) => {
    if (!list.contains(event.target) && event.target !== input) close();
  });
}

// The editor's live preview: the server renders (and sanitizes) the Markdown.
function livePreview() {
  const textarea = document.querySelector("textarea[data-preview]");
  if (!textarea) return;
  const pane = document.getElementById(textarea.dataset.preview);
  if (!pane) return;
  const render = debounce(async () => {
    const body = new URLSearchParams({ csrf: csrfToken(), body: textarea.value });
    try {
      const response = await fetch("/preview", { method: "POST", body });
      if (response.ok) pane.innerHTML = await response.text();
    } catch (_) {
      // The preview is a convenience; saving still works.
    }
  }, 250);
  textarea.addEventListener("input", render);
  render();
}

// The tag picker: the organization's tags as buttons that add themselves to the field (they
// stay hidden without JavaScript, where the field is typed into).
function tagPicker() {
  document.querySelectorAll(".tag-picker").forEach((picker) => {
    const field = document.getElementById(picker.dataset.for);
    if (!field) return;
    const current = () => field.value.split(",").map((t) => t.trim().toLowerCase()).filter(Boolean);
    const refresh = () => {
      const have = new Set(current());
      picker.querySelectorAll("button[data-tag]").forEach((button) => {
        button.hidden = have.has(button.dataset.tag);
      });
    };
    picker.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-tag]");
      if (!button) return;
      field.value = current().concat(button.dataset.tag).join(", ");
      refresh();
      field.focus();
    });
    field.addEventListener("input", refresh);
    refresh();
  });
}

// Streamed AI answers: a form marked data-stream="ID" posts with stream=1 and shows the answer
// in #ID as it arrives (Server-Sent Events), then its sources. Without this the form posts
// normally and the answer comes back as a page.
function streamedAnswers() {
  document.querySelectorAll("form[data-stream]").forEach((form) => {
    const output = document.getElementById(form.dataset.stream);
    if (!output || !window.fetch || !window.TextDecoder) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector('button[type="submit"]');
      const body = new URLSearchParams(new FormData(form));
      body.set("stream", "1");
      output.hidden = false;
      output.replaceChildren();
      const answer = document.createElement("p");
      answer.className = "answer";
      output.append(answer);
      const fail = (message) => {
        const p = document.createElement("p");
        p.className = "error";
        p.setAttribute("role", "alert");
        p.textContent = message;
        output.append(p);
      };
      if (button) button.disabled = true;
      try {
        const response = await fetch(form.action, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body,
          credentials: "same-origin",
        });
        if (!(response.headers.get("Content-Type") || "").startsWith("text/event-stream")) {
          const error = await response.json().catch(() => null);
          fail(error && error.error ? error.error.message : `The request failed (HTTP ${response.status}).`);
          return;
        }
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const name = (block.match(/^event: ?(.*)$/m) || [])[1];
            const data = (block.match(/^data: ?(.*)$/m) || [])[1];
            if (!name || data === undefined) continue;
            const payload = JSON.parse(data);
            if (name === "delta") answer.textContent += payload.text;
            if (name === "done") showSources(output, answer, payload);
            if (name === "error") fail(payload.error ? payload.error.message : "The answer failed.");
          }
        }
      } catch (error) {
        fail("The connection was lost before the answer was complete.");
      } finally {
        if (button) button.disabled = false;
      }
    });
  });
}

function showSources(output, answer, done) {
  answer.textContent = done.answer;
  if (done.citations.length) {
    const heading = document.createElement("h3");
    heading.textContent = "Sources";
    const list = document.createElement("ol");
    list.className = "citations";
    done.citations.forEach((c) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `/items/${encodeURIComponent(c.item_id)}`;
      link.textContent = c.title;
      const quote = document.createElement("blockquote");
      quote.textContent = c.passage;
      item.append(link, quote);
      list.append(item);
    });
    output.append(heading, list);
  }
  const by = document.createElement("p");
  by.className = "muted";
  const small = document.createElement("small");
  by.append(small);
  small.textContent = `Answered by ${done.model}${done.extractive ? " (extractive: quoted from your knowledge base, not generated)" : ""}.`;
  output.append(by);
}

document.addEventListener("DOMContentLoaded", () => {
  searchBox();
  livePreview();
  tagPicker();
  streamedAnswers();
});
