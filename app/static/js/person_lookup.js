// Intake: when the caller's number is entered, the insured people registered with it are shown (masked, and the
// look is logged as part of this call); 关联 links the ticket to one of them.
(function () {
  "use strict";
  const box = document.querySelector("[data-person-lookup]");
  const phone = document.querySelector("#f-caller_phone");
  const chosen = document.querySelector("#f-person_id");
  if (!box || !phone || !chosen) return;
  let asked = "";
  let found = [];
  // The look is logged as part of this intake; the context names the intake, never the caller's number.
  const context = `call:intake-${Date.now().toString(36)}`;
  const csrf = document.querySelector('input[name="csrf_token"]').value;
  const esc = (text) => String(text == null ? "" : text).replace(/[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  function render(people) {
    box.hidden = false;
    if (!people.length) {
      box.innerHTML = '<span class="muted">该号码未登记参保人资料。</span>';
      return;
    }
    box.innerHTML = people.map((p) => `
      <div class="person-match${String(p.id) === chosen.value ? " linked" : ""}">
        <strong>${esc(p.name)}</strong> <span>${esc(p.id_number)}</span>
        <span class="badge badge-on">${esc(p.insurance_type_label)}</span> <span>${esc(p.insured_status_label)}</span>
        <span class="muted">${esc(p.region)}</span>
        <a href="${esc(p.url)}" target="_blank" rel="noopener">资料</a>
        <button type="button" class="small" data-link-person="${p.id}">${String(p.id) === chosen.value ? "已关联" : "关联"}</button>
      </div>`).join("");
  }

  async function look() {
    const number = phone.value.replace(/\s+/g, "");
    if (number === asked || number.length < 7) return;
    asked = number;
    try {
      // POST, so that the number stays out of URLs and web-server logs
      const response = await fetch(box.dataset.personLookup, {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf },
        body: new URLSearchParams({ phone: number, context }),
      });
      if (!response.ok) {
        box.hidden = true;
        return;
      }
      found = (await response.json()).people;
      render(found);
    } catch (error) {
      box.hidden = true;
    }
  }

  phone.addEventListener("change", look);
  phone.addEventListener("blur", look);
  box.addEventListener("click", (event) => {
    const button = event.target.closest("[data-link-person]");
    if (!button) return;
    chosen.value = chosen.value === button.dataset.linkPerson ? "" : button.dataset.linkPerson;
    render(found); // no new look: the same people, shown again
  });
})();
