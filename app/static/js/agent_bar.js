// The agent state bar: time in the current state (and the after-call work countdown), F8 示闲, F9 示忙.
(function () {
  const bar = document.getElementById("agent-bar");
  if (!bar) return;
  const clock = bar.querySelector(".agent-clock");
  const since = bar.dataset.since ? new Date(bar.dataset.since) : null;
  const acwUntil = bar.dataset.acwUntil ? new Date(bar.dataset.acwUntil) : null;
  const mmss = (seconds) => {
    const s = Math.max(0, Math.floor(seconds));
    return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  };
  function tick() {
    if (acwUntil) {
      const left = (acwUntil - Date.now()) / 1000;
      clock.textContent = left > 0 ? `剩 ${mmss(left)}` : "";
      if (left <= -2) window.location.reload(); // the worker has put the agent back to ready
    } else if (since) {
      clock.textContent = mmss((Date.now() - since) / 1000);
    }
  }
  if (since || acwUntil) { tick(); setInterval(tick, 1000); }
  function press(state) {
    const button = bar.querySelector(`button[value="${state}"]`);
    if (button) button.click();
  }
  document.addEventListener("keydown", (event) => {
    if (event.key === "F8") { event.preventDefault(); press("ready"); }
    if (event.key === "F9") { event.preventDefault(); press("not_ready"); }
  });
})();
