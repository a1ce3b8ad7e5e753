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
import { initNotes } from "./notes.js";
import { closeOperators, initOperators } from "./operators.js";
import { applySnapshot, clearQueue, initQueue, queueMessage } from "./queue.js";
import { initShortcuts } from "./shortcuts.js";
import { isAdmin, state } from "./state.js";
import { clearTasks, initTasks, loadTasks, taskChanged } from "./tasks.js";
import { initTheme } from "./theme.js";

function startApp(operator) {
  state.me = operator;
  show($("loading"), false);
  show($("login"), false);
  show($("app"), true);
  $("me").textContent = (operator.display_name || operator.username) + (isAdmin() ? " " + t("me.admin") : "");
  show($("operators-open"), isAdmin());
  show($("dashboard-open"), isAdmin());
  startLive();
  loadTasks();
  const m = /^#conversation-(\d+)$/.exec(location.hash);
  if (m) openConversation(Number(m[1]));
}

function stopApp() {
  state.me = null;
  stopLive();
  clearQueue();
  closeConversation();
  closeOperators();
  clearTasks();
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
    conversationChanged(data.conversation);
  } else if (data.type === "message" && data.message) {
    const cid = data.conversation_id != null ? data.conversation_id : data.message.conversation_id;
    queueMessage(cid, data.message);
    messageArrived(cid, data.message);
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
initQueue(openConversation);
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
