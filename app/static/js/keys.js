// Keyboard-first work: global shortcuts, Ctrl+Enter to submit, J/K in the inbox, intake toggles.
(function () {
  "use strict";
  // A form that asks first (data-confirm): no inline handlers, so the pages run under a strict CSP.
  // Capturing on the document, the question comes before any other submit handler of the form.
  document.addEventListener("submit", function (e) {
    var question = e.target.dataset && e.target.dataset.confirm;
    if (question && !window.confirm(question)) { e.preventDefault(); e.stopImmediatePropagation(); }
  }, true);
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }
  document.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
      var form = e.target.closest && e.target.closest("form[data-submit-shortcut]");
      if (form) { e.preventDefault(); form.requestSubmit(); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(document.activeElement)) return;
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr.inbox-row"));
    var at = rows.indexOf(document.activeElement);
    if (e.key === "n" || e.key === "N") {
      var intake = document.body.dataset.intakeUrl;
      if (intake) { e.preventDefault(); window.location.href = intake; }
    } else if ((e.key === "j" || e.key === "k") && rows.length) {
      e.preventDefault();
      var next = e.key === "j" ? Math.min(at + 1, rows.length - 1) : Math.max(at - 1, 0);
      rows[next].focus();
    } else if (e.key === "Enter" && at >= 0) {
      window.location.href = rows[at].dataset.href;
    }
  });
  // Intake: show the reply box or the department choice according to the chosen handling.
  var form = document.getElementById("intake-form");
  if (form) {
    var sync = function () {
      var onSpot = form.querySelector("input[name=handling][value=on_spot]").checked;
      form.querySelector(".on-spot-part").hidden = !onSpot;
      form.querySelector(".dispatch-part").hidden = onSpot;
    };
    form.addEventListener("change", sync);
    sync();
  }
  // Task forms: a field that belongs to one choice shows only while that choice is made.
  document.querySelectorAll("form").forEach(function (f) {
    var dependants = f.querySelectorAll("[data-when-field]");
    if (!dependants.length) return;
    var sync = function () {
      dependants.forEach(function (box) {
        var chosen = f.querySelector("[name='" + box.dataset.whenField + "']:checked") ||
                     f.querySelector("select[name='" + box.dataset.whenField + "']");
        box.hidden = !chosen || chosen.value !== box.dataset.whenValue;
      });
    };
    f.addEventListener("change", sync);
    sync();
  });
  // Deadline countdowns tick once a minute.
  document.querySelectorAll("[data-due]").forEach(function (box) {
    var due = new Date(box.dataset.due), value = box.querySelector("[data-countdown]");
    var tick = function () {
      var ms = due - new Date(), past = ms < 0, mins = Math.floor(Math.abs(ms) / 60000);
      var d = Math.floor(mins / 1440), h = Math.floor((mins % 1440) / 60), m = mins % 60;
      value.textContent = (past ? "已超期 " : "剩余 ") + (d ? d + " 天 " : "") + h + " 小时 " + m + " 分";
      box.classList.toggle("overdue", past);
    };
    tick();
    setInterval(tick, 60000);
  });
  var first = document.querySelector("tr.inbox-row");
  if (first && !typing(document.activeElement)) first.focus();
})();
