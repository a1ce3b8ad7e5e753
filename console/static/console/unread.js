/* Unread: which conversations the customer wrote in since this operator last looked, and the
 * alerts for a held customer who writes while the console's tab is hidden (a beep and a
 * desktop Notification). What was seen is kept in this browser (localStorage, per operator):
 * the newest message id looked at, per conversation. */
import { beep } from "./alert.js";
import { $, shorten, show } from "./dom.js";
import { t } from "./labels.js";
import { customerName } from "./names.js";
import { heldByMe, state } from "./state.js";

let seen = {};          // conversation id -> newest message id seen
let changed = () => {}; // re-draw what shows the markers
let open = () => {};    // open a conversation (a click on a desktop notification)

function storageKey() { return "orderbot.console.seen." + (state.me ? state.me.id : ""); }

function load() {
  try { seen = JSON.parse(localStorage.getItem(storageKey()) || "{}") || {}; } catch (e) { seen = {}; }
}

function save() {
  try { localStorage.setItem(storageKey(), JSON.stringify(seen)); } catch (e) { /* private mode */ }
}

function looking(id) { return !document.hidden && state.current && state.current.id === id; }

// The customer wrote last, after what this operator has seen (the open conversation, in a
// visible tab, is being seen).
export function isUnread(c) {
  const last = c && c.last_message;
  if (!last || last.from !== "customer" || looking(c.id)) return false;
  return Number(last.id) > Number(seen[c.id] || 0);
}

export function markSeen(id, messageId) {
  if (id == null || messageId == null) return;
  if (Number(messageId) <= Number(seen[id] || 0)) return;
  seen[id] = Number(messageId);
  save();
  changed();
}

// A message of a conversation: seen at once if it is open in a visible tab; an alert if it is
// a held customer's while the operator looks elsewhere.
export function unreadMessage(conversation, message) {
  if (!message || message.id == null) return;
  const id = message.conversation_id != null ? message.conversation_id : conversation && conversation.id;
  if (looking(id)) { markSeen(id, message.id); return; }
  if (message.from === "customer" && document.hidden && heldByMe(conversation)) alertOperator(conversation, message);
}

function alertOperator(conversation, message) {
  beep();
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const note = new Notification(t("notify.title", { name: customerName(conversation.customer) }), {
      body: shorten(message.text || t("message.pressed_button"), 140), tag: "conversation-" + conversation.id
    });
    note.onclick = () => { window.focus(); open(conversation.id); note.close(); };
  } catch (e) { /* some browsers allow notifications only from a service worker */ }
}

function offerNotifications() {
  const button = $("notify-enable");
  show(button, "Notification" in window && Notification.permission === "default");
}

// onChange(): re-draw the markers and the title; openConversation(id).
export function initUnread(onChange, openConversation) {
  changed = onChange;
  open = openConversation;
  // Permission is asked for on the operator's click only, never on load.
  $("notify-enable").addEventListener("click", () => {
    if (!("Notification" in window)) return;
    Promise.resolve(Notification.requestPermission()).then(offerNotifications, offerNotifications);
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) changed(); });
}

export function startUnread() { load(); offerNotifications(); }
