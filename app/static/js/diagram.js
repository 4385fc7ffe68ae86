// The ticket's process diagram (the visible closed loop): bpmn-js draws the BPMN of the ticket's own process version,
// and the elements the ticket has passed, waits at and whose time limits fired are marked.
(function () {
  "use strict";

  var VIEWS = { main: "xml", subprocess: "subprocess_xml" };
  // Below this scale the Chinese labels are too small to read: zoom in on the current step instead of fitting all.
  var MIN_SCALE = 0.6;

  function message(box, text) {
    var note = box.querySelector(".diagram-message");
    if (!note) {
      note = document.createElement("div");
      note.className = "diagram-message";
      box.appendChild(note);
    }
    note.textContent = text;
  }

  function mark(viewer, state) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var active = new Set(state.active);
    var fired = new Set(state.fired);
    var done = new Set(state.completed.filter(function (id) { return !active.has(id); }));
    registry.forEach(function (element) {
      var bo = element.businessObject;
      // Pools, lanes and labels are frames and captions, not steps.
      if (element.type === "label" || !bo || /^bpmn:(Participant|Lane|Process|Collaboration)$/.test(element.type)) return;
      var id = element.id;
      var marker = active.has(id) ? "active" : fired.has(id) ? "fired" : done.has(id) ? "done" : "pending";
      canvas.addMarker(id, marker);
      if (marker === "fired" && element.label) canvas.addMarker(element.label, "fired");
    });
  }

  function frame(viewer, state) {
    var canvas = viewer.get("canvas");
    canvas.zoom("fit-viewport", "auto");
    var viewbox = canvas.viewbox();
    if (viewbox.scale >= MIN_SCALE) return;
    var registry = viewer.get("elementRegistry");
    var focus = state.active.map(function (id) { return registry.get(id); }).filter(Boolean)[0];
    var inner = viewbox.inner;
    var width = viewbox.outer.width / MIN_SCALE;
    var height = viewbox.outer.height / MIN_SCALE;
    var x = focus ? focus.x + focus.width / 2 - width / 2 : inner.x;
    x = Math.max(inner.x - 20, Math.min(x, inner.x + inner.width + 20 - width));
    canvas.viewbox({ x: x, y: inner.y + inner.height / 2 - height / 2, width: width, height: height });
  }

  function Diagram(box) {
    this.box = box;
    this.panel = box.closest(".diagram-panel") || box.parentElement;
    this.state = null;
    this.view = "main";
    var Viewer = window.BpmnJS && (window.BpmnJS.NavigatedViewer || window.BpmnJS);
    if (!Viewer) {
      message(box, "流程图组件未安装（请运行 scripts/build_assets.sh）。");
      return;
    }
    // Larger type than bpmn-js's 12px Arial, in a CJK font, so that the Chinese names stay legible when the whole
    // diagram is fitted into the panel; scripts/bpmn_layout.py sizes the label boxes for this 13px external font.
    var font = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';
    this.viewer = new Viewer({
      container: box,
      textRenderer: { defaultStyle: { fontFamily: font, fontSize: 14 }, externalStyle: { fontSize: 13 } }
    });
    this.tabs = Array.prototype.slice.call(this.panel.querySelectorAll("[data-diagram-view]"));
    var self = this;
    this.tabs.forEach(function (tab) {
      tab.addEventListener("click", function () { self.show(tab.getAttribute("data-diagram-view")); });
    });
    var fit = this.panel.querySelector("[data-diagram-fit]");
    if (fit) fit.addEventListener("click", function () { self.viewer.get("canvas").zoom("fit-viewport", "auto"); });
    this.load();
  }

  Diagram.prototype.load = function () {
    var self = this;
    message(self.box, "正在加载流程图…");
    fetch(self.box.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (state) {
        self.state = state;
        return self.show(self.view);
      })
      .catch(function () { message(self.box, "流程图加载失败，请刷新页面重试。"); });
  };

  Diagram.prototype.show = function (view) {
    var self = this;
    self.view = view;
    self.tabs.forEach(function (tab) {
      tab.setAttribute("aria-selected", String(tab.getAttribute("data-diagram-view") === view));
    });
    if (!self.state) return Promise.resolve();
    var xml = self.state[VIEWS[view]];
    if (!xml) {
      message(self.box, "该流程版本没有这张图。");
      return Promise.resolve();
    }
    // One viewer for both diagrams: a viewer in a hidden tab would measure zero and fit to nothing.
    return self.viewer.importXML(xml).then(function () {
      var note = self.box.querySelector(".diagram-message");
      if (note) note.remove();
      mark(self.viewer, self.state);
      frame(self.viewer, self.state);
      self.box.setAttribute("data-rendered", view);
    }).catch(function () {
      message(self.box, "该流程版本的图形无法显示（缺少布局信息）。");
    });
  };

  function init(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(".bpmn-diagram[data-url]"), function (box) {
      if (!box.hotlineDiagram) box.hotlineDiagram = new Diagram(box);
    });
  }

  window.HotlineDiagram = { init: init };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(); });
  else init();
})();
