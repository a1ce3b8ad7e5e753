/* What the server's keys (reasons, channels, languages, intents, statuses) are called on the page. */
import { humanise } from "./dom.js";
import { has, t } from "./labels.js";

// The intents (DESIGN.md; dialog.nlu.INTENTS) in the order "What did they mean?" offers them.
export const INTENTS = [
  "order_status", "cancel_order", "change_delivery", "return_order", "payment", "product_availability",
  "human", "greet", "goodbye", "thanks", "affirm", "deny", "out_of_scope"
];

// The label "<group>.<key>" when there is one, else the key made readable.
function named(group, key) {
  return has(group + "." + key) ? t(group + "." + key) : humanise(key);
}

export function reasonLabel(r) { return r ? named("reason", r) : t("reason.none"); }
export function channelLabel(c) { return named("channel", c) || t("channel.unknown"); }
export function languageLabel(l) { return l ? (has("language." + l) ? t("language." + l) : String(l)) : t("language.unknown"); }
export function intentName(intent) { return named("intent", intent); }
export function taskKindLabel(kind) { return named("task_kind", kind) || t("task_kind.unknown"); }
export function statusLabel(status) { return named("order_status", status); }
export function roleLabel(role) { return named("role", role); }
export function methodLabel(method) { return named("method", method); }
export function paymentStatusLabel(status) { return named("payment_status", status); }

function identified(c) { return !!(c && (c.name || c.email)); }

export function customerName(c) { return identified(c) ? c.name || c.email : t("customer.anonymous"); }

export function senderLabel(m, customer) {
  if (m.from === "customer") return identified(customer) ? customerName(customer) : t("sender.customer");
  if (m.from === "operator") return m.author || t("sender.operator");
  return t("sender.bot");
}
