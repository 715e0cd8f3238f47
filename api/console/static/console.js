// memos console: confirmations and live refresh; no inline scripts anywhere (CSP forbids them).
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset ? form.dataset.confirm : null;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// A table marked data-live="N" (jobs in progress) reloads the page every N seconds.
document.addEventListener("DOMContentLoaded", () => {
  const live = document.querySelector("[data-live]");
  if (live) {
    const seconds = Math.max(1, parseInt(live.dataset.live, 10) || 3);
    window.setTimeout(() => window.location.reload(), seconds * 1000);
  }
});
