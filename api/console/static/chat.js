// memos console: streams a playground answer (server-sent events over fetch). Text is only ever
// set with textContent. Without this script, or when streaming fails, the form posts as usual.
"use strict";

function statsLine(reply) {
  const s = reply.stats;
  const parts = [`time to first token ${s.ttft_s.toFixed(3)} s`];
  if (reply.tokens_per_s) parts.push(`${reply.tokens_per_s.toFixed(1)} tokens/s`);
  parts.push(`${s.prompt_tokens} prompt tokens, ${s.reused_tokens} reused from KV ` +
             `(${s.activation_mode}), ${s.computed_tokens} computed`);
  parts.push(`${s.completion_tokens} generated`, `finish: ${reply.finish_reason}`,
             `adapter: ${reply.adapters.join(", ") || "none"}`);
  return parts.join(" · ");
}

function memoryItem(prefix, hit) {
  const li = document.createElement("li");
  const link = document.createElement("a");
  link.href = `${prefix}/cubes/${encodeURIComponent(hit.item.cube_id)}/memories/` +
              encodeURIComponent(hit.item.id);
  link.textContent = hit.item.text.length > 200 ? hit.item.text.slice(0, 197) + "..." : hit.item.text;
  const why = document.createElement("span");
  why.className = "muted";
  const sources = Object.entries(hit.why).map(([source, info]) =>
    info && info.rank !== undefined ? `${source} #${info.rank}` : source);
  why.textContent = ` score ${hit.score.toFixed(4)} · ${sources.join(", ")}`;
  li.append(link, why);
  return li;
}

function showDone(form, reply) {
  document.getElementById("chat-reply").textContent = reply.text;
  document.getElementById("chat-stats").textContent = statsLine(reply);
  const list = document.getElementById("chat-memories");
  list.replaceChildren(...reply.memories.map((hit) => memoryItem(form.dataset.prefix, hit)));
  if (!reply.memories.length) list.textContent = "No memory was used.";
}

function handle(form, name, data) {
  if (name === "delta") document.getElementById("chat-reply").textContent += data.text;
  else if (name === "done") showDone(form, data);
  else if (name === "error") document.getElementById("chat-stats").textContent = data.message;
}

async function stream(form) {
  const response = await fetch(form.action + "/stream", {
    method: "POST", body: new FormData(form), credentials: "same-origin" });
  if (!response.ok || !response.body) throw new Error(String(response.status));
  document.getElementById("chat-result").hidden = false;
  document.getElementById("chat-reply").textContent = "";
  document.getElementById("chat-stats").textContent = "answering…";
  document.getElementById("chat-memories").replaceChildren();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = (block.match(/^event: (.*)$/m) || [])[1];
      const data = (block.match(/^data: (.*)$/m) || [])[1];
      if (name && data) handle(form, name, JSON.parse(data));
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("chat-form");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    form.querySelector("button[type=submit]").disabled = true;
    stream(form)
      .catch(() => form.submit())  // e.g. bad input: the server's page says what is wrong
      .finally(() => { form.querySelector("button[type=submit]").disabled = false; });
  });
});
