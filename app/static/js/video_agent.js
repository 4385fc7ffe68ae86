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
  function gathered(connection) {
    if (connection.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      connection.addEventListener("icegatheringstatechange", () => {
        if (connection.iceGatheringState === "complete") resolve();
      });
      setTimeout(resolve, 3000);  // what was gathered by then is enough on one network
    });
  }
  button.addEventListener("click", async () => {
    button.disabled = true;
    state.textContent = "正在打开摄像头…";
    try {
      const media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      local.srcObject = media;
      pc = new RTCPeerConnection({ iceServers: JSON.parse(panel.dataset.ice) });
      media.getTracks().forEach((track) => pc.addTrack(track, media));
      pc.addEventListener("track", (event) => { remote.srcObject = event.streams[0]; });
      pc.addEventListener("connectionstatechange", () => { state.textContent = names[pc.connectionState] || pc.connectionState; });
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
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
})();
