/* Internal notes on the open conversation: for other operators, never shown to the customer. */
import { api, reason } from "./api.js";
import { $, el, show } from "./dom.js";
import { fmtDateTime, fmtTime } from "./format.js";
import { t } from "./labels.js";
import { state } from "./state.js";

export function renderNotes() {
  const list = $("notes"), current = state.current;
  list.textContent = "";
  if (!current) return;
  if (!current.notes.length) list.appendChild(el("li", { class: "empty", text: t("notes.none") }));
  current.notes.forEach((n) => {
    list.appendChild(el("li", { class: "note", testid: "note" }, [
      el("div", { class: "meta", text: [n.author || t("sender.operator"), fmtTime(n.at)].filter(Boolean).join(" \u00b7 "), title: fmtDateTime(n.at) }),
      el("div", { class: "text", testid: "note-text", text: String(n.text == null ? "" : n.text) })
    ]));
  });
}

export function initNotes() {
  $("note-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const conv = state.current, input = $("note-input"), text = input.value.trim(), error = $("note-error");
    if (!conv || !text) return;
    $("note-add").disabled = true;
    api("POST", "/conversations/" + conv.id + "/notes", { text: text }).then((res) => {
      $("note-add").disabled = false;
      if (state.current !== conv) return;
      if (res.ok && res.data.note) {
        conv.notes.push(res.data.note);
        input.value = "";
        show(error, false);
        renderNotes();
      } else {
        error.textContent = reason(res, t("notes.not_saved"));
        show(error, true);
      }
    });
  });
}
