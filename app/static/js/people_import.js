// The import pages: the upload form's file name, and while a job runs, poll the status endpoint,
// move the bar and reload when it is done.
(function () {
  "use strict";
  // The upload form: a Chinese "选择文件" button in place of the browser's own file control text.
  var input = document.getElementById("file");
  var shown = document.getElementById("file-name");
  if (input && shown) {
    input.addEventListener("change", function () {
      shown.textContent = input.files.length ? input.files[0].name : shown.getAttribute("data-empty");
    });
  }
  var card = document.querySelector("[data-status-url]");
  if (!card) { return; }
  var bar = document.getElementById("import-progress");
  var text = document.getElementById("progress-text");
  var badge = document.getElementById("import-status");

  function poll() {
    fetch(card.getAttribute("data-status-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) { window.setTimeout(poll, 3000); return; }
        bar.value = status.progress;
        bar.textContent = status.progress + "%";
        text.textContent = status.progress + "%" + (status.status === "committing" ? "，已写入 " + status.written_rows + " 行" : "");
        badge.textContent = status.status_label;
        if (status.running) { window.setTimeout(poll, 1000); } else { window.location.reload(); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
}());
