// 视频服务, the agent's side: 接通视频 takes the camera and microphone, makes the offer (its
// candidates gathered, so one message carries it) and sends it through the platform to the citizen's
// page; the citizen's answer comes back over the agent bar's stream ("hotline:video").
(function () {
  const panel = document.getElementById("chat-video");
  if (!panel) return;
  const button = document.getElementById("chat-video-start");
  const state = document.getElementById("chat-video-state");
  const local = document.getElementById("agent-local");
  const remote = document.getElementById("agent-remote");
  const names = { new: "准备中", connecting: "连接中", connected: "视频已接通", disconnected: "连接中断",
                  failed: "连接失败", closed: "已结束" };
  let pc = null;
  window.hotlineVideo = { get pc() { return pc; } };  // for the page's tests and the quality readout
  button.addEventListener("click", async () => {
    button.disabled = true;
    state.textContent = "正在打开摄像头…";
    try {
      const media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      local.srcObject = media;
      pc = new RTCPeerConnection({ iceServers: JSON.parse(panel.dataset.ice) });
      media.getTracks().forEach((track) => pc.addTrack(track, media));
      pc.addEventListener("track", (event) => { remote.srcObject = event.streams[0]; });
      pc.addEventListener("connectionstatechange", () => {
        state.textContent = names[pc.connectionState] || pc.connectionState;
        if (pc.connectionState === "connected") document.dispatchEvent(new CustomEvent("hotline:video-connected"));
      });
      await pc.setLocalDescription(await pc.createOffer());
      await window.hotlineRtc.gathered(pc);
      const response = await fetch(panel.dataset.signal, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": panel.dataset.csrf },
        body: JSON.stringify({ description: { type: "offer", sdp: pc.localDescription.sdp } }) });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.error || "发送失败");
      state.textContent = "等待市民接通…";
    } catch (error) {
      state.textContent = `无法接通视频：${error.message}`;
      button.disabled = false;
    }
  });
  document.addEventListener("hotline:video", async (event) => {
    const data = event.detail;
    if (!pc || String(data.contact_id) !== panel.dataset.contact || data.description.type !== "answer") return;
    await pc.setRemoteDescription(data.description);
  });

  // Recording, only where the citizen agreed: the citizen's picture with both voices, kept in the
  // browser while the session lasts and handed to the platform when the agent ends it.
  let recorder = null;
  const pieces = [];
  function startRecording() {
    if (!panel.dataset.consent || recorder || !window.MediaRecorder) return;
    const theirs = remote.srcObject, mine = local.srcObject;
    const mix = new AudioContext();
    const out = mix.createMediaStreamDestination();
    [theirs, mine].forEach((stream) => {
      if (stream && stream.getAudioTracks().length) mix.createMediaStreamSource(stream).connect(out);
    });
    const tracks = [...theirs.getVideoTracks(), ...out.stream.getAudioTracks()];
    recorder = new MediaRecorder(new MediaStream(tracks), { mimeType: "video/webm", videoBitsPerSecond: 250000 });
    recorder.addEventListener("dataavailable", (event) => { if (event.data.size) pieces.push(event.data); });
    recorder.start(1000);
    state.textContent = "视频已接通 · 录像中";
  }
  document.addEventListener("hotline:video-connected", startRecording);
  async function upload() {
    if (!recorder) return;
    const stopped = new Promise((resolve) => recorder.addEventListener("stop", resolve, { once: true }));
    if (recorder.state !== "inactive") recorder.stop();
    await stopped;
    recorder = null;
    const body = new FormData();
    body.append("recording", new Blob(pieces, { type: "video/webm" }), "session.webm");
    const response = await fetch(panel.dataset.recording, { method: "POST", body, credentials: "same-origin",
                                                            headers: { "X-CSRFToken": panel.dataset.csrf } });
    if (!response.ok) state.textContent = `录像未保存：${(await response.json()).error || response.status}`;
  }
  // 结束会话: the recording is handed over first (the confirmation has already been answered).
  const endForm = document.querySelector(".chat-end");
  if (endForm) {
    endForm.addEventListener("submit", async (event) => {
      if (event.defaultPrevented || !recorder) return;
      event.preventDefault();
      await upload();
      endForm.submit();
    });
  }
})();
