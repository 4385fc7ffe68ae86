// 在线客服: timers on every conversation (first-response countdown), canned replies, Ctrl+Enter to
// send, and pushed messages (the agent bar's event stream, re-dispatched as "hotline:chat")
// redrawing the list and the open transcript without touching what the agent is typing.
(function () {
  const console_ = document.getElementById("chat-console");
  if (!console_) return;
  const current = console_.dataset.current;
  const pad = (n) => String(n).padStart(2, "0");
  function tick() {
    document.querySelectorAll(".chat-item").forEach((item) => {
      const timer = item.querySelector(".chat-timer");
      const offered = item.dataset.offered ? new Date(item.dataset.offered) : null;
      if (!offered) return;
      if (item.dataset.answered) { timer.textContent = ""; item.classList.remove("late"); return; }
      const left = Math.round(Number(item.dataset.limit) - (Date.now() - offered) / 1000);
      timer.textContent = left >= 0 ? `首次回复 ${pad(left)} 秒` : `已超时 ${-left} 秒`;
      item.classList.toggle("late", left < 0);
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
