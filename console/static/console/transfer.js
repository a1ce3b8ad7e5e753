/* Transfer: the operator holding a conversation gives it to an active colleague. It moves to
 * their queue on every console; the customer is told nothing and simply hears from the
 * colleague next. */
import { api, reason } from "./api.js";
import { $, el, show } from "./dom.js";
import { t } from "./labels.js";
import { heldByMe, isAdmin, state } from "./state.js";

let colleagues = null; // [{id, display_name}], fetched when first needed

function mayTransfer(c) { return !!c && (heldByMe(c) || (isAdmin() && c.status === "claimed")); }

function fillColleagues() {
  const select = $("transfer-to");
  select.textContent = "";
  (colleagues || []).forEach((o) => { select.appendChild(el("option", { value: String(o.id), text: o.display_name })); });
  $("transfer").disabled = !(colleagues && colleagues.length);
}

// The open conversation's transfer form: shown to the one who may give it away.
export function renderTransfer() {
  const c = state.current && state.current.conversation;
  const on = mayTransfer(c);
  show($("transfer-form"), on);
  if (on && colleagues === null) {
    colleagues = [];
    api("GET", "/colleagues").then((res) => {
      colleagues = res.ok ? (res.data.operators || []) : null;
      fillColleagues();
    });
  }
}

// A live change of a conversation: if the open one moved from one operator to another, a
// notice in its transcript says so.
export function transferChanged(before, after) {
  const current = state.current;
  if (!current || !after || current.id !== after.id) return;
  const from = before && before.status === "claimed" && before.operator;
  const to = after.status === "claimed" && after.operator;
  if (from && to && from.key !== to.key) {
    $("transcript").appendChild(el("li", { class: "notice", testid: "transfer-notice",
      text: t("transfer.notice", { from: from.name, to: to.name }) }));
  }
  renderTransfer();
}

export function initTransfer(onConversation) {
  $("transfer-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const conv = state.current, to = $("transfer-to").value, error = $("tools-error");
    if (!conv || !to) return;
    $("transfer").disabled = true;
    api("POST", "/conversations/" + conv.id + "/transfer", { operator_id: Number(to) }).then((res) => {
      $("transfer").disabled = false;
      if (state.current !== conv) return;
      if (res.ok && res.data.conversation) { show(error, false); onConversation(res.data.conversation); }
      else { error.textContent = reason(res, t("error.did_not_work")); show(error, true); }
    });
  });
}

export function clearTransfer() { colleagues = null; }
