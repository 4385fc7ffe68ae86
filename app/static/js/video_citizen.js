// 视频服务, the citizen's side: 开始视频 asks for an agent (with the answer to recording); the agent's
// offer arrives on the page's own stream, the page answers with its camera and microphone, and the
// picture and sound then go straight between the two browsers.
(function () {
  const page = document.getElementById("webchat");
  const words = JSON.parse(page.dataset.texts);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const start = document.getElementById("wc-start");
  const consent = document.getElementById("wc-consent");
  const state = document.getElementById("wc-video-state");
  const local = document.getElementById("wc-local");
  const remote = document.getElementById("wc-remote");
  let pc = null, media = null;
  window.hotlineVideo = { get pc() { return pc; } };
  async function camera() {
    if (!media) {
      media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      local.srcObject = media;
    }
    return media;
  }
  start.addEventListener("click", async () => {
    start.disabled = true;
    consent.disabled = true;
    try {
      await camera();
      const response = await fetch("/video/start", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ consent: consent.checked, id: `v${Date.now()}` }) });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.error);
      state.textContent = words.video_waiting;
    } catch (error) {
      state.textContent = error.message;
      start.disabled = false;
      consent.disabled = false;
    }
  });
  window.hotlineVisitorStream.addEventListener("signal", async (event) => {
    const data = JSON.parse(event.data);
    if (data.description.type !== "offer") return;
    const stream = await camera();
    if (pc) pc.close();
    pc = new RTCPeerConnection({ iceServers: JSON.parse(page.dataset.ice || "[]") });
    stream.getTracks().forEach((track) => pc.addTrack(track, stream));
    pc.addEventListener("track", (e) => { remote.srcObject = e.streams[0]; });
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "connected") state.textContent = words.video_connected;
    });
    await pc.setRemoteDescription(data.description);
    await pc.setLocalDescription(await pc.createAnswer());
    await window.hotlineRtc.gathered(pc);
    await fetch("/video/signal", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ description: { type: "answer", sdp: pc.localDescription.sdp } }) });
  });
  window.hotlineVisitorStream.addEventListener("ended", () => {
    if (pc) pc.close();
    if (media) media.getTracks().forEach((track) => track.stop());
  });
})();
