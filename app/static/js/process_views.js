// Read-only diagrams of process versions: one version with a tab per file (version page), or two versions
// side by side with added / changed / removed elements marked (diff page).
(function () {
  "use strict";

  const font = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  const Viewer = window.BpmnJS && (window.BpmnJS.NavigatedViewer || window.BpmnJS);
  const viewer = (container) => new Viewer({
    container, textRenderer: { defaultStyle: { fontFamily: font, fontSize: 14 }, externalStyle: { fontSize: 13 } },
  });
  const diagrams = (files) => Object.keys(files).filter((name) => name.endsWith(".bpmn"));

  function tabs(names, onOpen) {
    const box = document.querySelector("[data-file-tabs]");
    const buttons = names.map((name) => {
      const button = document.createElement("button");
      button.type = "button";
      button.setAttribute("role", "tab");
      button.textContent = name;
      button.addEventListener("click", () => open(name));
      box.appendChild(button);
      return button;
    });
    function open(name) {
      buttons.forEach((b) => b.setAttribute("aria-selected", String(b.textContent === name)));
      onOpen(name);
    }
    if (names.length) open(names[0]);
  }

  async function show(view, xml) {
    if (!xml) {
      await view.clear();
      return false;
    }
    await view.importXML(xml);
    view.get("canvas").zoom("fit-viewport", "auto");
    return true;
  }

  const versionBox = document.querySelector("[data-version-diagram]");
  if (versionBox && Viewer) {
    const files = JSON.parse(document.getElementById("diagram-files").textContent);
    const view = viewer(versionBox);
    tabs(diagrams(files), (name) => show(view, files[name]));
  }

  const oldBox = document.querySelector('[data-diff-side="old"]');
  if (oldBox && Viewer) {
    const data = JSON.parse(document.getElementById("diff-data").textContent);
    const oldView = viewer(oldBox);
    const newView = viewer(document.querySelector('[data-diff-side="new"]'));
    const names = [...new Set([...diagrams(data.old), ...diagrams(data.new)])];
    tabs(names, async (name) => {
      const hasOld = await show(oldView, data.old[name]);
      const hasNew = await show(newView, data.new[name]);
      for (const change of data.changes.filter((c) => c.file === name)) {
        // Added elements exist only in the new version, removed only in the old; changed ones in both.
        if (change.kind !== "added" && hasOld) mark(oldView, change);
        if (change.kind !== "removed" && hasNew) mark(newView, change);
      }
    });
  }

  function mark(view, change) {
    const element = view.get("elementRegistry").get(change.element_id);
    if (element) view.get("canvas").addMarker(element, `diff-${change.kind}`);
  }
})();
