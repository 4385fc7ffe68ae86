// 在线客服: timers on every conversation (first reply, waiting, close), canned replies, Ctrl+Enter to
// send, and pushed messages (the agent bar's event stream, re-dispatched as "hotline:chat")
// redrawing the list and the open transcript without touching what the agent is typing.
(function () {
  const console_ = document.getElementById("chat-console");
  if (!console_) return;
  const current = console_.dataset.current;
  const pad = (n) => String(n).padStart(2, "0");
  // Each conversation shows the one clock that matters now: the first reply (counting down from
  // 30 s), how long the citizen's question has waited, or — once the citizen has their answer or has
  // left — the 30 s to close it (人工挂机时长), which the reports measure the same way.
  const since = (value) => (Date.now() - new Date(value)) / 1000;
  function clock(item) {
    const d = item.dataset;
    if (!d.offered) return null;
    if (!d.answered) return countdown("首次回复", Number(d.firstLimit) - since(d.offered));
    if (d.left) return countdown("结束", Number(d.closeLimit) - since(d.left));  // the badge says 已离开
    if (d.waiting) {
      const waited = Math.round(since(d.waiting));
      return { text: `待回复 ${Math.floor(waited / 60)}:${pad(waited % 60)}`, late: waited > 60 };
    }
    if (d.last) return countdown("结束", Number(d.closeLimit) - since(d.last));
    return null;
  }
  function countdown(label, left) {
    left = Math.round(left);
    return left >= 0 ? { text: `${label} ${pad(left)} 秒`, late: false } : { text: `${label}已超 ${-left} 秒`, late: true };
  }
  function tick() {
    document.querySelectorAll(".chat-item").forEach((item) => {
      const shown = clock(item);
      item.querySelector(".chat-timer").textContent = shown ? shown.text : "";
      item.classList.toggle("late", Boolean(shown && shown.late));
    });
  }
  async function redraw() {
    const base = `${location.pathname}?c=${current || ""}`;
    const [list, transcript] = await Promise.all([
      fetch(`${base}&part=list`, { credentials: "same-origin" }), fetch(`${base}&part=transcript`, { credentials: "same-origin" })]);
    if (list.ok) document.getElementById("chat-list").innerHTML = await list.text();
    if (transcript.ok) {
      document.getElementById("chat-transcript").innerHTML = await transcript.text();
      scrollDown();
    }
    tick();
  }
  function scrollDown() {
    const box = document.getElementById("chat-messages");
    if (box) box.scrollTop = box.scrollHeight;
  }
  const form = document.getElementById("chat-reply");
  const text = document.getElementById("chat-text");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const response = await fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
                                                  headers: { Accept: "application/json" } });
      if (response.ok) { text.value = ""; redraw(); }
      else { alert((await response.json()).error || "发送失败"); }
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.ctrlKey) { event.preventDefault(); form.requestSubmit(); }
    });
    document.getElementById("chat-canned").addEventListener("change", (event) => {
      if (event.target.value) { text.value = event.target.value; event.target.value = ""; text.focus(); }
    });
    text.focus();
  }
  // 知识库推荐: answers for the citizen's last question (or what the agent is typing); a click or F2
  // puts a public answer into the reply box.
  const kb = document.getElementById("chat-kb");
  let found = [];
  async function suggest(query) {
    if (!kb || !query || query.trim().length < 2) return;
    const response = await fetch(`${kb.dataset.suggest}?q=${encodeURIComponent(query)}`, { credentials: "same-origin" });
    if (!response.ok) return;
    found = (await response.json()).articles.slice(0, 3);
    const list = document.getElementById("chat-kb-list");
    list.innerHTML = "";
    found.forEach((article, n) => {
      const item = document.createElement("li");
      item.className = article.visibility === "public" ? "kb-public" : "kb-internal";
      item.dataset.n = n;
      item.innerHTML = `<strong>${article.question}</strong>${article.visibility === "public" ? "" : " <span class=\"badge\">内部</span>"}<br><span class="muted">${article.snippet}</span>`;
      list.appendChild(item);
    });
  }
  function insert(article) {
    if (!article || article.visibility !== "public" || !text) return;
    text.value = text.value ? `${text.value}\n${article.answer}` : article.answer;
    text.focus();
  }
  if (kb) {
    kb.addEventListener("click", (event) => {
      const item = event.target.closest("li[data-n]");
      if (item) insert(found[Number(item.dataset.n)]);
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "F2") { event.preventDefault(); insert(found.find((a) => a.visibility === "public")); }
    });
    let pending = null;
    text?.addEventListener("input", () => {
      clearTimeout(pending);
      pending = setTimeout(() => suggest(text.value || kb.dataset.question), 300);
    });
    suggest(kb.dataset.question);
  }
  document.addEventListener("hotline:chat", redraw);
  scrollDown();
  tick();
  setInterval(tick, 1000);
})();
