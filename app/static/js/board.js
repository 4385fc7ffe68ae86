// 实时监控: the snapshot draws the board; the live feed then moves each agent the moment their
// state is committed (the push carries the state, no request), and a hint that contacts moved
// fetches the queue and day figures again (at most once a second, shared between boards on the
// server). Times in state tick in the page. A pushed state newer than a snapshot is kept.
(function () {
  const board = document.getElementById("board");
  if (!board) return;
  const mayAct = board.dataset.mayAct === "1";
  const grid = document.getElementById("board-agents");
  const agents = new Map(); // user_id -> agent (with .pushedAt, the wall-clock second of the last push)
  let states = {}, reasons = {};
  let snapshotAt = 0;
  const pad = (n) => String(n).padStart(2, "0");
  const percent = (v) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return h ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
  }
  // How long a state may last before the lead's eye is drawn to it (amber, then red), in seconds.
  const LONG = { after_call_work: [10, 30], not_ready: [900, 1800], reserved: [15, 30], held: [60, 180],
                 talking: [600, 1200] };

  function card(agent) {
    let el = grid.querySelector(`[data-agent="${agent.user_id}"]`);
    if (!el) {
      el = document.createElement("button");
      el.type = "button";
      el.className = "agent-card";
      el.dataset.agent = agent.user_id;
      el.innerHTML = '<span class="ac-name"></span><span class="ac-team"></span><span class="ac-state"></span>' +
        '<span class="ac-time"></span><span class="ac-contact"></span>';
      grid.appendChild(el);
    }
    el.className = `agent-card state-${agent.state}`;
    el.disabled = !mayAct;
    el.querySelector(".ac-name").textContent = agent.name;
    el.classList.toggle("remote", Boolean(agent.remote));  // 场外坐席: working from outside the office
    el.querySelector(".ac-name").title = agent.remote ? "场外坐席（不在中心网络内）" : "";
    el.querySelector(".ac-team").textContent = agent.team || "";
    const label = states[agent.state] || agent.state;
    el.querySelector(".ac-state").textContent = agent.state === "not_ready" && agent.reason
      ? `${label}·${reasons[agent.reason] || agent.reason}` : label;
    const extra = [];
    if (agent.contact && ["reserved", "talking", "held", "after_call_work"].includes(agent.state)) extra.push(agent.contact);
    if (agent.chats) extra.push(`会话 ${agent.chats}`);
    el.querySelector(".ac-contact").textContent = extra.join(" · ");
    el.dataset.since = agent.state === "logged_out" ? "" : agent.since || "";
    return el;
  }
  function tickAgents() {
    const now = Date.now();
    grid.querySelectorAll(".agent-card").forEach((el) => {
      const time = el.querySelector(".ac-time");
      if (!el.dataset.since) { time.textContent = ""; el.classList.remove("long", "too-long"); return; }
      const seconds = (now - new Date(el.dataset.since)) / 1000;
      time.textContent = duration(seconds);
      const state = [...el.classList].find((c) => c.startsWith("state-")).slice(6);
      const [amber, red] = LONG[state] || [Infinity, Infinity];
      el.classList.toggle("long", seconds >= amber && seconds < red);
      el.classList.toggle("too-long", seconds >= red);
    });
  }
  function counts() {
    const by = {};
    agents.forEach((a) => { by[a.state] = (by[a.state] || 0) + 1; });
    document.getElementById("board-agent-counts").textContent = ["ready", "reserved", "talking", "after_call_work", "not_ready"]
      .map((s) => `${states[s] || s} ${by[s] || 0}`).join(" · ");
  }
  function order() {  // signed-out agents last, then by name
    [...grid.children].sort((a, b) => (a.classList.contains("state-logged_out") - b.classList.contains("state-logged_out"))
      || a.querySelector(".ac-name").textContent.localeCompare(b.querySelector(".ac-name").textContent, "zh"))
      .forEach((el) => grid.appendChild(el));
  }
  function tile(name, value, level) {
    const el = document.querySelector(`.tile[data-figure="${name}"]`);
    el.querySelector(".tile-value").textContent = value;
    el.classList.remove("ok", "amber", "red");
    if (level) el.classList.add(level);
  }
  function draw(snapshot) {
    states = snapshot.states; reasons = snapshot.reasons;
    snapshotAt = snapshot.stamp;
    const seen = new Set();
    snapshot.agents.forEach((agent) => {
      seen.add(String(agent.user_id));
      const known = agents.get(agent.user_id);
      if (known && known.pushedAt > snapshot.stamp) {  // the push is newer than this snapshot
        agents.set(agent.user_id, { ...agent, state: known.state, reason: known.reason, since: known.since,
                                    contact_id: known.contact_id, pushedAt: known.pushedAt });
      } else {
        agents.set(agent.user_id, { ...agent, pushedAt: 0 });
      }
      card(agents.get(agent.user_id));
    });
    grid.querySelectorAll(".agent-card").forEach((el) => { if (!seen.has(el.dataset.agent)) el.remove(); });
    order(); counts(); tickAgents();
    const t = snapshot.today;
    const phoneQueues = snapshot.queues.filter((q) => q.channel === "phone");
    const waiting = phoneQueues.reduce((n, q) => n + q.waiting, 0);
    const longest = Math.max(0, ...snapshot.queues.filter((q) => q.waiting).map((q) => q.longest_wait));
    const chatsWaiting = snapshot.queues.filter((q) => q.channel === "chat").reduce((n, q) => n + q.waiting, 0);
    tile("waiting", `${waiting}${chatsWaiting ? ` +${chatsWaiting}会话` : ""}`, waiting + chatsWaiting ? "amber" : "ok");
    tile("longest_wait", duration(longest), longest >= 60 ? "red" : longest >= 30 ? "amber" : "ok");
    tile("answer_rate", percent(t.answer_rate), t.levels.answer_rate);
    tile("service_level", `${percent(t.service_level)}`, t.levels.service_level);
    document.querySelector('.tile[data-figure="service_level"] .tile-label').textContent = `服务水平（${t.service_level_seconds} 秒）`;
    tile("abandoned", `${t.abandoned} / ${t.offered}`, t.levels.abandoned);
    tile("handle_seconds", t.handle_seconds === null ? "—" : duration(t.handle_seconds), "");
    tile("acw_seconds", t.acw_seconds === null ? "—" : `${t.acw_seconds} 秒`, t.levels.acw_seconds);
    tile("satisfaction", `${percent(t.satisfaction)}`, t.levels.satisfaction);
    tile("chat_satisfaction", `${t.chat_conversations} · ${percent(t.chat_satisfaction)}`, t.levels.chat_satisfaction);
    tile("tickets_due_today", String(t.tickets_due_today), "");
    tile("tickets_overdue", String(t.tickets_overdue), t.levels.tickets_overdue);
    const rows = document.getElementById("board-queues");
    rows.innerHTML = "";
    snapshot.queues.forEach((q) => {
      const tr = document.createElement("tr");
      tr.dataset.queue = q.code;
      tr.innerHTML = `<td>${q.channel === "chat" ? '<span class="q-chat">在线</span> ' : ""}</td><td class="num"></td><td class="num"></td><td class="num"></td>`;
      tr.children[0].append(q.name);
      tr.children[1].textContent = q.waiting;
      tr.children[2].textContent = q.waiting ? duration(q.longest_wait) : "—";
      if (q.longest_level) tr.children[2].classList.add(q.longest_level);
      tr.children[3].textContent = q.ready;
      rows.appendChild(tr);
    });
    const surge = snapshot.surge;
    document.getElementById("board-surge").hidden = !surge.active;
    document.getElementById("board-surge-text").textContent =
      `排队 ${surge.waiting} 个（阈值 ${surge.limit_waiting}），最长等待 ${duration(surge.longest_wait)}（阈值 ${duration(surge.limit_seconds)}）`;
    const banner = document.getElementById("board-broadcast");
    banner.hidden = !snapshot.broadcast;
    if (snapshot.broadcast) banner.querySelector("span").textContent = `${snapshot.broadcast.text}（${snapshot.broadcast.author}）`;
    board.dispatchEvent(new CustomEvent("board:drawn"));
  }

  let fetching = null, again = false, lastFetch = 0;
  async function refresh() {
    if (fetching) { again = true; return; }
    const wait = Math.max(0, 1000 - (Date.now() - lastFetch));  // at most once a second
    fetching = new Promise((resolve) => setTimeout(resolve, wait)).then(async () => {
      lastFetch = Date.now();
      const response = await fetch(board.dataset.snapshot, { credentials: "same-origin" });
      if (response.ok) draw(await response.json());
    }).catch(() => {}).finally(() => {
      fetching = null;
      if (again) { again = false; refresh(); }
    });
  }
  function applyPush(data) {
    const known = agents.get(data.user_id);
    if (!known) { refresh(); return; }  // someone the board does not know yet
    const moved = { ...known, state: data.state, reason: data.reason, since: data.since, contact_id: data.contact_id,
                    remote: data.remote, pushedAt: data.at };
    if (data.contact_id !== known.contact_id) moved.contact = null;  // the new contact's line comes with the next snapshot
    agents.set(data.user_id, moved);
    card(moved);
    counts(); tickAgents();
    board.dispatchEvent(new CustomEvent("board:agent", { detail: data }));  // for the latency benchmark
  }

  const live = document.getElementById("board-live");
  const source = new EventSource(board.dataset.stream);
  source.addEventListener("open", () => { live.textContent = "● 实时"; live.classList.add("on"); refresh(); });
  source.addEventListener("error", () => { live.textContent = "● 重新连接中"; live.classList.remove("on"); });
  source.addEventListener("agent", (event) => applyPush(JSON.parse(event.data)));
  source.addEventListener("contacts", () => refresh());
  window.addEventListener("beforeunload", () => source.close());
  setInterval(tickAgents, 1000);
  setInterval(refresh, 15000);  // the day figures also move with time (waits grow, deadlines pass)
  const clock = document.getElementById("board-clock");
  setInterval(() => { clock.textContent = new Date().toLocaleTimeString("zh-CN", { hour12: false }); }, 1000);
  document.getElementById("board-full").addEventListener("click", () => {
    const full = document.body.classList.toggle("board-full");
    document.getElementById("board-full").textContent = full ? "退出全屏" : "全屏";
    if (full) document.documentElement.requestFullscreen?.().catch(() => {});
    else if (document.fullscreenElement) document.exitFullscreen();
  });
  refresh();

  if (!mayAct) return;
  // 班长干预: a click on an agent opens their actions; every answer is shown, every refusal explained.
  const csrf = board.dataset.csrf;
  const note = document.getElementById("board-lead-note");
  async function post(url, fields) {
    const body = new FormData();
    body.append("csrf_token", csrf);
    Object.entries(fields).forEach(([k, v]) => (Array.isArray(v) ? v.forEach((x) => body.append(k, x)) : body.append(k, v)));
    const response = await fetch(url, { method: "POST", body, credentials: "same-origin", headers: { Accept: "application/json" } });
    let answer = {};
    try { answer = await response.json(); } catch (e) { answer = { error: "操作失败" }; }
    return { ok: response.ok, ...answer };
  }
  const dialog = document.getElementById("agent-dialog");
  const error = document.getElementById("agent-dialog-error");
  let chosen = null;
  grid.addEventListener("click", (event) => {
    const el = event.target.closest(".agent-card");
    if (!el) return;
    chosen = agents.get(Number(el.dataset.agent));
    document.getElementById("agent-dialog-name").textContent = `${chosen.name}（${chosen.username}）`;
    document.getElementById("agent-dialog-state").textContent = el.querySelector(".ac-state").textContent +
      (el.querySelector(".ac-time").textContent ? ` ${el.querySelector(".ac-time").textContent}` : "");
    fillContact();
    dialog.querySelectorAll('input[name="skill"]').forEach((box) => {
      box.checked = box.dataset.queues.split(",").some((code) => chosen.queues.includes(code));
    });
    error.textContent = "";
    dialog.showModal();
  });
  // The agent's current call and conversations: drawn when the dialog opens, and again when a
  // snapshot brings the call's line (a state push arrives first, carrying only the call's id).
  function fillContact() {
    const contact = document.getElementById("agent-dialog-contact");
    contact.innerHTML = "";
    if (chosen.contact_id && chosen.contact) {
      const open = document.createElement("button");
      open.type = "button";
      open.textContent = `当前来电：${chosen.contact}`;
      open.addEventListener("click", () => showPop(chosen.contact_id));
      contact.appendChild(open);
    }
    (chosen.chat_ids || []).forEach((id, n) => {  // each conversation's transcript (the reading is audited)
      const link = document.createElement("a");
      link.href = `/chats/records/${id}`;
      link.target = "_blank";
      link.textContent = ` 会话 ${n + 1}`;
      contact.appendChild(link);
    });
  }
  board.addEventListener("board:drawn", () => {
    if (!dialog.open || !chosen) return;
    chosen = agents.get(chosen.user_id) || chosen;
    fillContact();
  });
  // The call's screen pop, as the agent sees it (the look is logged like theirs).
  async function showPop(contactId) {
    const response = await fetch(`/calls/contacts/${contactId}/pop`, { credentials: "same-origin" });
    if (!response.ok) { error.textContent = "无法查看该来电"; return; }
    document.getElementById("screen-pop")?.remove();
    const holder = document.createElement("div");
    holder.innerHTML = (await response.text()).trim();
    const pop = holder.firstElementChild;
    pop.querySelector(".pop-close")?.addEventListener("click", () => pop.remove());
    dialog.close();
    document.body.appendChild(pop);
  }
  dialog.querySelectorAll("[data-force]").forEach((button) => button.addEventListener("click", async () => {
    const answer = await post(`/monitor/agents/${chosen.user_id}/state`,
                              { state: button.dataset.force, reason: document.getElementById("agent-dialog-reason").value });
    if (!answer.ok) { error.textContent = answer.error; return; }
    dialog.close();
    note.textContent = `${chosen.name}：${answer.message}`;
  }));
  document.getElementById("agent-dialog-save-queues").addEventListener("click", async () => {
    const skills = [...dialog.querySelectorAll('input[name="skill"]:checked')].map((box) => box.value);
    const answer = await post(`/monitor/agents/${chosen.user_id}/queues`, { skill: skills });
    if (!answer.ok) { error.textContent = answer.error; return; }
    chosen.queues = answer.queues;
    dialog.close();
    note.textContent = `${chosen.name}：${answer.message}`;
  });
  document.getElementById("board-broadcast-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = event.target.elements.text;
    const answer = await post("/monitor/broadcast", { text: text.value });
    note.textContent = answer.ok ? answer.message : answer.error;
    if (answer.ok) { text.value = ""; refresh(); }
  });
  document.getElementById("board-pull")?.addEventListener("click", async () => {
    if (!confirm("将全部示忙坐席转为示闲？")) return;
    const answer = await post("/monitor/pull", {});
    note.textContent = answer.ok ? answer.message : answer.error;
  });
})();
