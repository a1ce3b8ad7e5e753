/* Operator tasks: orders a person has to sort out (docs/console.md, "Tasks"). Open tasks come
 * with the page and then live (a "task" event on the socket, added or done); done ones are
 * fetched when asked for. */
import { api, reason } from "./api.js";
import { tick } from "./clock.js";
import { orderNode } from "./context.js";
import { openConversation } from "./conversation.js";
import { $, el, show, showResult } from "./dom.js";
import { fmtDateTime, fmtTime } from "./format.js";
import { t } from "./labels.js";
import { customerName, taskKindLabel } from "./names.js";
import { pairs } from "./order-details.js";
import { state } from "./state.js";

let tasks = {};              // open task id -> task
let tasksShown = "open";     // which list the Tasks view shows
let doneTasks = [];          // the last "done" list fetched
let liveWhileLoading = null; // task events that came while the list was on its way

function dialog() { return $("tasks"); }
function tasksResult(text, kind) { showResult($("tasks-result"), text, kind); }

// The server's age, so that a skewed clock here shows it right.
function withSince(task) {
  task.since = Date.now() - (typeof task.age_seconds === "number" ? task.age_seconds * 1000 : 0);
  return task;
}

export function loadTasks() {
  liveWhileLoading = [];
  return api("GET", "/tasks?state=open").then((res) => {
    const late = liveWhileLoading || [];
    liveWhileLoading = null;
    if (!state.me || !res.ok) return;
    const fresh = {};
    (Array.isArray(res.data.tasks) ? res.data.tasks : []).forEach((task) => {
      if (task && task.id != null) fresh[task.id] = withSince(task);
    });
    tasks = fresh;
    late.forEach(taskChanged); // newer than the list, or the list already had them
    renderTasks();
  });
}

function loadDoneTasks() {
  return api("GET", "/tasks?state=done").then((res) => {
    if (!state.me) return;
    if (!res.ok) { tasksResult(reason(res, t("tasks.done_not_listed")), "error"); return; }
    doneTasks = (Array.isArray(res.data.tasks) ? res.data.tasks : []).map(withSince);
    renderTasks();
  });
}

export function taskChanged(task) {
  if (task.id == null) return;
  if (liveWhileLoading) liveWhileLoading.push(task);
  if (task.done_at) {
    delete tasks[task.id];
    if (tasksShown === "done" && dialog().open) loadDoneTasks();
  } else {
    tasks[task.id] = withSince(task);
  }
  renderTasks();
}

export function clearTasks() {
  tasks = {};
  tasksShown = "open";
  if (dialog().open) dialog().close();
  renderTasks();
}

function renderTasks() {
  const open = Object.keys(tasks).map((id) => tasks[id]).sort((a, b) => a.id - b.id);
  $("tasks-count").textContent = String(open.length);
  $("tasks-open").className = open.length ? "has-tasks" : "";
  $("tasks-show-open").setAttribute("aria-pressed", String(tasksShown === "open"));
  $("tasks-show-done").setAttribute("aria-pressed", String(tasksShown === "done"));
  const shown = tasksShown === "open" ? open : doneTasks;
  const list = $("tasks-list"), kept = {};
  // The rows are rebuilt; an order being read stays where it was.
  list.querySelectorAll('[data-testid="task"]').forEach((row) => {
    const box = $("task-order", row);
    if (box && !box.hidden) kept[row.getAttribute("data-id")] = box;
  });
  list.textContent = "";
  shown.forEach((task) => { list.appendChild(taskNode(task, kept[String(task.id)])); });
  const empty = $("tasks-empty");
  empty.textContent = tasksShown === "open" ? t("tasks.none_open") : t("tasks.none_done");
  show(empty, !shown.length);
  tick();
}

function taskNode(task, keptOrder) {
  const done = !!task.done_at;
  const orderButton = el("button", { type: "button", testid: "task-order-open", text: t("tasks.order", { number: String(task.number) }) });
  const doneButton = done ? null : el("button", { type: "button", class: "primary", testid: "task-done", text: t("tasks.done") });
  const box = keptOrder || el("div", { class: "task-order", testid: "task-order", hidden: true });
  const doneBy = task.done_by ? t("tasks.done_at_by", { at: fmtTime(task.done_at), name: task.done_by })
    : t("tasks.done_at", { at: fmtTime(task.done_at) });
  const row = el("li", { class: "task", testid: "task", "data-id": String(task.id), "data-kind": String(task.kind || "") }, [
    el("div", { class: "row" }, [
      el("span", { class: "number", testid: "task-number", text: String(task.number) }),
      el("span", { class: "kind", testid: "task-kind", text: taskKindLabel(task.kind) }),
      done
        ? el("span", { class: "age", testid: "task-done-by", text: doneBy })
        : el("span", { class: "age", testid: "task-age", "data-age-since": String(task.since),
          title: t("tasks.open_since", { at: fmtDateTime(task.created_at) }) })
    ]),
    task.detail ? el("p", { class: "detail", testid: "task-detail", text: String(task.detail) }) : null,
    el("div", { class: "task-actions" }, [orderButton, doneButton]),
    box
  ]);
  orderButton.addEventListener("click", () => {
    if (!box.hidden) { show(box, false); return; }
    showTaskOrder(task, box);
  });
  if (doneButton) doneButton.addEventListener("click", () => { markDone(task, doneButton); });
  return row;
}

function markDone(task, button) {
  button.disabled = true;
  api("POST", "/tasks/" + encodeURIComponent(String(task.id)) + "/done").then((res) => {
    if (res.ok && res.data.task) {
      tasksResult(t("tasks.closed", { number: String(task.number) }), "ok");
      taskChanged(res.data.task);
    } else if (res.status === 409 || res.status === 404) { // someone else was first
      tasksResult(reason(res, t("tasks.closed_already")), "error");
      delete tasks[task.id];
      renderTasks();
    } else {
      button.disabled = false;
      tasksResult(reason(res, t("tasks.not_closed")), "error");
    }
  });
}

function showTaskOrder(task, box) {
  box.textContent = "";
  box.appendChild(el("p", { class: "empty", text: t("loading") }));
  show(box, true);
  api("GET", "/orders/" + encodeURIComponent(String(task.number))).then((res) => {
    box.textContent = "";
    if (!res.ok || !res.data.order) { box.appendChild(el("p", { class: "error", text: reason(res, t("tasks.order_not_loaded")) })); return; }
    const c = res.data.customer;
    if (c) box.appendChild(pairs([[t("customer.customer"), customerName(c)], [t("customer.email"), c.email], [t("customer.phone"), c.phone]]));
    box.appendChild(orderNode(res.data.order, true));
    if (res.data.conversation_id != null) {
      const open = el("button", { type: "button", testid: "task-conversation", text: t("tasks.open_conversation") });
      open.addEventListener("click", () => { dialog().close(); openConversation(Number(res.data.conversation_id)); });
      box.appendChild(open);
    }
  });
}

export function initTasks() {
  $("tasks-open").addEventListener("click", () => {
    tasksResult(null);
    if (!dialog().open) dialog().showModal();
    if (tasksShown === "done") loadDoneTasks(); else renderTasks();
  });
  $("tasks-close").addEventListener("click", () => { dialog().close(); });
  $("tasks-show-open").addEventListener("click", () => { tasksShown = "open"; tasksResult(null); renderTasks(); });
  $("tasks-show-done").addEventListener("click", () => { tasksShown = "done"; tasksResult(null); loadDoneTasks(); });
}
