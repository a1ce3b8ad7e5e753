/*! orderbot operator console (served at /console). The API and the live protocol are in
 * docs/console.md.
 * Security rule for this file: customer, operator and server text is only ever rendered as text
 * (textContent / createTextNode); never innerHTML. */
(function () {
  "use strict";

  var API = "/console/api";
  var WS_URL = (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + "/console/ws";
  var TITLE = "orderbot console";
  var MAX_TEXT = 4000;

  var REASONS = {
    customer_asked: "Asked for a person",
    not_understood: "Bot did not understand",
    verification_failed: "Could not verify the customer",
    out_of_stock: "Out of stock at confirmation",
    credit_check_refused: "Credit check refused",
    refund_failed: "Refund failed",
    return_exception: "Return needs an exception",
    payment_overdue: "Payment overdue",
    confirmation_unanswered: "Confirmation not answered",
    delivery_failed: "Message could not be delivered",
    operator_joined: "Operator joined",
    unknown: "Other"
  };
  var TASK_KINDS = {
    shop_fact_conflict: "The shop's news contradicts the chat",
    shop_drift: "The shop's order differs from the bot's",
    stock_short: "Confirmed, but the inventory is short",
    payment_overdue: "Payment overdue"
  };
  var CHANNELS = { webchat: "Web chat", telegram: "Telegram", email: "Email", slack: "Slack" };
  var LANGUAGES = { en: "English", pl: "Polish", ru: "Russian" };
  // What a customer meant (dialog.nlu.INTENTS), as the operator picks it: "What did they mean?"
  var INTENTS = [
    ["order_status", "Where is my order"], ["cancel_order", "Cancel an order"],
    ["change_delivery", "Change the delivery"], ["return_order", "Return or refund"],
    ["payment", "Payment or invoice"], ["product_availability", "Is a product available"],
    ["human", "Talk to a person"], ["greet", "Greeting"], ["goodbye", "Goodbye"],
    ["thanks", "Thanks"], ["affirm", "Yes, agrees"], ["deny", "No, disagrees"],
    ["out_of_scope", "Something the shop does not do"]
  ];
  var INTENT_NAMES = {};
  INTENTS.forEach(function (i) { INTENT_NAMES[i[0]] = i[1]; });
  var ACTIONS = [
    { action: "cancel", label: "Cancel" },
    { action: "reschedule", label: "Reschedule" },
    { action: "return", label: "Create return" },
    { action: "payment_link", label: "Resend payment link" }
  ];

  // ---- small helpers (text only) ----
  function $(id, root) { return (root || document).querySelector('[data-testid="' + id + '"]'); }
  function el(tag, attrs, kids) {
    var n = document.createElement(tag);
    for (var k in attrs || {}) {
      if (attrs[k] == null || attrs[k] === false) continue;
      if (k === "text") n.textContent = attrs[k];
      else if (k === "class") n.className = attrs[k];
      else if (k === "testid") n.setAttribute("data-testid", attrs[k]);
      else n.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    }
    (kids || []).forEach(function (c) {
      if (c == null || c === false) return;
      n.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return n;
  }
  function show(node, on) { node.hidden = !on; }
  function humanise(key) {
    var s = String(key == null ? "" : key).replace(/[_:]+/g, " ").trim();
    return s ? s.charAt(0).toUpperCase() + s.slice(1) : "";
  }
  function reasonLabel(r) { return r ? (REASONS[r] || humanise(r)) : "No reason given"; }
  function channelLabel(c) { return CHANNELS[c] || humanise(c) || "Unknown channel"; }
  function languageLabel(l) { return l ? (LANGUAGES[l] || String(l)) : "Unknown language"; }
  function customerName(c) { return (c && (c.name || c.email)) || "Anonymous customer"; }
  function shorten(text, max) {
    text = String(text == null ? "" : text).replace(/\s+/g, " ").trim();
    return text.length > max ? text.slice(0, max - 1) + "\u2026" : text;
  }

  function parseAt(at) {
    if (at == null || at === "") return null;
    if (typeof at === "number") return new Date(at < 1e12 ? at * 1000 : at);
    var s = String(at);
    if (/T\d\d:\d\d/.test(s) && !/(Z|[+-]\d\d:?\d\d)$/i.test(s)) s += "Z"; // the server speaks UTC
    var d = new Date(s);
    return isNaN(d.getTime()) ? null : d;
  }
  function sameDay(a, b) { return a.toDateString() === b.toDateString(); }
  function fmtTime(at) {
    var d = parseAt(at);
    if (!d) return "";
    var opts = sameDay(d, new Date()) ? { hour: "2-digit", minute: "2-digit" }
      : { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
    try { return d.toLocaleString(undefined, opts); } catch (e) { return d.toISOString(); }
  }
  function fmtDateTime(at) {
    var d = parseAt(at);
    if (!d) return String(at == null ? "" : at);
    try { return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }); } catch (e) { return d.toISOString(); }
  }
  function fmtDuration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return h ? h + ":" + two(m) + ":" + two(s) : m + ":" + two(s);
  }
  function fmtAge(seconds) { // how long a task has been open: "just now", "5 min", "3 h", "2 d"
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return "just now";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min";
    if (seconds < 172800) return Math.floor(seconds / 3600) + " h";
    return Math.floor(seconds / 86400) + " d";
  }
  function fmtMoney(amount, currency) {
    var n = Number(amount);
    if (amount == null || amount === "" || isNaN(n)) return String(amount == null ? "" : amount);
    try { return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "EUR" }).format(n); }
    catch (e) { return n.toFixed(2) + (currency ? " " + currency : ""); }
  }
  function safeUrl(url) {
    try { var u = new URL(String(url), location.href); return /^https?:$/.test(u.protocol) ? u.href : null; }
    catch (e) { return null; }
  }

  // ---- HTTP ----
  // Every call resolves (never rejects) to {ok, status, data, headers}; a dropped session shows
  // the login form again.
  function api(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(API + path, opts).then(function (r) {
      return r.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (e) { data = null; }
        if (r.status === 401 && path !== "/login" && path !== "/me" && me) sessionEnded();
        return { ok: r.ok, status: r.status, data: data && typeof data === "object" ? data : {}, headers: r.headers };
      });
    }, function () {
      return { ok: false, status: 0, data: { detail: "cannot reach the server" }, headers: new Headers() };
    });
  }
  function reason(res, fallback) {
    var d = res.data && res.data.detail;
    if (typeof d === "string" && d) return d;
    if (Array.isArray(d) && d.length) { // FastAPI's validation errors
      return d.map(function (x) { return x && x.msg ? String(x.msg) : String(x); }).join("; ");
    }
    return fallback || (res.status ? "error " + res.status : "cannot reach the server");
  }

  // ---- state ----
  var me = null;            // {id, username, display_name, role}
  var queue = {};           // conversation id -> {item, since (ms, when the wait/claim started)}
  var snapshotSeen = false; // a "queue" snapshot arrived on some socket before
  var current = null;       // the open conversation (see openConversation)
  var ws = null, wsAttempt = 0, wsTimer = null;

  function myKey() { return me ? "console:" + me.id : null; }
  function isAdmin() { return !!(me && me.role === "admin"); }
  function heldByMe(c) { return !!(c && c.status === "claimed" && c.operator && c.operator.key === myKey()); }

  // ---- title badge and sound ----
  function waitingCount() {
    var n = 0;
    for (var id in queue) if (queue[id].item.status === "escalated") n++;
    return n;
  }
  function updateTitle() {
    var n = me ? waitingCount() : 0;
    document.title = n ? "(" + n + ") " + TITLE : TITLE;
  }

  var audio = null;
  function unlockAudio() { // browsers start audio only after a user gesture
    try {
      if (!audio) { var Ctx = window.AudioContext || window.webkitAudioContext; if (Ctx) audio = new Ctx(); }
      if (audio && audio.state === "suspended") audio.resume();
    } catch (e) { audio = null; }
  }
  function beep() {
    unlockAudio();
    if (!audio) return;
    try {
      var osc = audio.createOscillator(), gain = audio.createGain(), t = audio.currentTime;
      osc.type = "sine";
      osc.frequency.setValueAtTime(880, t);
      osc.frequency.setValueAtTime(1175, t + 0.12);
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.15, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.3);
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(t); osc.stop(t + 0.32);
    } catch (e) { /* no sound then */ }
  }
  document.addEventListener("pointerdown", unlockAudio, true);
  document.addEventListener("keydown", unlockAudio, true);

  // ---- login / logout ----
  var loginForm = $("login-form"), loginError = $("login-error"), loginNotice = $("login-notice");
  var retryTimer = null;

  function showLogin(notice) {
    show($("loading"), false);
    show($("app"), false);
    show($("login"), true);
    loginNotice.textContent = notice || "";
    show(loginNotice, !!notice);
    updateTitle();
    var user = $("login-username");
    (user.value ? $("login-password") : user).focus();
  }
  function loginFailed(text) { loginError.textContent = text; show(loginError, true); }
  function tooManyAttempts(res) {
    var left = parseInt(res.headers.get("Retry-After"), 10);
    clearInterval(retryTimer);
    if (!(left > 0)) { loginFailed(reason(res, "too many attempts, try again later")); return; }
    var submit = $("login-submit");
    function render() {
      if (left <= 0) { clearInterval(retryTimer); submit.disabled = false; show(loginError, false); return; }
      loginFailed("Too many attempts, try again in " + left + " s");
      left--;
    }
    submit.disabled = true;
    render();
    retryTimer = setInterval(render, 1000);
  }
  loginForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var username = $("login-username").value.trim(), password = $("login-password").value;
    if (!username || !password) { loginFailed("Enter your username and password."); return; }
    var submit = $("login-submit");
    submit.disabled = true;
    show(loginError, false);
    show(loginNotice, false);
    api("POST", "/login", { username: username, password: password }).then(function (res) {
      submit.disabled = false;
      if (res.ok && res.data.operator) { $("login-password").value = ""; startApp(res.data.operator); return; }
      $("login-password").value = "";
      $("login-password").focus();
      if (res.status === 429) tooManyAttempts(res);
      else if (res.status === 401) loginFailed("Wrong username or password.");
      else loginFailed(reason(res, "could not log in"));
    });
  });

  $("logout").addEventListener("click", function () {
    stopApp(); // first, so that the server closing the live socket is not taken for an expiry
    api("POST", "/logout").then(function () { showLogin("You are logged out."); });
  });

  function sessionEnded() {
    if (!me) return;
    stopApp();
    showLogin("Your session has ended. Please log in again.");
  }

  function startApp(operator) {
    me = operator;
    show($("loading"), false);
    show($("login"), false);
    show($("app"), true);
    $("me").textContent = (me.display_name || me.username) + (isAdmin() ? " (admin)" : "");
    show($("operators-open"), isAdmin());
    show($("dashboard-open"), isAdmin());
    setConnection(false);
    connect();
    loadTasks();
    var m = /^#conversation-(\d+)$/.exec(location.hash);
    if (m) openConversation(Number(m[1]));
  }
  function stopApp() {
    me = null;
    clearTimeout(wsTimer); wsTimer = null;
    if (ws) { var s = ws; ws = null; try { s.close(1000); } catch (e) { /* closed */ } }
    queue = {}; snapshotSeen = false; wsAttempt = 0;
    closeConversation();
    renderQueue();
    var dialog = $("operators");
    if (dialog.open) dialog.close();
    tasks = {}; tasksShown = "open";
    if (tasksDialog.open) tasksDialog.close();
    renderTasks();
  }

  // ---- live socket ----
  function setConnection(online) {
    var c = $("connection");
    c.textContent = online ? "Live" : "Connecting\u2026";
    c.className = "connection" + (online ? " online" : "");
  }
  function connect() {
    if (!me || (ws && ws.readyState <= 1)) return;
    var sock;
    try { sock = new WebSocket(WS_URL); } catch (e) { reconnectLater(); return; }
    ws = sock;
    sock.onmessage = function (ev) {
      if (ws !== sock) return;
      var data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      if (data && typeof data === "object") onEvent(data);
    };
    sock.onclose = function (ev) {
      if (ws !== sock) return;
      ws = null;
      setConnection(false);
      if (ev.code === 4401) sessionEnded();
      else if (ev.code === 4403) $("connection").textContent = "Live updates refused for this address";
      else reconnectLater();
    };
    sock.onerror = function () { /* onclose follows */ };
  }
  function reconnectLater() {
    if (!me || wsTimer) return;
    var delay = Math.min(30000, 1000 * Math.pow(2, wsAttempt)) * (0.75 + Math.random() * 0.5);
    wsAttempt++;
    wsTimer = setTimeout(function () { wsTimer = null; connect(); }, delay);
  }
  window.addEventListener("online", function () {
    if (wsTimer) { clearTimeout(wsTimer); wsTimer = null; connect(); }
  });

  function onEvent(data) {
    if (data.type === "queue") {
      wsAttempt = 0;
      setConnection(true);
      var fresh = {}, news = false;
      (Array.isArray(data.conversations) ? data.conversations : []).forEach(function (c) {
        if (!c || c.id == null || (c.status !== "escalated" && c.status !== "claimed")) return;
        var before = queue[c.id];
        if (c.status === "escalated" && (!before || before.item.status !== "escalated")) news = true;
        fresh[c.id] = entry(c);
      });
      var reconnected = snapshotSeen;
      queue = fresh;
      snapshotSeen = true;
      if (news && reconnected) beep(); // escalated while this console was offline
      renderQueue();
      if (current && queue[current.id]) current.conversation = queue[current.id].item;
      if (current && reconnected) reloadConversation(); // it may have changed meanwhile
      else if (current) renderConversationState();
      if (reconnected) loadTasks(); // tasks added or done while this console was offline
    } else if (data.type === "task" && data.task) {
      taskChanged(data.task);
    } else if (data.type === "conversation" && data.conversation) {
      conversationChanged(data.conversation);
    } else if (data.type === "message" && data.message) {
      var cid = data.conversation_id != null ? data.conversation_id : data.message.conversation_id;
      if (queue[cid]) { queue[cid].item.last_message = data.message; renderQueue(); }
      if (current && (cid === current.id || current.conversationIds[cid])) addMessage(data.message);
    }
  }

  function entry(c) {
    var since = null;
    if (c.status === "escalated") {
      // waiting_seconds is the server's own count: immune to a skewed clock here
      if (typeof c.waiting_seconds === "number") since = Date.now() - c.waiting_seconds * 1000;
      else { var e = parseAt(c.escalated_at); since = e ? e.getTime() : Date.now(); }
    } else {
      var d = parseAt(c.claimed_at);
      since = d ? d.getTime() : Date.now();
    }
    return { item: c, since: since };
  }

  function conversationChanged(c) {
    if (c.id == null) return;
    var before = queue[c.id];
    if (c.status === "escalated" || c.status === "claimed") {
      if (c.status === "escalated" && (!before || before.item.status !== "escalated")) beep();
      if (!c.last_message && before) c.last_message = before.item.last_message;
      queue[c.id] = entry(c);
    } else {
      delete queue[c.id];
    }
    renderQueue();
    if (current && current.id === c.id) {
      current.conversation = c;
      current.changes++;
      renderConversationState();
    }
  }

  // ---- queue ----
  function renderQueue() {
    var waiting = [], claimed = [];
    for (var id in queue) (queue[id].item.status === "escalated" ? waiting : claimed).push(queue[id]);
    function byTime(a, b) { return a.since - b.since || a.item.id - b.item.id; }
    waiting.sort(byTime); claimed.sort(byTime);
    var focused = document.activeElement && document.activeElement.getAttribute("data-testid") === "queue-item"
      ? document.activeElement.getAttribute("data-id") : null;
    fillList($("queue-waiting"), waiting);
    fillList($("queue-claimed"), claimed);
    if (focused) { // the lists are rebuilt: keep a keyboard user's place
      var again = document.querySelector('[data-testid="queue-item"][data-id="' + CSS.escape(focused) + '"]');
      if (again) again.focus();
    }
    $("waiting-count").textContent = String(waiting.length);
    $("claimed-count").textContent = String(claimed.length);
    show($("queue-waiting-empty"), !waiting.length);
    show($("queue-claimed-empty"), !claimed.length);
    updateTitle();
    tick();
  }

  function fillList(list, entries) {
    list.textContent = "";
    entries.forEach(function (e) { list.appendChild(el("li", {}, [queueItem(e)])); });
  }

  function queueItem(e) {
    var c = e.item, last = c.last_message, waiting = c.status === "escalated";
    var lastText = "";
    if (last) lastText = senderLabel(last, c.customer) + ": " + (String(last.text || "").trim() ? shorten(last.text, 140) : "(pressed a button)");
    var holder = null;
    if (!waiting) {
      holder = el("div", { class: "holder", testid: "queue-holder",
        text: heldByMe(c) ? "With you" : "With " + ((c.operator && c.operator.name) || "another operator") });
    }
    var item = el("button", {
      type: "button", class: "item" + (waiting ? " waiting" : " claimed"), testid: "queue-item",
      "data-id": String(c.id), "data-status": c.status,
      "aria-current": current && current.id === c.id ? "true" : null
    }, [
      el("div", { class: "row" }, [
        el("span", { class: "name", testid: "queue-customer", text: customerName(c.customer) }),
        el("span", { class: "wait", testid: "queue-wait", "data-since": String(e.since),
          title: waiting ? "Waiting for a person" : "Since the claim" })
      ]),
      el("div", { class: "reason", testid: "queue-reason", text: reasonLabel(c.reason) }),
      el("div", { class: "tags" }, [
        el("span", { class: "tag", testid: "queue-channel", text: channelLabel(c.channel) }),
        el("span", { class: "tag", testid: "queue-language", text: languageLabel(c.language) })
      ]),
      holder,
      lastText ? el("div", { class: "last", testid: "queue-last", text: lastText }) : null
    ]);
    item.addEventListener("click", function () { openConversation(c.id); });
    return item;
  }

  // Waiting and claim times tick here, once a second, from what the server said.
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (n) {
      var since = Number(n.getAttribute("data-since"));
      n.textContent = fmtDuration((now - since) / 1000);
    });
    document.querySelectorAll("[data-age-since]").forEach(function (n) {
      n.textContent = fmtAge((now - Number(n.getAttribute("data-age-since"))) / 1000);
    });
    if (current) renderStatusLine();
  }
  setInterval(tick, 1000);

  // ---- the open conversation ----
  var transcript = $("transcript"), replyInput = $("reply-input"), replySend = $("reply-send");

  function openConversation(id) {
    if (current && current.id === id) { reloadConversation(); return; }
    var known = queue[id] ? queue[id].item : null;
    current = {
      id: id, conversation: known, customer: known ? known.customer : null, orders: [], notes: [],
      messages: {}, intents: {}, conversationIds: {}, loaded: false, busy: false, results: {}, openOrders: {}, generation: 0,
      changes: 0
    };
    current.conversationIds[id] = true;
    try { history.replaceState(null, "", "#conversation-" + id); } catch (e) { /* file: or sandbox */ }
    show($("no-conversation"), false);
    show($("conversation"), true);
    show($("context"), true);
    transcript.textContent = "";
    replyInput.value = "";
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

  function closeConversation() {
    current = null;
    show($("conversation"), false);
    show($("context"), false);
    show($("no-conversation"), true);
    transcript.textContent = "";
  }

  function reloadConversation() {
    var conv = current, generation = ++conv.generation, changes = conv.changes;
    return api("GET", "/conversations/" + conv.id).then(function (res) {
      if (current !== conv || generation !== conv.generation) return;
      if (!res.ok) {
        convError(res.status === 404 ? "This conversation does not exist." : reason(res, "could not open the conversation"));
        return;
      }
      var d = res.data, firstLoad = !conv.loaded;
      // A claim answered or a live event that came while this was on its way is newer than it.
      if (d.conversation && changes === conv.changes) conv.conversation = d.conversation;
      conv.customer = d.customer || null;
      conv.orders = Array.isArray(d.orders) ? d.orders : [];
      conv.notes = Array.isArray(d.notes) ? d.notes : [];
      conv.intents = d.intents && typeof d.intents === "object" ? d.intents : {};
      (Array.isArray(d.transcript) ? d.transcript : []).forEach(function (m) {
        if (m && m.conversation_id != null) conv.conversationIds[m.conversation_id] = true;
        addMessage(m);
      });
      Object.keys(conv.intents).forEach(function (id) { renderMeaning(id); });
      conv.loaded = true;
      renderConversationState();
      renderContext();
      renderNotes();
      if (firstLoad) { loadCanned(conv); transcript.scrollTop = transcript.scrollHeight; }
    });
  }

  function convError(text, kind) {
    var b = $("conversation-error");
    b.textContent = text || "";
    b.className = "banner " + (kind || "error");
    b.setAttribute("role", kind === "info" ? "status" : "alert");
    show(b, !!text);
  }

  function senderLabel(m, customer) {
    if (m.from === "customer") return customerName(customer) === "Anonymous customer" ? "Customer" : customerName(customer);
    if (m.from === "operator") return m.author || "Operator";
    return "Bot";
  }

  function messageNode(m) {
    var from = m.from === "customer" || m.from === "operator" ? m.from : "bot";
    var text = String(m.text == null ? "" : m.text);
    var meta = [senderLabel(m, current && current.customer), channelLabel(m.channel), fmtTime(m.at)]
      .filter(Boolean).join(" \u00b7 ");
    var offered = Array.isArray(m.buttons) ? m.buttons.filter(function (b) { return b && b.title; }) : [];
    return el("li", { class: "msg " + from, testid: "message", "data-from": from, "data-id": m.id != null ? String(m.id) : null }, [
      el("div", { class: "meta", testid: "message-meta", text: meta, title: fmtDateTime(m.at) }),
      text.trim() || from !== "customer"
        ? el("div", { class: "text", testid: "message-text", text: text })
        : el("div", { class: "text pressed", testid: "message-text", text: "(pressed a button)" }),
      offered.length ? el("div", { class: "offered", "aria-label": "Buttons offered" },
        offered.map(function (b) { return el("span", { class: "chip", text: String(b.title) }); })) : null,
      from === "customer" && text.trim() && m.id != null ? el("div", { class: "meaning", testid: "meaning" }) : null
    ]);
  }

  // ---- "What did they mean?": the operator labels a customer's message (docs/console.md) ----
  function renderMeaning(id) {
    var node = transcript.querySelector('[data-id="' + String(id) + '"] [data-testid="meaning"]');
    if (!node || !current) return;
    var known = current.intents[id] || {}, label = known.label || null, open = node.hasAttribute("data-open");
    var menuId = "meaning-menu-" + id;
    var toggle = el("button", {
      type: "button", class: "meaning-toggle" + (label ? " labelled" : ""), testid: "meaning-toggle",
      "aria-expanded": open ? "true" : "false", "aria-controls": menuId,
      title: known.guessed ? "The bot understood: " + (INTENT_NAMES[known.guessed] || humanise(known.guessed)) : null,
      text: label ? "Meant: " + (INTENT_NAMES[label.intent] || humanise(label.intent)) : "What did they mean?"
    });
    if (label) toggle.setAttribute("data-intent", label.intent);
    toggle.addEventListener("click", function () {
      if (node.hasAttribute("data-open")) node.removeAttribute("data-open"); else node.setAttribute("data-open", "");
      renderMeaning(id);
      var first = node.querySelector(open ? "[data-testid=meaning-toggle]" : "[data-testid=meaning-option]");
      if (first) first.focus();
      if (!open) node.scrollIntoView({ block: "nearest" });
    });
    var kids = [toggle];
    if (open) {
      var options = INTENTS.map(function (i) {
        var chosen = !!(label && label.intent === i[0]);
        var b = el("button", { type: "button", class: "chip-button" + (chosen ? " chosen" : ""), testid: "meaning-option",
          "data-intent": i[0], "aria-pressed": chosen ? "true" : "false", text: i[1] });
        b.addEventListener("click", function () { saveMeaning(id, node, i[0]); });
        return b;
      });
      if (label) {
        var remove = el("button", { type: "button", class: "chip-button remove", testid: "meaning-remove", text: "Remove the label" });
        remove.addEventListener("click", function () { saveMeaning(id, node, null); });
        options.push(remove);
      }
      var menu = el("div", { class: "meaning-menu", id: menuId, role: "group", "aria-label": "What did the customer mean?" }, options);
      menu.addEventListener("keydown", function (e) {
        if (e.key !== "Escape") return;
        node.removeAttribute("data-open");
        renderMeaning(id);
        node.querySelector("[data-testid=meaning-toggle]").focus();
      });
      kids.push(menu);
    }
    node.replaceChildren.apply(node, kids);
  }

  function saveMeaning(id, node, intent) {
    var conv = current, path = "/conversations/" + conv.id + "/messages/" + id + "/intent";
    node.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    api(intent ? "PUT" : "DELETE", path, intent ? { intent: intent } : undefined).then(function (res) {
      if (current !== conv) return;
      if (res.ok) {
        var known = conv.intents[id] || (conv.intents[id] = { guessed: null });
        known.label = intent ? res.data.label : null;
        node.removeAttribute("data-open");
      } else {
        convError(reason(res, "could not store what the customer meant"));
      }
      renderMeaning(id);
      var toggle = node.querySelector("[data-testid=meaning-toggle]");
      if (toggle) toggle.focus();
    });
  }

  // Messages come from the transcript, the socket and our own sends, in any order and more than
  // once: each shows once (by id), in the order they were written.
  function addMessage(m) {
    if (!m || typeof m !== "object" || !current) return;
    var key = m.id != null ? String(m.id) : null;
    if (key && current.messages[key]) return;
    if (key) current.messages[key] = true;
    if (m.conversation_id != null) current.conversationIds[m.conversation_id] = true;
    var stick = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
    var node = messageNode(m), at = parseAt(m.at), t = at ? at.getTime() : Infinity;
    node.setAttribute("data-t", String(t));
    var next = null, nodes = transcript.children;
    for (var i = nodes.length - 1; i >= 0; i--) {
      var other = nodes[i], ot = Number(other.getAttribute("data-t"));
      var later = ot > t || (ot === t && key && Number(other.getAttribute("data-id")) > Number(key));
      if (!later) break;
      next = other;
    }
    transcript.insertBefore(node, next);
    if (key) renderMeaning(key);
    if (stick || m.from === "operator") transcript.scrollTop = transcript.scrollHeight;
  }

  function renderStatusLine() {
    var c = current && current.conversation, line = $("conversation-status");
    if (!c) { line.textContent = ""; return; }
    var text, cls = c.status;
    if (c.status === "escalated") {
      var e = queue[c.id] || entry(c);
      text = "Waiting for a person for " + fmtDuration((Date.now() - e.since) / 1000);
    } else if (c.status === "claimed") {
      text = heldByMe(c) ? "You hold this conversation" : "Taken by " + ((c.operator && c.operator.name) || "another operator");
      if (heldByMe(c)) cls = "mine";
    } else {
      text = "With the bot";
    }
    if (line.textContent !== text) line.textContent = text;
    line.className = "conv-status " + cls;
  }

  function renderConversationState() {
    if (!current) return;
    var c = current.conversation, mine = heldByMe(c), busy = current.busy;
    var customer = current.customer || (c && c.customer);
    $("conversation-title").textContent = customerName(customer) + " \u00b7 #" + current.id;
    $("conversation-meta").textContent = c ? [channelLabel(c.channel), languageLabel(c.language),
      c.status !== "bot" ? reasonLabel(c.reason) : null].filter(Boolean).join(" \u00b7 ") : "";
    renderStatusLine();
    var claim = $("claim"), open = !!(c && c.status !== "bot");
    show(claim, !mine);
    claim.disabled = busy || !c;
    claim.textContent = c && c.status === "bot" ? "Join" : "Claim";
    claim.title = c && c.status === "bot" ? "Take over from the bot" : "";
    var finish = mine || (isAdmin() && open);
    [$("hand-back"), $("resolve")].forEach(function (b) { show(b, finish); b.disabled = busy; });
    replyInput.disabled = !mine;
    replySend.disabled = !mine || busy;
    $("reply-hint").textContent = mine ? "" : c && c.status === "claimed"
      ? "Only the operator who holds the conversation can write to the customer."
      : "Claim the conversation to write to the customer.";
    show($("reply-hint"), !mine);
    $("canned").querySelectorAll("button").forEach(function (b) { b.disabled = !mine; });
    $("orders").querySelectorAll("[data-action]").forEach(function (b) { b.disabled = !mine || b.hasAttribute("data-busy"); });
  }

  // Claim, hand back, resolve: the server decides, the page shows its answer.
  function conversationCommand(path, done) {
    var conv = current;
    if (!conv || conv.busy) return;
    conv.busy = true;
    convError(null);
    renderConversationState();
    api("POST", "/conversations/" + conv.id + path).then(function (res) {
      conv.busy = false;
      if (current !== conv) return;
      if (res.ok) {
        if (res.data.conversation) conversationChanged(res.data.conversation);
        if (done) done(res);
      } else {
        convError(reason(res, "that did not work"));
        if (res.status === 409) reloadConversation(); // someone else moved it: show how it stands
      }
      renderConversationState();
    });
  }
  $("claim").addEventListener("click", function () {
    conversationCommand("/claim", function () { replyInput.focus(); });
  });
  $("hand-back").addEventListener("click", function () {
    conversationCommand("/release", function () { convError("Handed back to the bot.", "info"); });
  });
  $("resolve").addEventListener("click", function () {
    conversationCommand("/resolve", function () { convError("Resolved: the bot has the conversation again.", "info"); });
  });

  function sendReply() {
    var conv = current, text = replyInput.value.replace(/^\s+|\s+$/g, "");
    if (!conv || conv.busy || !text || !heldByMe(conv.conversation)) return;
    if (text.length > MAX_TEXT) { convError("A message is at most " + MAX_TEXT + " characters."); return; }
    conv.busy = true;
    renderConversationState();
    api("POST", "/conversations/" + conv.id + "/messages", { text: text }).then(function (res) {
      conv.busy = false;
      if (current !== conv) return;
      if (res.ok) {
        if (replyInput.value.replace(/^\s+|\s+$/g, "") === text) replyInput.value = "";
        convError(null);
        if (res.data.message) addMessage(res.data.message);
      } else {
        convError(reason(res, "the message was not sent"));
        if (res.status === 409) reloadConversation();
      }
      renderConversationState();
      replyInput.focus();
    });
  }
  $("reply-form").addEventListener("submit", function (e) { e.preventDefault(); sendReply(); });
  replyInput.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); sendReply(); }
  });

  function loadCanned(conv) {
    var c = conv.conversation, language = (c && c.language) || (conv.customer && conv.customer.language) || "en";
    api("GET", "/canned?language=" + encodeURIComponent(language)).then(function (res) {
      if (current !== conv || !res.ok) return;
      var box = $("canned");
      box.textContent = "";
      (Array.isArray(res.data.replies) ? res.data.replies : []).forEach(function (r) {
        if (!r || !r.text) return;
        var b = el("button", { type: "button", class: "chip-button", testid: "canned-reply", title: shorten(r.text, 300),
          text: r.title || shorten(r.text, 40) });
        b.addEventListener("click", function () {
          replyInput.value = String(r.text);
          replyInput.focus();
        });
        box.appendChild(b);
      });
      renderConversationState();
    });
  }

  // ---- notes ----
  function renderNotes() {
    var list = $("notes");
    list.textContent = "";
    if (!current) return;
    if (!current.notes.length) list.appendChild(el("li", { class: "empty", text: "No notes yet." }));
    current.notes.forEach(function (n) {
      list.appendChild(el("li", { class: "note", testid: "note" }, [
        el("div", { class: "meta", text: [n.author || "Operator", fmtTime(n.at)].filter(Boolean).join(" \u00b7 "), title: fmtDateTime(n.at) }),
        el("div", { class: "text", testid: "note-text", text: String(n.text == null ? "" : n.text) })
      ]));
    });
  }
  $("note-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var conv = current, input = $("note-input"), text = input.value.trim(), error = $("note-error");
    if (!conv || !text) return;
    $("note-add").disabled = true;
    api("POST", "/conversations/" + conv.id + "/notes", { text: text }).then(function (res) {
      $("note-add").disabled = false;
      if (current !== conv) return;
      if (res.ok && res.data.note) {
        conv.notes.push(res.data.note);
        input.value = "";
        show(error, false);
        renderNotes();
      } else {
        error.textContent = reason(res, "the note was not saved");
        show(error, true);
      }
    });
  });

  // ---- context: the customer and their orders ----
  function pairs(rows) { // [[label, value]] -> <dl>, skipping empty values
    var dl = el("dl", { class: "pairs" });
    rows.forEach(function (r) {
      var v = r[1];
      if (v == null || v === "") return;
      dl.appendChild(el("dt", { text: r[0] }));
      dl.appendChild(el("dd", {}, [v instanceof Node ? v : String(v)]));
    });
    return dl;
  }
  function describe(value) { // a delivery's or payment's field, whatever its shape
    if (value == null || value === "") return null;
    if (typeof value === "boolean") return value ? "yes" : "no";
    if (Array.isArray(value)) return value.map(describe).filter(Boolean).join(", ");
    if (typeof value === "object") {
      return Object.keys(value).map(function (k) { var d = describe(value[k]); return d ? humanise(k) + ": " + d : null; })
        .filter(Boolean).join(", ");
    }
    var s = String(value);
    return /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(s) ? fmtDateTime(s) : s;
  }
  function fmtDate(day) { // "2026-11-25": a calendar day, the same everywhere
    if (!/^\d{4}-\d\d-\d\d$/.test(String(day || ""))) return describe(day);
    try { return new Date(day + "T00:00:00Z").toLocaleDateString(undefined, { dateStyle: "medium", timeZone: "UTC" }); }
    catch (e) { return String(day); }
  }
  function address(value) {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      return Object.keys(value).map(function (k) { return describe(value[k]); }).filter(Boolean).join(", ");
    }
    return describe(value);
  }
  // known: [[key, label, format]]; fields the page does not know yet follow, as they come
  function objectPairs(obj, known) {
    if (!obj || typeof obj !== "object") return null;
    var seen = {}, rows = known.map(function (k) { seen[k[0]] = true; return [k[1], k[2](obj[k[0]])]; });
    Object.keys(obj).forEach(function (k) { if (!seen[k]) rows.push([humanise(k), describe(obj[k])]); });
    return rows.some(function (r) { return r[1]; }) ? pairs(rows) : null;
  }
  function deliveryPairs(d) {
    return objectPairs(d, [["method", "Method", humanise], ["address", "Address", address], ["date", "Date", fmtDate],
      ["slot", "Slot", describe], ["pickup_location", "Pickup point", address]]);
  }
  function paymentPairs(p, currency) {
    return objectPairs(p, [["method", "Method", humanise], ["status", "Status", humanise], ["due_date", "Due", fmtDate],
      ["refunded", "Refunded", function (v) { return Number(v) > 0 ? fmtMoney(v, currency) : null; }]]);
  }

  function renderContext() {
    var box = $("customer"), orders = $("orders");
    box.textContent = "";
    orders.textContent = "";
    if (!current) return;
    var c = current.customer || (current.conversation && current.conversation.customer);
    if (!c) box.appendChild(el("p", { class: "empty", text: "The customer has not been identified." }));
    else {
      box.appendChild(pairs([
        ["Name", c.name], ["Email", c.email], ["Phone", c.phone],
        ["Language", c.language ? languageLabel(c.language) : null]
      ]));
    }
    if (!current.loaded) { orders.appendChild(el("p", { class: "empty", text: "Loading\u2026" })); return; }
    if (!current.orders.length) { orders.appendChild(el("p", { class: "empty", text: "No orders." })); return; }
    current.orders.forEach(function (o, i) {
      var number = String(o.number);
      if (!(number in current.openOrders)) { // the newest order and those the chat talks about
        current.openOrders[number] = i === 0 || transcript.textContent.indexOf(number) >= 0;
      }
      orders.appendChild(orderNode(o));
    });
    renderConversationState();
  }

  // standalone: shown outside a conversation (a task's order): open, without the actions that
  // belong to a conversation.
  function orderNode(o, standalone) {
    var number = String(o.number);
    var lines = Array.isArray(o.lines) ? o.lines : [];
    var history = Array.isArray(o.history) ? o.history : [];
    var tracking = safeUrl(o.tracking_url);
    var result = standalone ? null : current.results[number];
    var node = el("details", { class: "order", testid: "order", "data-number": number, open: standalone || !!current.openOrders[number] }, [
      el("summary", {}, [
        el("strong", { class: "number", text: number }),
        el("span", { class: "pill status-" + String(o.status || "").replace(/[^a-z_]/gi, ""), testid: "order-status", text: humanise(o.status) }),
        el("span", { class: "total", text: fmtMoney(o.total, o.currency) })
      ]),
      o.created_at ? el("p", { class: "muted", text: "Placed " + fmtDateTime(o.created_at) }) : null,
      lines.length ? el("table", { class: "lines" }, [el("tbody", {}, lines.map(function (l) {
        return el("tr", {}, [
          el("td", { class: "qty", text: String(l.quantity) + " \u00d7" }),
          el("td", {}, [String(l.name || l.sku || ""), l.sku && l.name ? el("span", { class: "sku", text: " " + l.sku }) : null]),
          el("td", { class: "price", text: fmtMoney(l.unit_price, o.currency) })
        ]);
      }))]) : null,
      section("Delivery", deliveryPairs(o.delivery)),
      section("Payment", paymentPairs(o.payment, o.currency)),
      o.carrier || o.tracking_number || tracking ? el("p", { class: "tracking" }, [
        [o.carrier, o.tracking_number].filter(Boolean).join(" ") + (tracking ? " " : ""),
        tracking ? el("a", { href: tracking, target: "_blank", rel: "noopener noreferrer", text: "Tracking page" }) : null
      ]) : null,
      history.length ? el("details", { class: "history" }, [
        el("summary", { text: "Status history (" + history.length + ")" }),
        el("ol", {}, history.map(function (h) {
          return el("li", {}, [
            el("span", { class: "when", text: fmtDateTime(h.at) }), " ",
            el("strong", { text: humanise(h.status) }),
            h.note ? el("span", { class: "muted", text: " \u2014 " + h.note }) : null
          ]);
        }))
      ]) : null,
      standalone ? null : el("div", { class: "order-actions" }, ACTIONS.map(function (a) {
        var b = el("button", { type: "button", "data-action": a.action, testid: "order-" + a.action.replace("_", "-"), text: a.label });
        b.addEventListener("click", function () {
          if (a.action === "reschedule") chooseSlot(o, node); else orderAction(o, node, { action: a.action });
        });
        return b;
      })),
      standalone ? null : el("div", { class: "slots", testid: "order-slots", hidden: true }),
      standalone ? null : el("p", { class: "order-result " + (result ? result.kind : ""), testid: "order-result", role: "status",
        text: result ? result.text : "", hidden: !result })
    ]);
    if (!standalone) node.addEventListener("toggle", function () { current.openOrders[number] = node.open; });
    return node;
  }
  function section(title, body) {
    return body ? el("div", { class: "order-part" }, [el("h4", { text: title }), body]) : null;
  }

  function orderResult(node, number, kind, text) {
    current.results[number] = { kind: kind, text: text };
    var p = $("order-result", node);
    p.textContent = text;
    p.className = "order-result " + kind;
    show(p, true);
  }
  function setOrderBusy(node, busy) {
    node.querySelectorAll("[data-action]").forEach(function (b) {
      if (busy) b.setAttribute("data-busy", ""); else b.removeAttribute("data-busy");
    });
    renderConversationState();
  }

  function orderAction(o, node, body) {
    var conv = current, number = String(o.number);
    body.order = number;
    setOrderBusy(node, true);
    api("POST", "/conversations/" + conv.id + "/actions", body).then(function (res) {
      if (current !== conv) return;
      setOrderBusy(node, false);
      if (res.ok) {
        current.results[number] = { kind: "ok", text: String(res.data.result || "Done.") };
        if (res.data.order) {
          for (var i = 0; i < conv.orders.length; i++) if (String(conv.orders[i].number) === number) conv.orders[i] = res.data.order;
          var fresh = orderNode(res.data.order);
          node.parentNode.replaceChild(fresh, node);
          renderConversationState();
        } else {
          orderResult(node, number, "ok", current.results[number].text);
        }
      } else {
        orderResult(node, number, "error", reason(res, "the order could not be changed"));
      }
    });
  }

  function chooseSlot(o, node) {
    var box = $("order-slots", node), conv = current;
    box.textContent = "";
    box.appendChild(el("span", { class: "muted", text: "Loading delivery slots\u2026" }));
    show(box, true);
    api("GET", "/orders/" + encodeURIComponent(String(o.number)) + "/slots").then(function (res) {
      if (current !== conv) return;
      box.textContent = "";
      var slots = res.ok && Array.isArray(res.data.slots) ? res.data.slots : [];
      if (!res.ok) { box.appendChild(el("span", { class: "error", text: reason(res, "no slots") })); return; }
      if (!slots.length) { box.appendChild(el("span", { class: "muted", text: "No free delivery slots." })); return; }
      var select = el("select", { testid: "order-slot", "aria-label": "Delivery slot" }, slots.map(function (s, i) {
        return el("option", { value: String(i), text: [s.date, s.slot].filter(Boolean).join(" ") });
      }));
      var confirm = el("button", { type: "button", class: "primary", "data-action": "reschedule-confirm", testid: "order-reschedule-confirm", text: "Reschedule" });
      var cancel = el("button", { type: "button", text: "Never mind" });
      confirm.addEventListener("click", function () {
        var s = slots[Number(select.value)];
        orderAction(o, node, { action: "reschedule", date: s.date, slot: s.slot });
      });
      cancel.addEventListener("click", function () { show(box, false); box.textContent = ""; });
      box.appendChild(select); box.appendChild(confirm); box.appendChild(cancel);
      renderConversationState();
    });
  }

  // ---- operator tasks ----
  // Open tasks come with the page and then live (a "task" event on the socket, added or done);
  // done ones are fetched when asked for.
  var tasks = {};            // open task id -> task
  var tasksShown = "open";   // which list the Tasks view shows
  var doneTasks = [];        // the last "done" list fetched
  var tasksDialog = $("tasks");
  var liveWhileLoading = null; // task events that came while the list was on its way

  function taskKindLabel(kind) { return TASK_KINDS[kind] || humanise(kind) || "Task"; }
  function tasksResult(text, kind) {
    var p = $("tasks-result");
    p.textContent = text || "";
    p.className = "result " + (kind || "");
    show(p, !!text);
  }
  function withSince(t) { // the server's age, so that a skewed clock here shows it right
    t.since = Date.now() - (typeof t.age_seconds === "number" ? t.age_seconds * 1000 : 0);
    return t;
  }
  function loadTasks() {
    liveWhileLoading = [];
    return api("GET", "/tasks?state=open").then(function (res) {
      var late = liveWhileLoading || [];
      liveWhileLoading = null;
      if (!me || !res.ok) return;
      var fresh = {};
      (Array.isArray(res.data.tasks) ? res.data.tasks : []).forEach(function (t) {
        if (t && t.id != null) fresh[t.id] = withSince(t);
      });
      tasks = fresh;
      late.forEach(taskChanged); // newer than the list, or the list already had them
      renderTasks();
    });
  }
  function loadDoneTasks() {
    return api("GET", "/tasks?state=done").then(function (res) {
      if (!me) return;
      if (!res.ok) { tasksResult(reason(res, "could not list the done tasks"), "error"); return; }
      doneTasks = (Array.isArray(res.data.tasks) ? res.data.tasks : []).map(withSince);
      renderTasks();
    });
  }
  function taskChanged(t) {
    if (t.id == null) return;
    if (liveWhileLoading) liveWhileLoading.push(t);
    if (t.done_at) {
      delete tasks[t.id];
      if (tasksShown === "done" && tasksDialog.open) loadDoneTasks();
    } else {
      tasks[t.id] = withSince(t);
    }
    renderTasks();
  }
  function renderTasks() {
    var open = Object.keys(tasks).map(function (id) { return tasks[id]; })
      .sort(function (a, b) { return a.id - b.id; });
    $("tasks-count").textContent = String(open.length);
    $("tasks-open").className = open.length ? "has-tasks" : "";
    $("tasks-show-open").setAttribute("aria-pressed", String(tasksShown === "open"));
    $("tasks-show-done").setAttribute("aria-pressed", String(tasksShown === "done"));
    var shown = tasksShown === "open" ? open : doneTasks;
    var list = $("tasks-list"), kept = {};
    // The rows are rebuilt; an order being read stays where it was.
    list.querySelectorAll('[data-testid="task"]').forEach(function (row) {
      var box = $("task-order", row);
      if (box && !box.hidden) kept[row.getAttribute("data-id")] = box;
    });
    list.textContent = "";
    shown.forEach(function (t) { list.appendChild(taskNode(t, kept[String(t.id)])); });
    var empty = $("tasks-empty");
    empty.textContent = tasksShown === "open" ? "No open tasks." : "No task is done yet.";
    show(empty, !shown.length);
    tick();
  }
  function taskNode(t, keptOrder) {
    var done = !!t.done_at;
    var orderButton = el("button", { type: "button", testid: "task-order-open", text: "Order " + String(t.number) });
    var doneButton = done ? null : el("button", { type: "button", class: "primary", testid: "task-done", text: "Done" });
    var box = keptOrder || el("div", { class: "task-order", testid: "task-order", hidden: true });
    var row = el("li", { class: "task", testid: "task", "data-id": String(t.id), "data-kind": String(t.kind || "") }, [
      el("div", { class: "row" }, [
        el("span", { class: "number", testid: "task-number", text: String(t.number) }),
        el("span", { class: "kind", testid: "task-kind", text: taskKindLabel(t.kind) }),
        done
          ? el("span", { class: "age", testid: "task-done-by", text: "Done " + fmtTime(t.done_at) + (t.done_by ? " by " + t.done_by : "") })
          : el("span", { class: "age", testid: "task-age", "data-age-since": String(t.since), title: "Open since " + fmtDateTime(t.created_at) })
      ]),
      t.detail ? el("p", { class: "detail", testid: "task-detail", text: String(t.detail) }) : null,
      el("div", { class: "task-actions" }, [orderButton, doneButton]),
      box
    ]);
    orderButton.addEventListener("click", function () {
      if (!box.hidden) { show(box, false); return; }
      showTaskOrder(t, box);
    });
    if (doneButton) {
      doneButton.addEventListener("click", function () {
        doneButton.disabled = true;
        api("POST", "/tasks/" + encodeURIComponent(String(t.id)) + "/done").then(function (res) {
          if (res.ok && res.data.task) {
            tasksResult("Task for order " + String(t.number) + " is done.", "ok");
            taskChanged(res.data.task);
          } else if (res.status === 409 || res.status === 404) { // someone else was first
            tasksResult(reason(res, "the task is closed already"), "error");
            delete tasks[t.id];
            renderTasks();
          } else {
            doneButton.disabled = false;
            tasksResult(reason(res, "the task was not closed"), "error");
          }
        });
      });
    }
    return row;
  }
  function showTaskOrder(t, box) {
    box.textContent = "";
    box.appendChild(el("p", { class: "empty", text: "Loading\u2026" }));
    show(box, true);
    api("GET", "/orders/" + encodeURIComponent(String(t.number))).then(function (res) {
      box.textContent = "";
      if (!res.ok || !res.data.order) { box.appendChild(el("p", { class: "error", text: reason(res, "could not load the order") })); return; }
      var c = res.data.customer;
      if (c) box.appendChild(pairs([["Customer", customerName(c)], ["Email", c.email], ["Phone", c.phone]]));
      box.appendChild(orderNode(res.data.order, true));
      if (res.data.conversation_id != null) {
        var open = el("button", { type: "button", testid: "task-conversation", text: "Open the customer's conversation" });
        open.addEventListener("click", function () { tasksDialog.close(); openConversation(Number(res.data.conversation_id)); });
        box.appendChild(open);
      }
    });
  }
  $("tasks-open").addEventListener("click", function () {
    tasksResult(null);
    if (!tasksDialog.open) tasksDialog.showModal();
    if (tasksShown === "done") loadDoneTasks(); else renderTasks();
  });
  $("tasks-close").addEventListener("click", function () { tasksDialog.close(); });
  $("tasks-show-open").addEventListener("click", function () { tasksShown = "open"; tasksResult(null); renderTasks(); });
  $("tasks-show-done").addEventListener("click", function () { tasksShown = "done"; tasksResult(null); loadDoneTasks(); });

  // ---- operators (admins only) ----
  var operatorsDialog = $("operators");
  function operatorsResult(text, kind) {
    var p = $("operators-result");
    p.textContent = text || "";
    p.className = "result " + (kind || "");
    show(p, !!text);
  }
  function loadOperators() {
    return api("GET", "/operators").then(function (res) {
      var body = $("operators-list");
      body.textContent = "";
      if (!res.ok) { operatorsResult(reason(res, "could not list the operators"), "error"); return; }
      var list = Array.isArray(res.data) ? res.data : (res.data.operators || []);
      list.forEach(function (op) {
        var active = op.active !== false;
        var toggle = el("button", { type: "button", testid: "operator-toggle", text: active ? "Deactivate" : "Reactivate",
          disabled: me && op.id === me.id ? true : null, title: me && op.id === me.id ? "You cannot deactivate yourself" : null });
        toggle.addEventListener("click", function () {
          toggle.disabled = true;
          api("PATCH", "/operators/" + op.id, { active: !active }).then(function (r) {
            if (r.ok) operatorsResult((op.display_name || op.username) + (active ? " is deactivated." : " is active again."), "ok");
            else operatorsResult(reason(r, "that did not work"), "error");
            loadOperators();
          });
        });
        body.appendChild(el("tr", { testid: "operator-row", "data-username": String(op.username), class: active ? "" : "inactive" }, [
          el("td", { text: String(op.username) }),
          el("td", { text: String(op.display_name || "") }),
          el("td", { text: humanise(op.role) }),
          el("td", { testid: "operator-status", text: active ? "Active" : "Deactivated" }),
          el("td", {}, [toggle])
        ]));
      });
    });
  }
  $("operators-open").addEventListener("click", function () {
    operatorsResult(null);
    if (!operatorsDialog.open) operatorsDialog.showModal();
    loadOperators();
  });
  $("operators-close").addEventListener("click", function () { operatorsDialog.close(); });
  $("operator-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var form = e.target, body = {
      username: form.elements.username.value.trim(), display_name: form.elements.display_name.value.trim(),
      password: form.elements.password.value, role: form.elements.role.value
    };
    if (!body.username || !body.display_name || !body.password) { operatorsResult("Fill in username, display name and password.", "error"); return; }
    $("operator-add").disabled = true;
    api("POST", "/operators", body).then(function (res) {
      $("operator-add").disabled = false;
      if (res.ok) {
        form.reset();
        operatorsResult(body.display_name + " can log in now.", "ok");
        loadOperators();
      } else {
        operatorsResult(reason(res, "the operator was not added"), "error");
      }
    });
  });

  // ---- start ----
  api("GET", "/me").then(function (res) {
    if (res.ok && res.data.operator) startApp(res.data.operator);
    else showLogin();
  });
})();
