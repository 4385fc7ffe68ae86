// 排班表: a click on an empty cell opens a new shift for that agent and day; a click on a shift
// opens it for change or deletion. The form posts normally (the page comes back with the result).
(function () {
  const grid = document.getElementById("schedule-grid");
  const dialog = document.getElementById("shift-dialog");
  if (!grid || !dialog) return;
  const form = document.getElementById("shift-form");
  const remove = document.getElementById("shift-delete");
  function open(cell, shift) {
    form.elements.agent_id.value = cell.dataset.agent;
    form.elements.day.value = cell.dataset.day;
    form.elements.start.value = shift ? shift.dataset.start : "08:30";
    form.elements.end.value = shift ? shift.dataset.end : "17:30";
    form.elements.label.value = shift ? shift.dataset.label : "";
    form.action = shift ? `${form.dataset.new}/${shift.dataset.shift}` : form.dataset.new;
    remove.hidden = !shift;
    remove.formAction = shift ? `${form.dataset.new}/${shift.dataset.shift}/delete` : "";
    document.getElementById("shift-title").textContent = `${cell.dataset.name} · ${cell.dataset.day}${shift ? " · 修改班次" : " · 新增班次"}`;
    dialog.showModal();
  }
  grid.addEventListener("click", (event) => {
    const cell = event.target.closest(".shift-cell");
    if (!cell) return;
    open(cell, event.target.closest(".shift"));
  });
  remove.addEventListener("click", (event) => { if (!confirm("删除这个班次？")) event.preventDefault(); });
  document.getElementById("shift-cancel").addEventListener("click", () => dialog.close());
})();
