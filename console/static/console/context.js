/* The context panel: who the customer is, their orders, and what an operator may do to an
 * order (cancel, reschedule, create a return, resend the payment link). */
import { api, reason } from "./api.js";
import { $, el, show } from "./dom.js";
import { confirmAction } from "./confirm.js";
import { fmtDateTime, fmtDay, fmtMoney, safeUrl } from "./format.js";
import { t } from "./labels.js";
import { languageLabel, statusLabel } from "./names.js";
import { deliverySection, pairs, paymentSection } from "./order-details.js";
import { heldByMe, state } from "./state.js";

// The actions this page can offer (each with its label and confirmation).
const ACTIONS = ["cancel", "reschedule", "return", "payment_link"];

// Those the server allows on this order now (its "actions"); one the page does not know is left out.
function allowedActions(o) {
  return (Array.isArray(o.actions) ? o.actions : []).filter((a) => a && ACTIONS.includes(a.action));
}

export function renderContext() {
  const box = $("customer"), orders = $("orders"), current = state.current;
  box.textContent = "";
  orders.textContent = "";
  if (!current) return;
  const c = current.customer || (current.conversation && current.conversation.customer);
  if (!c) box.appendChild(el("p", { class: "empty", text: t("customer.unidentified") }));
  else {
    box.appendChild(pairs([
      [t("customer.name"), c.name], [t("customer.email"), c.email], [t("customer.phone"), c.phone],
      [t("customer.language"), c.language ? languageLabel(c.language) : null]
    ]));
  }
  if (!current.loaded) { orders.appendChild(el("p", { class: "empty", text: t("loading") })); return; }
  if (!current.orders.length) { orders.appendChild(el("p", { class: "empty", text: t("orders.none") })); return; }
  const transcriptText = $("transcript").textContent;
  current.orders.forEach((o, i) => {
    const number = String(o.number);
    if (!(number in current.openOrders)) { // the newest order and those the chat talks about
      current.openOrders[number] = i === 0 || transcriptText.indexOf(number) >= 0;
    }
    orders.appendChild(orderNode(o));
  });
  refreshOrderButtons();
}

// An order's actions are for the operator who holds the conversation, one at a time.
export function refreshOrderButtons() {
  const current = state.current, mine = !!current && heldByMe(current.conversation);
  $("orders").querySelectorAll("[data-action]").forEach((b) => { b.disabled = !mine || b.hasAttribute("data-busy"); });
}

// standalone: shown outside a conversation (a task's order): open, without the actions that
// belong to a conversation.
export function orderNode(o, standalone) {
  const number = String(o.number), current = state.current;
  const lines = Array.isArray(o.lines) ? o.lines : [];
  const history = Array.isArray(o.history) ? o.history : [];
  const tracking = safeUrl(o.tracking_url);
  const result = standalone ? null : current.results[number];
  const node = el("details", { class: "order", testid: "order", "data-number": number, open: standalone || !!current.openOrders[number] }, [
    el("summary", {}, [
      el("strong", { class: "number", text: number }),
      el("span", { class: "pill status-" + String(o.status || "").replace(/[^a-z_]/gi, ""), testid: "order-status", text: statusLabel(o.status) }),
      el("span", { class: "total", text: fmtMoney(o.total, o.currency) })
    ]),
    o.created_at ? el("p", { class: "muted", text: t("order.placed", { at: fmtDateTime(o.created_at) }) }) : null,
    lines.length ? el("table", { class: "lines" }, [el("tbody", {}, lines.map((l) => el("tr", {}, [
      el("td", { class: "qty", text: String(l.quantity) + " \u00d7" }),
      el("td", {}, [String(l.name || l.sku || ""), l.sku && l.name ? el("span", { class: "sku", text: " " + l.sku }) : null]),
      el("td", { class: "price", text: fmtMoney(l.unit_price, o.currency) })
    ])))]) : null,
    deliverySection(o.delivery),
    paymentSection(o.payment, o.currency),
    o.carrier || o.tracking_number || tracking ? el("p", { class: "tracking" }, [
      [o.carrier, o.tracking_number].filter(Boolean).join(" ") + (tracking ? " " : ""),
      tracking ? el("a", { href: tracking, target: "_blank", rel: "noopener noreferrer", text: t("order.tracking") }) : null
    ]) : null,
    history.length ? el("details", { class: "history" }, [
      el("summary", { text: t("order.history", { count: history.length }) }),
      el("ol", {}, history.map((h) => el("li", {}, [
        el("span", { class: "when", text: fmtDateTime(h.at) }), " ",
        el("strong", { text: statusLabel(h.status) }),
        h.note ? el("span", { class: "muted", text: " \u2014 " + h.note }) : null
      ])))
    ]) : null,
    standalone ? null : el("div", { class: "order-actions" }, allowedActions(o).map((allowed) => {
      const action = allowed.action;
      const b = el("button", { type: "button", "data-action": action, testid: "order-" + action.replace("_", "-"), text: t("action." + action) });
      b.addEventListener("click", () => {
        if (action === "reschedule") { chooseSlot(o, node); return; }
        const asked = consequence(o, allowed), conv = state.current;
        confirmAction(asked.title, asked.text, t("confirm." + action)).then((yes) => {
          if (yes && state.current === conv) orderAction(o, node, { action: action });
        });
      });
      return b;
    })),
    standalone ? null : el("div", { class: "slots", testid: "order-slots", hidden: true }),
    standalone ? null : el("p", { class: "order-result " + (result ? result.kind : ""), testid: "order-result", role: "status",
      text: result ? result.text : "", hidden: !result })
  ]);
  if (!standalone) node.addEventListener("toggle", () => { current.openOrders[number] = node.open; });
  return node;
}

function orderResult(node, number, kind, text) {
  state.current.results[number] = { kind: kind, text: text };
  const p = $("order-result", node);
  p.textContent = text;
  p.className = "order-result " + kind;
  show(p, true);
}

function setOrderBusy(node, busy) {
  node.querySelectorAll("[data-action]").forEach((b) => {
    if (busy) b.setAttribute("data-busy", ""); else b.removeAttribute("data-busy");
  });
  refreshOrderButtons();
}

// done: what to say once it worked, when the page can say it better than the server (dates).
function orderAction(o, node, body, done) {
  const conv = state.current, number = String(o.number);
  body.order = number;
  setOrderBusy(node, true);
  api("POST", "/conversations/" + conv.id + "/actions", body).then((res) => {
    if (state.current !== conv) return;
    setOrderBusy(node, false);
    if (!res.ok) { orderResult(node, number, "error", reason(res, t("order.not_changed"))); return; }
    conv.results[number] = { kind: "ok", text: done || String(res.data.result || t("order.done")) };
    if (!res.data.order) { orderResult(node, number, "ok", conv.results[number].text); return; }
    for (let i = 0; i < conv.orders.length; i++) if (String(conv.orders[i].number) === number) conv.orders[i] = res.data.order;
    node.parentNode.replaceChild(orderNode(res.data.order), node);
    refreshOrderButtons();
  });
}

function chooseSlot(o, node) {
  const box = $("order-slots", node), conv = state.current;
  box.textContent = "";
  box.appendChild(el("span", { class: "muted", text: t("slots.loading") }));
  show(box, true);
  api("GET", "/orders/" + encodeURIComponent(String(o.number)) + "/slots").then((res) => {
    if (state.current !== conv) return;
    box.textContent = "";
    const slots = res.ok && Array.isArray(res.data.slots) ? res.data.slots : [];
    if (!res.ok) { box.appendChild(el("span", { class: "error", text: reason(res, t("slots.none_short")) })); return; }
    if (!slots.length) { box.appendChild(el("span", { class: "muted", text: t("slots.none") })); return; }
    const select = el("select", { testid: "order-slot", "aria-label": t("slots.label") }, slots.map((s, i) =>
      el("option", { value: String(i), text: [fmtDay(s.date), s.slot].filter(Boolean).join(" ") })));
    const confirm = el("button", { type: "button", class: "primary", "data-action": "reschedule-confirm", testid: "order-reschedule-confirm", text: t("action.reschedule") });
    const cancel = el("button", { type: "button", text: t("slots.never_mind") });
    confirm.addEventListener("click", () => {
      const s = slots[Number(select.value)], number = String(o.number);
      confirmAction(t("confirm.reschedule_title", { number: number }),
        t("confirm.reschedule_text", { number: number, date: fmtDay(s.date), slot: s.slot }), t("confirm.reschedule")).then((yes) => {
        if (!yes || state.current !== conv) return;
        orderAction(o, node, { action: "reschedule", date: s.date, slot: s.slot },
          t("result.rescheduled", { number: number, date: fmtDay(s.date), slot: s.slot }));
      });
    });
    cancel.addEventListener("click", () => { show(box, false); box.textContent = ""; });
    box.appendChild(select); box.appendChild(confirm); box.appendChild(cancel);
    refreshOrderButtons();
  });
}

// What the confirmation of an action says will happen: the server told the refund and amounts.
function consequence(o, allowed) {
  const number = String(o.number), action = allowed.action;
  if (action === "cancel") {
    const refund = Number(allowed.refund) > 0;
    return { title: t("confirm.cancel_title", { number: number }),
      text: refund ? t("confirm.cancel_refund", { number: number, amount: fmtMoney(allowed.refund, o.currency) })
        : t("confirm.cancel_no_refund", { number: number }) };
  }
  if (action === "return") {
    return { title: t("confirm.return_title", { number: number }),
      text: t("confirm.return_text", { number: number, count: allowed.lines != null ? allowed.lines : "" }) };
  }
  return { title: t("confirm.payment_link_title", { number: number }),
    text: t("confirm.payment_link_text", { number: number, amount: fmtMoney(allowed.amount, o.currency) }) };
}
