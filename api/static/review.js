// The review UI's keyboard shortcuts (the pages work without them: every action is a button or a link).
// Served by the app itself, so the pages' CSP (script-src 'self') admits it; no inline script anywhere.
"use strict";

(function () {
  const form = document.getElementById("review-form");
  if (!form) {
    queuePage();
    return;
  }
  const box = document.getElementById("text");
  const byId = (id) => document.getElementById(id);

  function submit(buttonId) {
    const button = byId(buttonId);
    if (!button) return false;
    button.form.requestSubmit(button);
    return true;
  }
  function go(linkId) {
    const link = byId(linkId);
    if (link) window.location.assign(link.href);
  }
  function put(text) {
    box.value = text;
    box.focus();
    box.setSelectionRange(text.length, text.length);
  }
  function useMatch(n) {
    const match = byId(`match-${n}`);
    if (match) put(match.textContent);
  }
  function copySource() {
    put(byId("source").textContent);
  }
  function toggleHelp() {
    const help = byId("shortcuts");
    help.open = !help.open;
    if (help.open) help.scrollIntoView({ block: "nearest" });
  }

  // Mouse users get the same: buttons that only work with the script are shown by it.
  for (const button of document.querySelectorAll("button.use-match")) {
    button.hidden = false;
    button.addEventListener("click", () => useMatch(button.dataset.match));
  }
  const copy = byId("copy-source");
  copy.hidden = false;
  copy.addEventListener("click", copySource);

  // Focus starts in the text box (autofocus), with the caret after the text.
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);

  const oneKey = {
    a: () => submit("approve"),
    s: () => submit("save"),
    r: () => byId("note") && byId("note").focus(),
    n: () => go("skip"),
    j: () => go("skip"),
    p: () => go("previous"),
    k: () => go("previous"),
    c: copySource,
    e: () => box.focus(),
    i: () => box.focus(),
    o: () => byId("override") && byId("override").focus(),
    "?": toggleHelp,
  };

  document.addEventListener("keydown", (event) => {
    if (event.isComposing || event.defaultPrevented) return; // an input method is composing Indic text
    const target = event.target;
    const typing = target instanceof HTMLElement && target.matches("textarea, input, select");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit("approve");
      return;
    }
    if (event.key === "Enter" && target === box && !event.shiftKey && !event.altKey) {
      if (byId("approve")) {
        event.preventDefault();
        submit("approve");
      }
      return;
    }
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
      event.preventDefault(); // not the browser's "save page"
      submit("save");
      return;
    }
    if (event.key === "Escape" && typing) {
      target.blur();
      return;
    }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (/^[1-9]$/.test(event.key)) {
      event.preventDefault();
      useMatch(event.key);
      return;
    }
    const action = oneKey[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  function queuePage() {
    // A checkbox in the queue's header selects every unit of the page.
    const table = document.querySelector("table.queue");
    if (!table) return;
    const boxes = table.querySelectorAll("tbody input[name=unit]");
    const all = document.createElement("input");
    all.type = "checkbox";
    all.id = "select-page";
    all.setAttribute("aria-label", "Select every unit of this page");
    all.addEventListener("change", () => boxes.forEach((b) => (b.checked = all.checked)));
    table.querySelector("thead th").append(all);
  }
})();
