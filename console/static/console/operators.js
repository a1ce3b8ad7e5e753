/* The admins' Operators dialog: list, add, deactivate and reactivate accounts. */
import { api, reason } from "./api.js";
import { $, el, showResult } from "./dom.js";
import { t } from "./labels.js";
import { roleLabel } from "./names.js";
import { state } from "./state.js";

function operatorsResult(text, kind) { showResult($("operators-result"), text, kind); }

function loadOperators() {
  return api("GET", "/operators").then((res) => {
    const body = $("operators-list");
    body.textContent = "";
    if (!res.ok) { operatorsResult(reason(res, t("operators.not_listed")), "error"); return; }
    const list = Array.isArray(res.data) ? res.data : (res.data.operators || []);
    list.forEach((op) => { body.appendChild(operatorRow(op)); });
  });
}

function operatorRow(op) {
  const active = op.active !== false, self = !!(state.me && op.id === state.me.id);
  const toggle = el("button", { type: "button", testid: "operator-toggle", text: active ? t("operators.deactivate") : t("operators.reactivate"),
    disabled: self ? true : null, title: self ? t("operators.not_yourself") : null });
  toggle.addEventListener("click", () => {
    toggle.disabled = true;
    api("PATCH", "/operators/" + op.id, { active: !active }).then((r) => {
      const name = op.display_name || op.username;
      if (r.ok) operatorsResult(active ? t("operators.deactivated", { name: name }) : t("operators.reactivated", { name: name }), "ok");
      else operatorsResult(reason(r, t("error.did_not_work")), "error");
      loadOperators();
    });
  });
  return el("tr", { testid: "operator-row", "data-username": String(op.username), class: active ? "" : "inactive" }, [
    el("td", { text: String(op.username) }),
    el("td", { text: String(op.display_name || "") }),
    el("td", { text: roleLabel(op.role) }),
    el("td", { testid: "operator-status", text: active ? t("operators.active") : t("operators.inactive") }),
    el("td", {}, [toggle])
  ]);
}

function addOperator(e) {
  e.preventDefault();
  const form = e.target, body = {
    username: form.elements.username.value.trim(), display_name: form.elements.display_name.value.trim(),
    password: form.elements.password.value, role: form.elements.role.value
  };
  if (!body.username || !body.display_name || !body.password) { operatorsResult(t("operators.fill_in"), "error"); return; }
  $("operator-add").disabled = true;
  api("POST", "/operators", body).then((res) => {
    $("operator-add").disabled = false;
    if (res.ok) {
      form.reset();
      operatorsResult(t("operators.added", { name: body.display_name }), "ok");
      loadOperators();
    } else {
      operatorsResult(reason(res, t("operators.not_added")), "error");
    }
  });
}

export function closeOperators() {
  const dialog = $("operators");
  if (dialog.open) dialog.close();
}

export function initOperators() {
  $("operators-open").addEventListener("click", () => {
    operatorsResult(null);
    const dialog = $("operators");
    if (!dialog.open) dialog.showModal();
    loadOperators();
  });
  $("operators-close").addEventListener("click", closeOperators);
  $("operator-form").addEventListener("submit", addOperator);
}
