// 浏览器软电话: the agent's browser is their phone. JsSIP registers with Kamailio over WebSocket
// (with the platform's signed token); a hotline call rings here, is answered here, and its audio
// is WebRTC (rtpengine bridges it to the caller's plain RTP). While the call lasts, the page reports
// WebRTC's own measurements (loss, jitter, round-trip) to the platform, which keeps them per call
// and answers with the grade shown here. The window stays open beside the workspace, so moving
// between pages of the main window never drops a call.
(function () {
  const panel = document.getElementById("softphone");
  if (!panel || !window.JsSIP) return;
  const config = JSON.parse(panel.dataset.config);
  const status = panel.querySelector(".softphone-status");
  const callBox = panel.querySelector(".softphone-call");
  const idle = panel.querySelector(".softphone-idle");
  const answerButton = panel.querySelector(".softphone-answer");
  const holdButton = panel.querySelector(".softphone-hold");
  const muteButton = panel.querySelector(".softphone-mute");
  const hangupButton = panel.querySelector(".softphone-hangup");
  const clock = panel.querySelector(".softphone-clock");
  const audio = panel.querySelector(".softphone-audio");
  const quality = panel.querySelector(".softphone-quality");
  // The workspace windows hear how the phone is (and may ask it to answer): one channel per browser.
  const channel = window.BroadcastChannel ? new BroadcastChannel("hotline-softphone") : null;
  let session = null;
  let callId = null;
  let answeredAt = null;
  let ticking = null;
  let measuring = null;
  let ringer = null;

  function say(state, text) {
    status.dataset.state = state;
    status.textContent = text;
    channel?.postMessage({ phone: state });
  }

  const ua = new JsSIP.UA({
    sockets: [new JsSIP.WebSocketInterface(config.ws_url)],
    uri: config.uri, display_name: config.display_name,
    register: true, register_expires: 300, session_timers: false, user_agent: "Hotline-Softphone",
  });
  ua.registrator().setExtraHeaders([`X-Hotline-Token: ${config.token}`]);
  ua.on("connecting", () => say("connecting", "正在连接…"));
  ua.on("disconnected", () => say("failed", "连接中断，正在重连…"));
  ua.on("registered", () => say("registered", "已注册 · 可接听来电"));
  ua.on("unregistered", () => say("connecting", "未注册"));
  ua.on("registrationFailed", (e) => say("failed", e.response && e.response.status_code === 403
    ? "注册被拒绝：请刷新本窗口（登录可能已过期）" : `注册失败（${e.cause}），正在重试…`));

  function ring(on) {
    if (!on) { ringer?.close(); ringer = null; return; }
    try {  // two short tones every three seconds, made here: no sound file to fetch
      ringer = new AudioContext();
      const gain = ringer.createGain();
      gain.gain.value = 0.08;
      gain.connect(ringer.destination);
      for (let start = 0; start < 60; start += 3) {
        for (const offset of [0, 0.5]) {
          const tone = ringer.createOscillator();
          tone.frequency.value = 440;
          tone.connect(gain);
          tone.start(ringer.currentTime + start + offset);
          tone.stop(ringer.currentTime + start + offset + 0.35);
        }
      }
    } catch (error) { ringer = null; }
  }

  const mmss = (s) => `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(Math.floor(s % 60)).padStart(2, "0")}`;

  function show(phase) {
    callBox.hidden = phase === "idle";
    idle.hidden = phase !== "idle";
    quality.hidden = phase === "ringing";
    callBox.classList.toggle("ringing", phase === "ringing");
    callBox.dataset.phase = phase;
    answerButton.hidden = phase !== "ringing";
    holdButton.hidden = muteButton.hidden = phase === "ringing";
    hangupButton.textContent = phase === "ringing" ? "拒接" : "挂断";
  }
  show("idle");

  async function measure(final) {
    const pc = session?.connection;
    if (!pc || !callId) return;
    let inbound = null; let remote = null; let pair = null;
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio") inbound = s;
      if (s.type === "remote-inbound-rtp" && s.kind === "audio") remote = s;
      if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") pair = s;
    });
    if (!inbound) return;
    // The far end's receiver reports give the round trip; without them, ICE's consent checks do.
    const rtt = remote?.roundTripTime ?? pair?.currentRoundTripTime;
    const sample = { call_id: callId, packets_received: inbound.packetsReceived || 0,
                     packets_lost: Math.max(0, inbound.packetsLost || 0), jitter_ms: (inbound.jitter || 0) * 1000,
                     rtt_ms: rtt == null ? null : rtt * 1000 };
    quality.dataset.packetsReceived = sample.packets_received;
    const response = await fetch(panel.dataset.qualityUrl, {
      method: "POST", credentials: "same-origin", keepalive: final,
      headers: { "Content-Type": "application/json", "X-CSRFToken": panel.dataset.csrf },
      body: JSON.stringify(sample),
    });
    if (!response.ok) return;
    const q = await response.json();
    const grade = quality.querySelector(".q-grade");
    grade.textContent = q.grade_label;
    grade.className = `q-grade quality-${q.grade}`;
    quality.querySelector(".q-loss").textContent = `${q.loss_pct}%`;
    quality.querySelector(".q-jitter").textContent = `${q.jitter_ms} ms`;
    quality.querySelector(".q-rtt").textContent = q.rtt_ms == null ? "—" : `${q.rtt_ms} ms`;
  }

  function finished() {
    ring(false);
    clearInterval(ticking);
    clearInterval(measuring);
    session = null; answeredAt = null;
    setTimeout(() => { if (!session) { callId = null; show("idle"); } }, 1500);
    channel?.postMessage({ call: "ended" });
  }

  ua.on("newRTCSession", (e) => {
    if (e.originator !== "remote") return;
    if (session) { e.session.terminate({ status_code: 486, reason_phrase: "Busy Here" }); return; }
    session = e.session;
    callId = e.request.call_id;
    panel.querySelector(".softphone-number").textContent = session.remote_identity.uri.user || "未知号码";
    clock.textContent = "";
    quality.querySelectorAll("dd").forEach((dd) => { dd.textContent = "—"; dd.className = dd.className.split(" ")[0]; });
    holdButton.textContent = "保持";
    muteButton.setAttribute("aria-pressed", "false");
    show("ringing");
    ring(true);
    channel?.postMessage({ call: "ringing" });
    session.on("peerconnection", (p) => p.peerconnection.addEventListener("track", (t) => {
      audio.srcObject = t.streams[0] || new MediaStream([t.track]);
    }));
    session.on("confirmed", () => {
      ring(false);
      answeredAt = Date.now();
      show("talking");
      ticking = setInterval(() => { clock.textContent = mmss((Date.now() - answeredAt) / 1000); }, 1000);
      measuring = setInterval(() => measure(false).catch(() => {}), 3000);
      channel?.postMessage({ call: "talking" });
    });
    session.on("hold", () => { holdButton.textContent = "恢复"; callBox.dataset.phase = "held"; });
    session.on("unhold", () => { holdButton.textContent = "保持"; callBox.dataset.phase = "talking"; });
    session.on("ended", finished);
    session.on("failed", finished);
  });

  function answer() {
    if (!session || answerButton.hidden) return;
    ring(false);
    session.answer({ mediaConstraints: { audio: true, video: false },
                     pcConfig: { iceServers: config.ice_servers || [] } });
  }
  answerButton.addEventListener("click", answer);
  hangupButton.addEventListener("click", async () => {
    if (!session) return;
    if (!answerButton.hidden) { session.terminate({ status_code: 486, reason_phrase: "Busy Here" }); return; }
    const ending = session;
    // The last figures, while the connection still has them (a caller's hang-up loses at most 3 s).
    await Promise.race([measure(true).catch(() => {}), new Promise((r) => setTimeout(r, 1000))]);
    try { ending.terminate(); } catch (error) { /* the caller hung up meanwhile */ }
  });
  holdButton.addEventListener("click", () => {
    if (!session) return;
    if (session.isOnHold().local) session.unhold(); else session.hold();
  });
  muteButton.addEventListener("click", () => {
    if (!session) return;
    const muted = session.isMuted().audio;
    if (muted) session.unmute({ audio: true }); else session.mute({ audio: true });
    muteButton.setAttribute("aria-pressed", String(!muted));
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !answerButton.hidden && !event.target.closest("input, textarea, select")) {
      event.preventDefault();
      answer();
    }
  });
  // The screen pop in the workspace window can answer too (接听), through the channel.
  channel?.addEventListener("message", (event) => {
    if (event.data?.command === "answer") answer();
    if (event.data?.command === "status") say(status.dataset.state, status.textContent);
  });
  window.addEventListener("beforeunload", (event) => {
    if (session) { event.preventDefault(); event.returnValue = "通话中：关闭本窗口会挂断电话。"; }
  });
  ua.start();
})();
