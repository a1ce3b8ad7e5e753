/* "What did they mean?": the operator labels a customer's message with an intent
 * (docs/console.md); the labels teach the bot at its next retrain. */
import { api, reason } from "./api.js";
import { convError } from "./banner.js";
import { $, el } from "./dom.js";
import { t } from "./labels.js";
import { INTENTS, intentName } from "./names.js";
import { state } from "./state.js";

export function renderMeaning(id) {
  const node = $("transcript").querySelector('[data-id="' + String(id) + '"] [data-testid="meaning"]');
  const current = state.current;
  if (!node || !current) return;
  const known = current.intents[id] || {}, label = known.label || null, open = node.hasAttribute("data-open");
  const menuId = "meaning-menu-" + id;
  const toggle = el("button", {
    type: "button", class: "meaning-toggle" + (label ? " labelled" : ""), testid: "meaning-toggle",
    "aria-expanded": open ? "true" : "false", "aria-controls": menuId,
    title: known.guessed ? t("meaning.guessed", { intent: intentName(known.guessed) }) : null,
    text: label ? t("meaning.meant", { intent: intentName(label.intent) }) : t("meaning.ask")
  });
  if (label) toggle.setAttribute("data-intent", label.intent);
  toggle.addEventListener("click", () => {
    if (node.hasAttribute("data-open")) node.removeAttribute("data-open"); else node.setAttribute("data-open", "");
    renderMeaning(id);
    const first = node.querySelector(open ? "[data-testid=meaning-toggle]" : "[data-testid=meaning-option]");
    if (first) first.focus();
    if (!open) node.scrollIntoView({ block: "nearest" });
  });
  const kids = [toggle];
  if (open) kids.push(menu(id, node, label));
  node.replaceChildren(...kids);
}

function menu(id, node, label) {
  const options = INTENTS.map((intent) => {
    const chosen = !!(label && label.intent === intent);
    const b = el("button", { type: "button", class: "chip-button" + (chosen ? " chosen" : ""), testid: "meaning-option",
      "data-intent": intent, "aria-pressed": chosen ? "true" : "false", text: intentName(intent) });
    b.addEventListener("click", () => { saveMeaning(id, node, intent); });
    return b;
  });
  if (label) {
    const remove = el("button", { type: "button", class: "chip-button remove", testid: "meaning-remove", text: t("meaning.remove") });
    remove.addEventListener("click", () => { saveMeaning(id, node, null); });
    options.push(remove);
  }
  const box = el("div", { class: "meaning-menu", id: "meaning-menu-" + id, role: "group", "aria-label": t("meaning.menu") }, options);
  box.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    node.removeAttribute("data-open");
    renderMeaning(id);
    node.querySelector("[data-testid=meaning-toggle]").focus();
  });
  return box;
}

function saveMeaning(id, node, intent) {
  const conv = state.current, path = "/conversations/" + conv.id + "/messages/" + id + "/intent";
  node.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  api(intent ? "PUT" : "DELETE", path, intent ? { intent: intent } : undefined).then((res) => {
    if (state.current !== conv) return;
    if (res.ok) {
      const known = conv.intents[id] || (conv.intents[id] = { guessed: null });
      known.label = intent ? res.data.label : null;
      node.removeAttribute("data-open");
    } else {
      convError(reason(res, t("meaning.not_saved")));
    }
    renderMeaning(id);
    const toggle = node.querySelector("[data-testid=meaning-toggle]");
    if (toggle) toggle.focus();
  });
}
