/*! orderbot operator console (served at /console). The API and the live protocol are in
 * docs/console.md. This module wires the others: the labels first, then the login, the live
 * socket and the views. Security rule for every module: customer, operator and server text is
 * only ever rendered as text (textContent / createTextNode); never innerHTML. */
import { listenForFirstGesture } from "./alert.js";
import { api, onSessionLost } from "./api.js";
import { startClock } from "./clock.js";
import {
  closeConversation, conversationChanged, initConversation, messageArrived, openConversation, queueRefreshed
} from "./conversation.js";
import { $, show } from "./dom.js";
import { loadLabels, t, translatePage } from "./labels.js";
import { initLive, startLive, stopLive } from "./live.js";
import { initLogin, showLogin } from "./login.js";
import { initNotes, renderNotes } from "./notes.js";
import { closeOperators, initOperators } from "./operators.js";
import { clearFinder, finderChanged, initFinder, startFinder } from "./finder.js";
import { applySnapshot, clearQueue, initQueue, queueMessage, queued, renderQueue } from "./queue.js";
import { initShortcuts } from "./shortcuts.js";
import { isAdmin, state } from "./state.js";
import { initTags, renderTags, tagsOpened } from "./tags.js";
import { clearTasks, initTasks, loadTasks, taskChanged } from "./tasks.js";
import { clearTransfer, initTransfer, renderTransfer, transferChanged } from "./transfer.js";
import { customerTyping, typingMessage, typingOpened } from "./typing.js";
import { initUnread, markSeen, startUnread, unreadMessage } from "./unread.js";
import { initTheme } from "./theme.js";

function startApp(operator) {
  state.me = operator;
  show($("loading"), false);
  show($("login"), false);
  show($("app"), true);
  $("me").textContent = (operator.display_name || operator.username) + (isAdmin() ? " " + t("me.admin") : "");
  show($("operators-open"), isAdmin());
  show($("dashboard-open"), isAdmin());
  startUnread();
  startLive();
  loadTasks();
  startFinder();
  const m = /^#conversation-(\d+)$/.exec(location.hash);
  if (m) open(Number(m[1]));
}

function stopApp() {
  state.me = null;
  stopLive();
  clearQueue();
  closeConversation();
  closeOperators();
  clearTasks();
  clearFinder();
  clearTransfer();
}

// Opening a conversation (from the queue, a result, a link or a notification): the desk's
// tools start afresh and what the queue showed of it counts as seen.
function open(id) {
  openConversation(id);
  tagsOpened();
  typingOpened();
  const known = queued(id);
  if (known && known.item.last_message) markSeen(id, known.item.last_message.id);
}

// A conversation as the server now has it, from an answer of the tags or transfer endpoints.
function changed(c) {
  const before = queued(c.id) ? queued(c.id).item : state.current && state.current.conversation;
  conversationChanged(c);
  transferChanged(before, c);
  finderChanged();
}

// Back to the tab: the open conversation's newest message is seen now.
document.addEventListener("visibilitychange", () => {
  const current = state.current, known = current && queued(current.id);
  if (!document.hidden && known && known.item.last_message) markSeen(current.id, known.item.last_message.id);
});

// The tools follow the conversation's header, which conversation.js redraws after every load,
// claim and live change (the title is written each time).
function followHeader() {
  new MutationObserver(() => { renderTags(); renderTransfer(); })
    .observe($("conversation-title"), { childList: true, characterData: true, subtree: true });
}

function sessionEnded() {
  if (!state.me) return;
  stopApp();
  showLogin(t("login.session_ended"));
}

function onEvent(data) {
  if (data.type === "queue") {
    const reconnected = applySnapshot(data.conversations);
    queueRefreshed(reconnected);
    if (reconnected) loadTasks(); // tasks added or done while this console was offline
  } else if (data.type === "task" && data.task) {
    taskChanged(data.task);
  } else if (data.type === "conversation" && data.conversation) {
    changed(data.conversation);
  } else if (data.type === "message" && data.message) {
    const cid = data.conversation_id != null ? data.conversation_id : data.message.conversation_id;
    unreadMessage(queued(cid) ? queued(cid).item : null, data.message);
    queueMessage(cid, data.message);
    messageArrived(cid, data.message);
    typingMessage(data.message);
  } else if (data.type === "typing") {
    customerTyping(data.conversation_id);
  } else if (data.type === "note" && data.note && state.current && state.current.id === data.conversation_id
             && !state.current.notes.some((n) => n.id === data.note.id)) {
    state.current.notes.push(data.note);
    renderNotes();
  }
}

initTheme($("theme-toggle"));
await loadLabels();
translatePage();
document.title = t("page.title");
listenForFirstGesture();
onSessionLost(sessionEnded);
initLogin({ start: startApp, stop: stopApp });
initLive({ event: onEvent, sessionEnded: sessionEnded });
initQueue(open);
initFinder(open);
initTags(changed);
initTransfer(changed);
initUnread(renderQueue, open);
followHeader();
initConversation();
initNotes();
initTasks();
initOperators();
startClock();
initShortcuts();
api("GET", "/me").then((res) => {
  if (res.ok && res.data.operator) startApp(res.data.operator);
  else showLogin();
});
