// The managers' process editor: bpmn-js modeler + a properties panel for what the platform reads from a
// diagram (lane = role, user-task form and deadline, conditions, scripts, timers, messages), drafts saved
// to the server, validation problems drawn on the elements, publishing with a reason.
(function () {
  "use strict";

  const state = JSON.parse(document.getElementById("editor-state").textContent);
  const config = JSON.parse(document.getElementById("editor-config").textContent);
  const csrf = document.querySelector('input[name="csrf_token"]').value;
  const $ = (selector) => document.querySelector(selector);
  const canvasEl = $("[data-canvas]");
  const panel = $("[data-props]");
  const statusEl = $("[data-status]");
  const insertButton = $('[data-action="insert-step"]');
  const removeButton = $('[data-action="remove-file"]');

  const files = Object.assign({}, state.files);
  let draftId = state.draft_id;
  let basedOn = state.based_on_version;
  let problems = state.problems || [];
  let current = null; // the .bpmn file on the canvas
  let dirty = false;
  let loading = false;
  let selected = null;

  // The same CJK type as the ticket page's diagram, so that what a manager draws is what agents see.
  const font = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  const modeler = new window.BpmnJS({
    container: canvasEl,
    moddleExtensions: { spiffworkflow: window.SPIFF_MODDLE },
    textRenderer: { defaultStyle: { fontFamily: font, fontSize: 14 }, externalStyle: { fontSize: 13 } },
  });
  const modeling = modeler.get("modeling");
  const moddle = modeler.get("moddle");
  const registry = modeler.get("elementRegistry");
  const canvas = modeler.get("canvas");
  const overlays = modeler.get("overlays");
  const selection = modeler.get("selection");
  window.processEditor = { modeler }; // for people debugging in the console

  const esc = (text) => String(text == null ? "" : text).replace(/[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const say = (text, kind) => { statusEl.textContent = text; statusEl.dataset.kind = kind || "info"; };
  const diagramFiles = () => Object.keys(files).filter((n) => n.endsWith(".bpmn"));
  const formNames = () => Object.keys(files).filter((n) => n.startsWith("forms/")).map((n) => n.slice(6, -5)).sort();

  // ---- files -----------------------------------------------------------------------------------------
  function renderTabs() {
    const tabs = $("[data-file-tabs]");
    tabs.innerHTML = "";
    for (const name of diagramFiles()) {
      const button = document.createElement("button");
      button.type = "button";
      button.setAttribute("role", "tab");
      button.setAttribute("aria-selected", String(name === current));
      const count = problems.filter((p) => p.file === name).length;
      button.innerHTML = esc(name) + (count ? ` <span class="tab-problems">${count}</span>` : "");
      button.addEventListener("click", () => openFile(name));
      tabs.appendChild(button);
    }
  }

  async function stash() {
    if (current && !loading) {
      const { xml } = await modeler.saveXML({ format: true });
      files[current] = xml;
    }
  }

  // Fit the whole diagram to the right of the palette, which floats over the canvas's left edge.
  function frame() {
    const { inner, outer } = canvas.viewbox();
    const palette = 100, margin = 20;
    const scale = Math.min((outer.width - palette - margin) / inner.width, (outer.height - 2 * margin) / inner.height, 1);
    canvas.viewbox({ x: inner.x - palette / scale, y: inner.y - margin / scale,
      width: outer.width / scale, height: outer.height / scale });
  }

  async function openFile(name, elementId) {
    if (name !== current) {
      await stash();
      loading = true;
      try {
        await modeler.importXML(files[name]);
      } catch (error) {
        say(`无法显示 ${name}：${error.message}`, "error");
      } finally {
        loading = false;
      }
      current = name;
      frame();
      renderTabs();
      removeButton.hidden = files[name].includes(`id="${config.main_process}"`);
      markProblems();
      showProperties(null);
    }
    if (elementId) {
      const element = registry.get(elementId);
      if (element) {
        selection.select(element);
        if (!element.waypoints) canvas.scrollToElement(element);
      }
    }
  }

  // A file brought in by mistake (an import, say) can leave the draft; the main process's file cannot.
  function removeFile() {
    if (!current || files[current].includes(`id="${config.main_process}"`)) return;
    if (!window.confirm(`从草稿中移除 ${current}？保存草稿后生效。`)) return;
    delete files[current];
    problems = problems.filter((p) => p.file !== current);
    current = null;
    dirty = true;
    openFile(diagramFiles().find((n) => files[n].includes(`id="${config.main_process}"`)) || diagramFiles()[0])
      .then(() => { renderProblems(); say("已移除文件，保存草稿后生效", "warn"); });
  }

  // ---- problems ----------------------------------------------------------------------------------------
  function markProblems() {
    overlays.remove({ type: "problem" });
    registry.forEach((element) => canvas.removeMarker(element, "has-problem"));
    for (const problem of problems) {
      if (problem.file !== current || !problem.element_id) continue;
      const element = registry.get(problem.element_id);
      if (!element) continue;
      canvas.addMarker(element, "has-problem");
      if (element.waypoints) continue;
      overlays.add(element, "problem", {
        position: { top: -14, right: 14 },
        html: `<div class="problem-badge" data-problem-for="${esc(problem.element_id)}" title="${esc(problem.message)}">!<span class="problem-text">${esc(problem.message)}</span></div>`,
      });
    }
  }

  function renderProblems() {
    const list = $("[data-problems]");
    list.innerHTML = "";
    if (!problems.length) {
      list.innerHTML = `<li class="ok">${draftId ? "校验通过，可以发布。" : "尚未保存草稿：保存时会校验整张流程图。"}</li>`;
    }
    for (const problem of problems) {
      const item = document.createElement("li");
      item.className = "problem";
      item.dataset.elementId = problem.element_id || "";
      item.innerHTML = `<span class="problem-where">${esc(problem.file || "")}${problem.element_id ? " · " + esc(problem.element_id) : ""}</span> ${esc(problem.message)}`;
      if (problem.file && problem.file.endsWith(".bpmn")) {
        item.tabIndex = 0;
        item.addEventListener("click", () => openFile(problem.file, problem.element_id));
      }
      list.appendChild(item);
    }
    renderTabs();
    markProblems();
  }

  // ---- extension properties (spiffworkflow:property) ---------------------------------------------------
  function propsOf(bo) {
    const values = (bo.extensionElements && bo.extensionElements.values) || [];
    return values.find((v) => v.$type === "spiffworkflow:Properties");
  }
  function getProp(bo, name) {
    const props = propsOf(bo);
    const entry = props && (props.properties || []).find((p) => p.name === name);
    return entry ? entry.value || "" : "";
  }
  function setProp(element, name, value) {
    const bo = element.businessObject;
    const ext = bo.extensionElements || moddle.create("bpmn:ExtensionElements", { values: [] });
    let props = propsOf(bo);
    if (!props) {
      props = moddle.create("spiffworkflow:Properties", { properties: [] });
      props.$parent = ext;
      ext.get("values").push(props);
    }
    const list = props.get("properties");
    let entry = list.find((p) => p.name === name);
    if (value) {
      if (!entry) {
        entry = moddle.create("spiffworkflow:Property", { name });
        entry.$parent = props;
        list.push(entry);
      }
      entry.value = value;
    } else if (entry) {
      list.splice(list.indexOf(entry), 1);
    }
    modeling.updateProperties(element, { extensionElements: ext });
  }

  function expression(body) {
    return body ? moddle.create("bpmn:FormalExpression", { body }) : undefined;
  }

  // ---- the properties panel ------------------------------------------------------------------------------
  function laneOf(element) {
    const bo = element.businessObject;
    const lanes = registry.filter((e) => e.type === "bpmn:Lane");
    return lanes.find((lane) => (lane.businessObject.flowNodeRef || []).includes(bo));
  }

  function field(label, html, hint) {
    return `<div class="prop"><label>${esc(label)}${html}</label>${hint ? `<p class="hint">${hint}</p>` : ""}</div>`;
  }

  function showProperties(element) {
    if (element && element.type === "label") element = element.labelTarget; // a caption stands for its element
    selected = element;
    insertButton.disabled = !(element && element.type === "bpmn:SequenceFlow");
    if (!element) {
      panel.innerHTML = '<p class="muted">在图上选中一个元素（步骤、连线、泳道、定时器…），在这里修改它的名称、办理角色、表单、时限和条件。</p>';
      return;
    }
    const bo = element.businessObject;
    const type = element.type.replace("bpmn:", "");
    let html = `<h3>${esc(TYPE_LABELS[type] || type)}</h3>`;
    html += field("编号（ID）", `<input data-prop="id" value="${esc(bo.id)}" pattern="[A-Za-z_][A-Za-z0-9_-]*">`,
      "英文字母、数字和下划线；人工步骤的编号也是它在工单状态中的名字。");
    if (type !== "Process" && type !== "Collaboration") {
      html += field("名称", `<input data-prop="name" value="${esc(bo.name || "")}">`);
    }
    if (type === "Lane") {
      const options = config.lane_roles.map((r) => `<option ${bo.name === r ? "selected" : ""}>${esc(r)}</option>`).join("");
      html += field("办理角色", `<select data-prop="lane-role"><option value="">（请选择）</option>${options}</select>`,
        "泳道名称决定其中人工步骤进入谁的待办：坐席、班长或承办部门经办人。");
    }
    if (["UserTask", "ScriptTask", "CallActivity", "ManualTask", "Task"].includes(type)) {
      const lane = laneOf(element);
      const lanes = registry.filter((e) => e.type === "bpmn:Lane");
      if (lanes.length) {
        const options = lanes.map((l) => `<option value="${esc(l.id)}" ${lane && lane.id === l.id ? "selected" : ""}>${esc(l.businessObject.name || l.id)}</option>`).join("");
        html += field("所在泳道（办理角色）", `<select data-prop="move-lane">${options}</select>`, "选择后步骤移入该泳道。");
      }
    }
    if (type === "UserTask") {
      const form = getProp(bo, "form");
      const options = formNames().map((n) => `<option ${n === form ? "selected" : ""}>${esc(n)}</option>`).join("");
      html += field("表单", `<select data-prop="form"><option value="">（无表单）</option>${options}<option value="__new__">新建表单…</option></select>`,
        "办理此步骤时填写的表单，数据记入工单办理过程。");
      if (form && files[`forms/${form}.json`] !== undefined) {
        html += field(`表单定义 forms/${form}.json（JSON Schema）`,
          `<textarea data-prop="form-schema" rows="14" spellcheck="false">${esc(files[`forms/${form}.json`])}</textarea>`,
          "properties 中每个字段一项：title 为中文名；enum + x-labels 为单选；x-widget: textarea 为多行文本；required 列出必填字段。");
      }
      html += field("时限变量", `<input data-prop="due" value="${esc(getProp(bo, "due"))}" placeholder="例如 handle_due_at">`,
        "流程数据中保存此步骤时限的变量名，收件箱按它排序并标出超时。");
    }
    if (type === "ScriptTask") {
      html += field("脚本（Python，受限环境）", `<textarea data-prop="script" rows="6" spellcheck="false">${esc(bo.script || "")}</textarea>`,
        "只能读写流程数据，不能 import、不能访问文件或网络，运行有时间限制。");
    }
    if (type === "SequenceFlow") {
      const gateway = element.source && element.source.businessObject;
      const isDefault = gateway && gateway.default === bo;
      html += field("条件表达式", `<textarea data-prop="condition" rows="3" spellcheck="false" placeholder="例如 satisfaction == 'dissatisfied'">${esc(bo.conditionExpression ? bo.conditionExpression.body : "")}</textarea>`,
        "Python 表达式，结果为真时走这条线。");
      if (element.source && /Gateway$/.test(element.source.type)) {
        html += `<div class="prop"><label class="check"><input type="checkbox" data-prop="default" ${isDefault ? "checked" : ""}> 默认路径（其他条件都不满足时）</label></div>`;
      }
      html += '<p class="hint">点击工具栏“在连线上插入步骤”可在此连线中间插入新的人工步骤。</p>';
    }
    const definition = (bo.eventDefinitions || [])[0];
    if (definition && definition.$type === "bpmn:TimerEventDefinition") {
      const kind = definition.timeDate ? "timeDate" : definition.timeDuration ? "timeDuration" : definition.timeCycle ? "timeCycle" : "timeDate";
      const value = (definition[kind] && definition[kind].body) || "";
      html += field("定时方式", `<select data-prop="timer-kind">${[["timeDate", "到期时间"], ["timeDuration", "持续时长"], ["timeCycle", "周期"]].map(([k, l]) => `<option value="${k}" ${k === kind ? "selected" : ""}>${l}</option>`).join("")}</select>`);
      html += field("定时表达式", `<input data-prop="timer" value="${esc(value)}" placeholder="例如 handle_due_at 或 add_working_days(now, 1)">`,
        "Python 表达式，结果为 ISO 时间或时长；按工作日历计算时限请用 add_working_days。");
    }
    if (definition && definition.$type === "bpmn:MessageEventDefinition") {
      const messages = (modeler.getDefinitions().rootElements || []).filter((r) => r.$type === "bpmn:Message");
      const currentRef = definition.messageRef && definition.messageRef.id;
      const options = messages.map((m) => `<option value="${esc(m.id)}" ${m.id === currentRef ? "selected" : ""}>${esc(m.name || m.id)}</option>`).join("");
      html += field("消息", `<select data-prop="message"><option value="">（请选择）</option>${options}</select>`,
        "平台发送的消息：satisfaction_received（回访调查或在线评价的满意度）。");
    }
    if (type === "CallActivity") {
      html += field("调用的子流程", `<input data-prop="called" value="${esc(bo.calledElement || "")}">`);
    }
    panel.innerHTML = html;
  }

  const TYPE_LABELS = {
    UserTask: "人工步骤", ScriptTask: "脚本步骤", CallActivity: "子流程", SequenceFlow: "连线", Lane: "泳道",
    ExclusiveGateway: "排他网关", ParallelGateway: "并行网关", StartEvent: "开始事件", EndEvent: "结束事件",
    BoundaryEvent: "边界事件", IntermediateCatchEvent: "中间捕获事件", Participant: "参与者", Task: "任务",
  };

  function moveToLane(element, laneId) {
    const lane = registry.get(laneId);
    if (!lane) return;
    const dy = (lane.y + lane.height / 2) - (element.y + element.height / 2);
    if (Math.abs(dy) > 1) modeling.moveShape(element, { x: 0, y: dy });
  }

  function newFormName(element) {
    let base = element.businessObject.id.toLowerCase().replace(/[^a-z0-9_]/g, "_").replace(/^[^a-z]+/, "");
    if (!base) base = "form";
    let name = base;
    for (let n = 2; files[`forms/${name}.json`] !== undefined; n += 1) name = `${base}_${n}`;
    return name;
  }

  function formTemplate(title) {
    return JSON.stringify({
      title, type: "object", required: ["decision"],
      properties: {
        decision: { type: "string", title: "审批结果", enum: ["approve", "refuse"], "x-labels": { approve: "同意", refuse: "不同意" } },
        opinion: { type: "string", title: "审批意见", "x-widget": "textarea", maxLength: 500 },
      },
    }, null, 2);
  }

  function onPanelChange(event) {
    const target = event.target;
    const prop = target.dataset.prop;
    if (!prop || !selected) return;
    const element = selected;
    const bo = element.businessObject;
    const value = target.type === "checkbox" ? target.checked : target.value;
    if (prop === "id") {
      if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(value) || (registry.get(value) && registry.get(value) !== element)) {
        say("编号只能用英文字母、数字和下划线，且不能与其他元素重复", "error");
        target.value = bo.id;
        return;
      }
      modeling.updateProperties(element, { id: value });
    } else if (prop === "name") {
      modeling.updateLabel(element, value);
    } else if (prop === "lane-role") {
      modeling.updateLabel(element, value);
    } else if (prop === "move-lane") {
      moveToLane(element, value);
    } else if (prop === "form") {
      let name = value;
      if (value === "__new__") {
        name = newFormName(element);
        files[`forms/${name}.json`] = formTemplate(bo.name || "审批");
      }
      setProp(element, "form", name);
    } else if (prop === "form-schema") {
      const form = getProp(bo, "form");
      try {
        JSON.parse(value);
        target.setCustomValidity("");
        files[`forms/${form}.json`] = value;
        markDirty();
      } catch (error) {
        target.setCustomValidity("不是有效的 JSON");
        target.reportValidity();
        say(`表单 ${form} 不是有效的 JSON：${error.message}`, "error");
        return;
      }
    } else if (prop === "due") {
      setProp(element, "due", value.trim());
    } else if (prop === "script") {
      modeling.updateProperties(element, { script: value });
    } else if (prop === "condition") {
      modeling.updateProperties(element, { conditionExpression: expression(value.trim()) });
    } else if (prop === "default") {
      modeling.updateProperties(element.source, { default: value ? bo : undefined });
    } else if (prop === "timer-kind" || prop === "timer") {
      const definition = bo.eventDefinitions[0];
      const kind = panel.querySelector('[data-prop="timer-kind"]').value;
      const text = panel.querySelector('[data-prop="timer"]').value.trim();
      const update = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
      update[kind] = expression(text);
      modeler.get("modeling").updateModdleProperties(element, definition, update);
    } else if (prop === "message") {
      const message = (modeler.getDefinitions().rootElements || []).find((r) => r.id === value);
      modeling.updateModdleProperties(element, bo.eventDefinitions[0], { messageRef: message });
    } else if (prop === "called") {
      modeling.updateProperties(element, { calledElement: value.trim() });
    }
    showProperties(registry.get(bo.id) || element);
  }

  // ---- insert a step on a flow -------------------------------------------------------------------------
  function insertStep() {
    const flow = selected;
    if (!flow || flow.type !== "bpmn:SequenceFlow") return;
    const points = flow.waypoints;
    let best = 0;
    for (let i = 1; i < points.length - 1; i += 1) {
      if (Math.abs(points[i + 1].x - points[i].x) > Math.abs(points[best + 1].x - points[best].x)) best = i;
    }
    const a = points[best], b = points[best + 1];
    const mid = { x: Math.round((a.x + b.x) / 2), y: Math.round((a.y + b.y) / 2) };
    const gap = 160;
    // Make room: everything in the pool right of the insertion point moves right; pool and lanes grow.
    const pool = flow.parent;
    const inside = (e) => e.parent === pool || (e.parent && e.parent.parent === pool) || (e.host && e.host.parent === pool);
    const moving = registry.filter((e) => !e.waypoints && e.type !== "bpmn:Lane" && e.type !== "bpmn:Participant"
      && e.type !== "label" && inside(e) && e.x >= mid.x);
    const resizing = registry.filter((e) => (e.type === "bpmn:Participant" || e.type === "bpmn:Lane")
      && e.x < mid.x && e.x + e.width > mid.x);
    if (moving.length) modeling.createSpace(moving, resizing, { x: gap, y: 0 }, "e", mid.x);
    const target = flow.target;
    const task = modeling.createShape({ type: "bpmn:UserTask" }, { x: mid.x + gap / 2, y: mid.y }, pool);
    modeling.reconnectEnd(flow, task, { x: task.x, y: task.y + task.height / 2 });
    modeling.connect(task, target);
    modeling.updateLabel(task, "新步骤");
    selection.select(task);
    say("已插入新步骤：请在右侧填写名称、编号、泳道与表单", "info");
  }

  // ---- save and publish ----------------------------------------------------------------------------------
  function markDirty() {
    if (loading) return;
    dirty = true;
    say("有未保存的修改", "warn");
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body), credentials: "same-origin",
    });
    let data = {};
    try { data = await response.json(); } catch (error) { data = { error: `服务器返回 ${response.status}` }; }
    return { ok: response.ok, status: response.status, data };
  }

  async function save() {
    await stash();
    say("正在保存并校验…");
    const { ok, data } = await post(config.save_url, { files, draft_id: draftId, based_on_version: basedOn });
    if (!ok) {
      say(data.error || "保存失败", "error");
      return false;
    }
    draftId = data.draft_id;
    problems = data.problems;
    dirty = false;
    $("[data-origin]").textContent = `草稿 #${draftId}`;
    renderProblems();
    say(problems.length ? `已保存草稿 #${draftId}，有 ${problems.length} 个问题需要修改` : `已保存草稿 #${draftId}，校验通过`,
      problems.length ? "error" : "ok");
    return true;
  }

  async function publish() {
    if (dirty || !draftId) {
      if (!(await save())) return;
    }
    if (problems.length) {
      say(`还有 ${problems.length} 个问题，修改后才能发布`, "error");
      return;
    }
    $("[data-publish-dialog]").showModal();
    $("#publish-note").focus();
  }

  async function confirmPublish(event) {
    event.preventDefault();
    const note = $("#publish-note").value.trim();
    if (!note) {
      $("#publish-note").reportValidity();
      return;
    }
    const { ok, data } = await post(config.publish_url, { draft_id: draftId, note });
    if (!ok) {
      $("[data-publish-dialog]").close();
      if (data.problems) {
        problems = data.problems;
        renderProblems();
      }
      say(data.error || "发布失败", "error");
      return;
    }
    dirty = false;
    window.location.href = data.url;
  }

  // ---- wiring -----------------------------------------------------------------------------------------------
  modeler.on("selection.changed", (event) => showProperties(event.newSelection[0] || null));
  modeler.on("commandStack.changed", () => { markDirty(); if (selected) showProperties(registry.get(selected.id) || null); });
  panel.addEventListener("change", onPanelChange);
  insertButton.addEventListener("click", insertStep);
  removeButton.addEventListener("click", removeFile);
  $('[data-action="save"]').addEventListener("click", save);
  $('[data-action="publish"]').addEventListener("click", publish);
  $("[data-publish-form]").addEventListener("submit", confirmPublish);
  $('[data-action="cancel-publish"]').addEventListener("click", () => $("[data-publish-dialog]").close());
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      event.preventDefault();
      save();
    }
  });
  window.addEventListener("beforeunload", (event) => {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  const first = (config.open_file && files[config.open_file] !== undefined) ? config.open_file
    : diagramFiles().find((n) => files[n].includes(`id="${config.main_process}"`)) || diagramFiles()[0];
  openFile(first).then(() => { dirty = false; renderProblems(); say(draftId ? `已打开草稿 #${draftId}` : `已打开第 ${basedOn} 版`); });
})();
