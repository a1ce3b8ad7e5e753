/* The queue: conversations waiting for a person and those with an operator, kept from the
 * live socket's snapshot and events. */
import { beep, updateTitle } from "./alert.js";
import { tick } from "./clock.js";
import { $, el, show, shorten } from "./dom.js";
import { parseAt } from "./format.js";
import { t } from "./labels.js";
import { channelLabel, customerName, languageLabel, reasonLabel, senderLabel } from "./names.js";
import { heldByMe, state } from "./state.js";
import { isUnread } from "./unread.js";

let queue = {};           // conversation id -> {item, since (ms, when the wait/claim started)}
let snapshotSeen = false; // a "queue" snapshot arrived on some socket before
let open = () => {};

// open(id): what a click on a conversation does.
export function initQueue(openConversation) { open = openConversation; }

export function queued(id) { return queue[id] || null; }

export function entry(c) {
  let since = null;
  if (c.status === "escalated") {
    // waiting_seconds is the server's own count: immune to a skewed clock here
    if (typeof c.waiting_seconds === "number") since = Date.now() - c.waiting_seconds * 1000;
    else { const e = parseAt(c.escalated_at); since = e ? e.getTime() : Date.now(); }
  } else {
    const d = parseAt(c.claimed_at);
    since = d ? d.getTime() : Date.now();
  }
  return { item: c, since: since };
}

// A snapshot replaces the queue; returns whether an earlier one was seen (a reconnect).
export function applySnapshot(conversations) {
  const fresh = {};
  let news = false;
  (Array.isArray(conversations) ? conversations : []).forEach((c) => {
    if (!c || c.id == null || (c.status !== "escalated" && c.status !== "claimed")) return;
    const before = queue[c.id];
    if (c.status === "escalated" && (!before || before.item.status !== "escalated")) news = true;
    fresh[c.id] = entry(c);
  });
  const reconnected = snapshotSeen;
  queue = fresh;
  snapshotSeen = true;
  if (news && reconnected) beep(); // escalated while this console was offline
  renderQueue();
  return reconnected;
}

export function queueChanged(c) {
  const before = queue[c.id];
  if (c.status === "escalated" || c.status === "claimed") {
    if (c.status === "escalated" && (!before || before.item.status !== "escalated")) beep();
    if (!c.last_message && before) c.last_message = before.item.last_message;
    if (!c.customer_message && before) c.customer_message = before.item.customer_message;
    queue[c.id] = entry(c);
  } else {
    delete queue[c.id];
  }
  renderQueue();
}

export function queueMessage(conversationId, message) {
  if (!queue[conversationId]) return;
  queue[conversationId].item.last_message = message;
  if (message.from === "customer" && String(message.text || "").trim()) queue[conversationId].item.customer_message = message;
  renderQueue();
}

export function clearQueue() {
  queue = {};
  snapshotSeen = false;
  renderQueue();
}

export function renderQueue() {
  const waiting = [], claimed = [];
  for (const id in queue) (queue[id].item.status === "escalated" ? waiting : claimed).push(queue[id]);
  const byTime = (a, b) => a.since - b.since || a.item.id - b.item.id;
  waiting.sort(byTime); claimed.sort(byTime);
  const focused = document.activeElement && document.activeElement.getAttribute("data-testid") === "queue-item"
    ? document.activeElement.getAttribute("data-id") : null;
  fillList($("queue-waiting"), waiting);
  fillList($("queue-claimed"), claimed);
  if (focused) { // the lists are rebuilt: keep a keyboard user's place
    const again = document.querySelector('[data-testid="queue-item"][data-id="' + CSS.escape(focused) + '"]');
    if (again) again.focus();
  }
  $("waiting-count").textContent = String(waiting.length);
  $("claimed-count").textContent = String(claimed.length);
  show($("queue-waiting-empty"), !waiting.length);
  show($("queue-claimed-empty"), !claimed.length);
  // the title counts who waits and the held customers who wrote since this operator looked
  const unread = claimed.filter((e) => heldByMe(e.item) && isUnread(e.item)).length;
  updateTitle(state.me ? waiting.length + unread : 0);
  tick();
}

function fillList(list, entries) {
  list.textContent = "";
  entries.forEach((e) => { list.appendChild(el("li", {}, [queueItem(e)])); });
}

// One conversation as a button that opens it: in the queue, and in search and filter results.
export function queueItem(e, onOpen) {
  const c = e.item, waiting = c.status === "escalated";
  const last = c.customer_message || c.last_message; // what the customer wants, not the bot's reply
  let lastText = "";
  if (last) {
    lastText = senderLabel(last, c.customer) + ": "
      + (String(last.text || "").trim() ? shorten(last.text, 140)
        : t(Array.isArray(last.attachments) && last.attachments.length ? "message.sent_file" : "message.pressed_button"));
  }
  let holder = null;
  if (c.status === "claimed") {
    holder = el("div", { class: "holder", testid: "queue-holder",
      text: heldByMe(c) ? t("queue.with_you") : t("queue.with", { name: (c.operator && c.operator.name) || t("queue.another_operator") }) });
  }
  const unread = isUnread(c);
  const item = el("button", {
    type: "button", class: "item" + (waiting ? " waiting" : c.status === "claimed" ? " claimed" : " closed")
      + (unread ? " unread" : ""), testid: "queue-item",
    "data-id": String(c.id), "data-status": c.status,
    "aria-current": state.current && state.current.id === c.id ? "true" : null
  }, [
    el("div", { class: "row" }, [
      el("span", { class: "name", testid: "queue-customer", text: customerName(c.customer) }),
      unread ? el("span", { class: "unread-dot", testid: "queue-unread", title: t("queue.unread") },
        [el("span", { class: "visually-hidden", text: t("queue.unread") })]) : null,
      c.status === "bot" ? null : el("span", { class: "wait", testid: "queue-wait", "data-since": String(e.since),
        title: waiting ? t("queue.waiting_title") : t("queue.claimed_title") })
    ]),
    el("div", { class: "reason", testid: "queue-reason", text: reasonLabel(c.reason) }),
    el("div", { class: "tags" }, [
      el("span", { class: "tag", testid: "queue-channel", text: channelLabel(c.channel) }),
      el("span", { class: "tag", testid: "queue-language", text: languageLabel(c.language) }),
      c.order ? el("span", { class: "tag order-tag", testid: "queue-order", text: String(c.order) }) : null
    ].concat((c.tags || []).map((tag) => el("span", { class: "tag own", testid: "queue-tag", text: "#" + tag })))),
    holder,
    lastText ? el("div", { class: "last", testid: "queue-last", text: lastText }) : null
  ]);
  item.addEventListener("click", () => { (onOpen || open)(c.id); });
  return item;
}
