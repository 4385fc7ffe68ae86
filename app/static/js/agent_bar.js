// The agent state bar: time in the current state (and the after-call work countdown), F8 示闲,
// F9 示忙; pushed events (server-sent, not polled) redraw the bar and show the screen pop (来电弹屏).
(function () {
  let bar = document.getElementById("agent-bar");
  if (!bar) return;
  const barUrl = bar.getAttribute("action") + "?fragment=1";
  let timer = null;
  const mmss = (seconds) => {
    const s = Math.max(0, Math.floor(seconds));
    return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  };
  function startClock() {
    if (timer) clearInterval(timer);
    const clock = bar.querySelector(".agent-clock");
    const since = bar.dataset.since ? new Date(bar.dataset.since) : null;
    const acwUntil = bar.dataset.acwUntil ? new Date(bar.dataset.acwUntil) : null;
    function tick() {
      if (acwUntil) {
        const left = (acwUntil - Date.now()) / 1000;
        clock.textContent = left > 0 ? `剩 ${mmss(left)}` : "";
      } else if (since) {
        clock.textContent = mmss((Date.now() - since) / 1000);
      }
    }
    if (since || acwUntil) { tick(); timer = setInterval(tick, 1000); }
  }
  async function redrawBar() {
    const response = await fetch(barUrl, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!response.ok) return;
    const holder = document.createElement("div");
    holder.innerHTML = (await response.text()).trim();
    const fresh = holder.querySelector("#agent-bar");
    bar.replaceWith(fresh);
    bar = fresh;
    // The 咨询 / 三方 / 转接 buttons submit a form of their own, drawn beside the bar.
    document.getElementById("agent-talk")?.remove();
    const talk = holder.querySelector("#agent-talk");
    if (talk) bar.after(talk);
    startClock();
  }
  // A team lead's word reaches the agent's screen: a change they made to the agent (a notice that
  // fades) or a broadcast to everyone (kept until the agent closes it, and not shown again after).
  function notify(text, broadcastId) {
    document.getElementById("agent-notice")?.remove();
    const box = document.createElement("div");
    box.id = "agent-notice";
    box.className = broadcastId ? "agent-notice agent-broadcast" : "agent-notice";
    box.setAttribute("role", "alert");
    box.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "知道了";
    close.addEventListener("click", () => {
      box.remove();
      if (broadcastId) localStorage.setItem("hotline.broadcast.seen", String(broadcastId));
    });
    box.appendChild(close);
    document.body.appendChild(box);
    if (!broadcastId) setTimeout(() => box.remove(), 8000);
  }
  function showBroadcast(b) {
    if (b && localStorage.getItem("hotline.broadcast.seen") !== String(b.id)) notify(`广播：${b.text}（${b.author}）`, b.id);
  }
  if (bar.dataset.broadcast) showBroadcast(JSON.parse(bar.dataset.broadcast));
  function press(state) {
    const button = bar.querySelector(`button[value="${state}"]`);
    if (button) button.click();
  }
  // 浏览器软电话: the softphone window says how the phone is; while it rings, the screen pop here
  // offers 接听 too (the window answers). The softphone window itself shows no pop: it is small.
  const inSoftphone = document.body.classList.contains("softphone-window");
  const phone = window.BroadcastChannel ? new BroadcastChannel("hotline-softphone") : null;
  let phoneRinging = false;
  function markPop() {
    const pop = document.getElementById("screen-pop");
    const button = pop?.querySelector(".pop-answer");
    if (pop && phoneRinging && !button) {
      const answer = document.createElement("button");
      answer.type = "button";
      answer.className = "primary pop-answer";
      answer.textContent = "接听（软电话）";
      answer.addEventListener("click", () => phone.postMessage({ command: "answer" }));
      pop.querySelector(".pop-intake").before(answer);
    } else if (button && !phoneRinging) {
      button.remove();
    }
  }
  phone?.addEventListener("message", (event) => {
    if (event.data?.call) { phoneRinging = event.data.call === "ringing"; markPop(); }
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest(".agent-softphone-open")) {
      window.open("/calls/softphone", "hotline-softphone", "width=560,height=760")?.focus();
    }
  });
  async function showPop(contactId) {
    if (inSoftphone) return;
    const response = await fetch(`/calls/contacts/${contactId}/pop`, { credentials: "same-origin" });
    if (!response.ok) return;
    document.getElementById("screen-pop")?.remove();
    const holder = document.createElement("div");
    holder.innerHTML = (await response.text()).trim();
    const pop = holder.firstElementChild;
    document.body.appendChild(pop);
    pop.querySelector(".pop-close").addEventListener("click", () => pop.remove());
    pop.querySelector(".pop-intake").focus();
    markPop();
  }
  document.addEventListener("keydown", (event) => {
    if (event.key === "F8") { event.preventDefault(); press("ready"); }
    if (event.key === "F9") { event.preventDefault(); press("not_ready"); }
    const pop = document.getElementById("screen-pop");
    if (pop && event.key === "Enter" && event.altKey) { event.preventDefault(); pop.querySelector(".pop-intake").click(); }
    if (pop && event.key === "Escape") pop.remove();
  });
  // 来电信息: the pop again, for the call the agent is on (after closing it, or after a page change).
  document.addEventListener("click", (event) => {
    const opener = event.target.closest(".agent-pop-open");
    if (opener && opener.dataset.contact) showPop(opener.dataset.contact);
  });
  startClock();
  if (window.EventSource) {
    const source = new EventSource("/calls/stream");
    source.addEventListener("offer", (event) => { showPop(JSON.parse(event.data).contact_id); redrawBar(); });
    source.addEventListener("presence", (event) => {
      redrawBar();
      const data = JSON.parse(event.data || "{}");
      if (data.notice) notify(data.notice);
    });
    source.addEventListener("broadcast", (event) => showBroadcast(JSON.parse(event.data)));
    // A chat message or a new conversation: the chat console (if open) redraws itself.
    source.addEventListener("chat", (event) => document.dispatchEvent(new CustomEvent("hotline:chat",
                                                                     { detail: JSON.parse(event.data) })));
    // 视频服务: the citizen's answer to the agent's video offer, for the console's video panel.
    source.addEventListener("video", (event) => document.dispatchEvent(new CustomEvent("hotline:video",
                                                                       { detail: JSON.parse(event.data) })));
    // On (re)connecting, catch up: a call offered while the stream was down still pops up.
    source.addEventListener("open", async () => {
      const response = await fetch(bar.getAttribute("action"), { headers: { Accept: "application/json" },
                                                                  credentials: "same-origin" });
      if (!response.ok) return;
      const now = await response.json();
      const shown = document.getElementById("screen-pop");
      if (now.state === "reserved" && now.contact_id && (!shown || shown.dataset.contact !== String(now.contact_id))) {
        showPop(now.contact_id);
      }
    });
    window.addEventListener("beforeunload", () => source.close());
  }
})();
