// 视频服务, shared by the citizen's page and the agent's console: a session description is sent once,
// with every candidate in it, so no candidate messages need relaying.
window.hotlineRtc = {
  gathered(connection) {
    if (connection.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      connection.addEventListener("icegatheringstatechange", () => {
        if (connection.iceGatheringState === "complete") resolve();
      });
      setTimeout(resolve, 3000);  // what was gathered by then is enough on one network
    });
  },
};
