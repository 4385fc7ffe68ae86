// The citizen's chat: messages sent as JSON (with the page's CSRF token and an id, so a retried
// request is stored once), replies pushed over server-sent events, the rating once the agent ends.
(function () {
  const list = document.getElementById("wc-messages");
  const form = document.getElementById("wc-form");
  const text = document.getElementById("wc-text");
  const rating = document.getElementById("wc-rating");
  const leave = document.getElementById("wc-leave");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const page = document.getElementById("webchat");
  const words = JSON.parse(page.dataset.texts);  // in the page's language
  const base = page.dataset.base || "/chat";  // /chat or /video (the video page's side chat)
  const shown = new Set();
  let rated = false;
  function add(direction, body, id) {
    if (id && shown.has(id)) return;
    if (id) shown.add(id);
    const item = document.createElement("li");
    item.className = `wc-msg wc-${direction}`;
    item.textContent = body;
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }
  function note(body) {
    const item = document.createElement("li");
    item.className = "wc-note";
    item.textContent = body;
    list.appendChild(item);
  }
  async function load() {
    const response = await fetch(`${base}/history`, { credentials: "same-origin" });
    if (!response.ok) return;
    const now = await response.json();
    now.messages.filter((m) => m.kind !== "event").forEach((m) => add(m.direction, m.text, m.id));
    // Only what the history knows changes the button: an answer that left before the page's own
    // first message was stored must not hide it again.
    if (now.state) leave.hidden = now.state === "ended";
    if (now.state === "ended" && !now.rated && !rated) rating.hidden = false;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = text.value.trim();
    if (!body) return;
    const response = await fetch(`${base}/send`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ text: body, id: `${Date.now()}-${Math.random().toString(16).slice(2, 10)}` }) });
    const answer = await response.json();
    if (!response.ok) { note(answer.error || words.send_failed); return; }
    add("in", body, answer.id);
    text.value = "";
    rating.hidden = true;
    leave.hidden = false;
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  rating.addEventListener("click", async (event) => {
    const choice = event.target.closest("button[data-rating]");
    if (!choice) return;
    const response = await fetch(`${base}/rate`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ rating: choice.dataset.rating }) });
    const answer = await response.json();
    rated = true;
    rating.hidden = true;
    note(answer.message || answer.error);
  });
  // 结束对话: the citizen is done; the agent closes the conversation and the rating is asked then.
  leave.addEventListener("click", async () => {
    if (!confirm(words.leave_confirm)) return;
    const response = await fetch(`${base}/leave`, {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf } });
    const answer = await response.json();
    leave.hidden = true;
    note(answer.message || answer.error);
  });
  const source = new EventSource(`${base}/stream`);
  window.hotlineVisitorStream = source;  // the video page's script listens on the same stream
  source.addEventListener("reply", (event) => { const m = JSON.parse(event.data); add("out", m.text, m.message_id); });
  source.addEventListener("ended", () => { note(words.ended); rating.hidden = false; leave.hidden = true; });
  // On (re)connecting, catch up from the history: a reply or the end pushed while the stream was
  // down (or not yet open) is shown all the same.
  source.addEventListener("open", load);
  window.addEventListener("beforeunload", () => source.close());
})();
