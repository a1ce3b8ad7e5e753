/* The open conversation: its header (status, claim, hand back, resolve), the reply box and
 * canned replies; the transcript, the notes and the context panel are drawn by their modules. */
import { API, api, reason } from "./api.js";
import { convError } from "./banner.js";
import { onTick } from "./clock.js";
import { refreshOrderButtons, renderContext } from "./context.js";
import { $, el, show, shorten } from "./dom.js";
import { fmtDuration } from "./format.js";
import { t } from "./labels.js";
import { renderMeaning } from "./meaning.js";
import { channelLabel, customerName, languageLabel, reasonLabel } from "./names.js";
import { renderNotes } from "./notes.js";
import { entry, queueChanged, queued, renderQueue } from "./queue.js";
import { heldByMe, isAdmin, state } from "./state.js";
import { addMessage } from "./transcript.js";

const MAX_TEXT = 4000;

export function openConversation(id) {
  if (state.current && state.current.id === id) { reloadConversation(); return; }
  const known = queued(id) ? queued(id).item : null;
  state.current = {
    id: id, conversation: known, customer: known ? known.customer : null, orders: [], notes: [],
    messages: {}, intents: {}, conversationIds: { [id]: true }, loaded: false, busy: false, results: {},
    openOrders: {}, generation: 0, changes: 0
  };
  try { history.replaceState(null, "", "#conversation-" + id); } catch (e) { /* file: or sandbox */ }
  show($("no-conversation"), false);
  show($("conversation"), true);
  show($("context"), true);
  $("transcript").textContent = "";
  $("reply-input").value = "";
  $("note-input").value = "";
  $("canned").textContent = "";
  $("export").href = API + "/conversations/" + id + "/export";
  convError(null);
  renderConversationState();
  renderContext();
  renderNotes();
  renderQueue();
  reloadConversation();
}

export function closeConversation() {
  state.current = null;
  show($("conversation"), false);
  show($("context"), false);
  show($("no-conversation"), true);
  $("transcript").textContent = "";
}

export function reloadConversation() {
  const conv = state.current, generation = ++conv.generation, changes = conv.changes;
  return api("GET", "/conversations/" + conv.id).then((res) => {
    if (state.current !== conv || generation !== conv.generation) return;
    if (!res.ok) {
      convError(res.status === 404 ? t("conversation.not_found") : reason(res, t("conversation.not_opened")));
      return;
    }
    const d = res.data, firstLoad = !conv.loaded;
    // A claim answered or a live event that came while this was on its way is newer than it.
    if (d.conversation && changes === conv.changes) conv.conversation = d.conversation;
    conv.customer = d.customer || null;
    conv.orders = Array.isArray(d.orders) ? d.orders : [];
    conv.notes = Array.isArray(d.notes) ? d.notes : [];
    conv.intents = d.intents && typeof d.intents === "object" ? d.intents : {};
    (Array.isArray(d.transcript) ? d.transcript : []).forEach((m) => {
      if (m && m.conversation_id != null) conv.conversationIds[m.conversation_id] = true;
      addMessage(m);
    });
    Object.keys(conv.intents).forEach((id) => { renderMeaning(id); });
    conv.loaded = true;
    renderConversationState();
    renderContext();
    renderNotes();
    if (firstLoad) { loadCanned(conv); const tr = $("transcript"); tr.scrollTop = tr.scrollHeight; }
  });
}

// The live queue was (re)loaded: the open conversation may have moved meanwhile.
export function queueRefreshed(reconnected) {
  const current = state.current;
  if (!current) return;
  if (queued(current.id)) current.conversation = queued(current.id).item;
  if (reconnected) reloadConversation();
  else renderConversationState();
}

// A conversation was escalated, claimed, handed back or resolved (here or anywhere).
export function conversationChanged(c) {
  if (c.id == null) return;
  queueChanged(c);
  const current = state.current;
  if (current && current.id === c.id) {
    current.conversation = c;
    current.changes++;
    renderConversationState();
  }
}

// A message of a conversation in the queue: shown when it belongs to the one that is open.
export function messageArrived(conversationId, message) {
  const current = state.current;
  if (current && (conversationId === current.id || current.conversationIds[conversationId])) addMessage(message);
}

function renderStatusLine() {
  const c = state.current && state.current.conversation, line = $("conversation-status");
  if (!c) { line.textContent = ""; return; }
  let text, cls = c.status;
  if (c.status === "escalated") {
    const e = queued(c.id) || entry(c);
    text = t("status.waiting", { time: fmtDuration((Date.now() - e.since) / 1000) });
  } else if (c.status === "claimed") {
    text = heldByMe(c) ? t("status.yours") : t("status.taken", { name: (c.operator && c.operator.name) || t("queue.another_operator") });
    if (heldByMe(c)) cls = "mine";
  } else {
    text = t("status.bot");
  }
  if (line.textContent !== text) line.textContent = text;
  line.className = "conv-status " + cls;
}

export function renderConversationState() {
  const current = state.current;
  if (!current) return;
  const c = current.conversation, mine = heldByMe(c), busy = current.busy;
  const customer = current.customer || (c && c.customer);
  $("conversation-title").textContent = customerName(customer) + " \u00b7 #" + current.id;
  $("conversation-meta").textContent = c ? [channelLabel(c.channel), languageLabel(c.language),
    c.status !== "bot" ? reasonLabel(c.reason) : null].filter(Boolean).join(" \u00b7 ") : "";
  renderStatusLine();
  const claim = $("claim"), open = !!(c && c.status !== "bot");
  show(claim, !mine);
  claim.disabled = busy || !c;
  claim.textContent = c && c.status === "bot" ? t("conversation.join") : t("conversation.claim");
  claim.title = c && c.status === "bot" ? t("conversation.join_title") : "";
  const finish = mine || (isAdmin() && open);
  [$("hand-back"), $("resolve")].forEach((b) => { show(b, finish); b.disabled = busy; });
  $("reply-input").disabled = !mine;
  $("reply-send").disabled = !mine || busy;
  $("reply-hint").textContent = mine ? "" : c && c.status === "claimed" ? t("reply.only_holder") : t("reply.claim_first");
  show($("reply-hint"), !mine);
  $("canned").querySelectorAll("button").forEach((b) => { b.disabled = !mine; });
  refreshOrderButtons();
}

// Claim, hand back, resolve: the server decides, the page shows its answer.
function conversationCommand(path, done) {
  const conv = state.current;
  if (!conv || conv.busy) return;
  conv.busy = true;
  convError(null);
  renderConversationState();
  api("POST", "/conversations/" + conv.id + path).then((res) => {
    conv.busy = false;
    if (state.current !== conv) return;
    if (res.ok) {
      if (res.data.conversation) conversationChanged(res.data.conversation);
      if (done) done(res);
    } else {
      convError(reason(res, t("error.did_not_work")));
      if (res.status === 409) reloadConversation(); // someone else moved it: show how it stands
    }
    renderConversationState();
  });
}

function sendReply() {
  const conv = state.current, input = $("reply-input"), text = input.value.replace(/^\s+|\s+$/g, "");
  if (!conv || conv.busy || !text || !heldByMe(conv.conversation)) return;
  if (text.length > MAX_TEXT) { convError(t("reply.too_long", { max: MAX_TEXT })); return; }
  conv.busy = true;
  renderConversationState();
  api("POST", "/conversations/" + conv.id + "/messages", { text: text }).then((res) => {
    conv.busy = false;
    if (state.current !== conv) return;
    if (res.ok) {
      if (input.value.replace(/^\s+|\s+$/g, "") === text) input.value = "";
      convError(null);
      if (res.data.message) addMessage(res.data.message);
    } else {
      convError(reason(res, t("reply.not_sent")));
      if (res.status === 409) reloadConversation();
    }
    renderConversationState();
    input.focus();
  });
}

function loadCanned(conv) {
  const c = conv.conversation, language = (c && c.language) || (conv.customer && conv.customer.language) || "en";
  api("GET", "/canned?language=" + encodeURIComponent(language)).then((res) => {
    if (state.current !== conv || !res.ok) return;
    const box = $("canned");
    box.textContent = "";
    (Array.isArray(res.data.replies) ? res.data.replies : []).forEach((r) => {
      if (!r || !r.text) return;
      const b = el("button", { type: "button", class: "chip-button", testid: "canned-reply", title: shorten(r.text, 300),
        text: r.title || shorten(r.text, 40) });
      b.addEventListener("click", () => {
        $("reply-input").value = String(r.text);
        $("reply-input").focus();
      });
      box.appendChild(b);
    });
    renderConversationState();
  });
}

export function initConversation() {
  onTick(() => { if (state.current) renderStatusLine(); });
  $("claim").addEventListener("click", () => {
    conversationCommand("/claim", () => { $("reply-input").focus(); });
  });
  $("hand-back").addEventListener("click", () => {
    conversationCommand("/release", () => { convError(t("conversation.handed_back"), "info"); });
  });
  $("resolve").addEventListener("click", () => {
    conversationCommand("/resolve", () => { convError(t("conversation.resolved"), "info"); });
  });
  $("reply-form").addEventListener("submit", (e) => { e.preventDefault(); sendReply(); });
  $("reply-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); sendReply(); }
  });
}
