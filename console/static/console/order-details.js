/* An order's parts as label/value lists: the customer, the delivery, the payment. */
import { el, humanise } from "./dom.js";
import { fmtDateTime, fmtDay, fmtMoney } from "./format.js";
import { t } from "./labels.js";
import { methodLabel, paymentStatusLabel } from "./names.js";

// [[label, value]] -> <dl>, skipping empty values
export function pairs(rows) {
  const dl = el("dl", { class: "pairs" });
  rows.forEach((r) => {
    const v = r[1];
    if (v == null || v === "") return;
    dl.appendChild(el("dt", { text: r[0] }));
    dl.appendChild(el("dd", {}, [v instanceof Node ? v : String(v)]));
  });
  return dl;
}

// A delivery's or payment's field, whatever its shape.
function describe(value) {
  if (value == null || value === "") return null;
  if (typeof value === "boolean") return value ? t("value.yes") : t("value.no");
  if (Array.isArray(value)) return value.map(describe).filter(Boolean).join(", ");
  if (typeof value === "object") {
    return Object.keys(value).map((k) => { const d = describe(value[k]); return d ? humanise(k) + ": " + d : null; })
      .filter(Boolean).join(", ");
  }
  const s = String(value);
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(s) ? fmtDateTime(s) : s;
}

function fmtDate(day) { return /^\d{4}-\d\d-\d\d$/.test(String(day || "")) ? fmtDay(day) : describe(day); }

function address(value) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    return Object.keys(value).map((k) => describe(value[k])).filter(Boolean).join(", ");
  }
  return describe(value);
}

// known: [[key, label, format]]; fields the page does not know yet follow, as they come.
function objectPairs(obj, known) {
  if (!obj || typeof obj !== "object") return null;
  const seen = {}, rows = known.map((k) => { seen[k[0]] = true; return [k[1], k[2](obj[k[0]])]; });
  Object.keys(obj).forEach((k) => { if (!seen[k]) rows.push([humanise(k), describe(obj[k])]); });
  return rows.some((r) => r[1]) ? pairs(rows) : null;
}

function section(title, body) {
  return body ? el("div", { class: "order-part" }, [el("h4", { text: title }), body]) : null;
}

export function deliverySection(d) {
  return section(t("order.delivery"), objectPairs(d, [
    ["method", t("order.method"), methodLabel], ["address", t("order.address"), address],
    ["date", t("order.date"), fmtDate], ["slot", t("order.slot"), describe],
    ["pickup_location", t("order.pickup_point"), address]]));
}

export function paymentSection(p, currency) {
  return section(t("order.payment"), objectPairs(p, [
    ["method", t("order.method"), methodLabel], ["status", t("order.status"), paymentStatusLabel],
    ["due_date", t("order.due"), fmtDate],
    ["refunded", t("order.refunded"), (v) => (Number(v) > 0 ? fmtMoney(v, currency) : null)]]));
}
