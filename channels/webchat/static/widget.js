/*! orderbot web-chat widget. Embed with:
 *  <script src="https://BOT-HOST/webchat/widget.js" async></script>
 * Optional data attributes: data-language (en|pl|ru), data-customer-email, data-customer-name,
 * data-signature (hex HMAC-SHA256 of "email:timestamp"), data-timestamp (unix seconds, signed),
 * data-title, data-open ("true"), data-accent ("#hex"),
 * data-link (an order's chat link token: the chat starts tied to that order).
 * Security rule for this file: server and user content is only ever rendered as text
 * (textContent / createTextNode); never innerHTML. */
(function () {
  "use strict";

  // Must run synchronously at start: currentScript is only set during the initial execution.
  var script = document.currentScript ||
    document.querySelector('script[src*="/webchat/widget.js"]');
  if (!script || window.__orderbotWidget || document.getElementById("orderbot-widget")) return;
  window.__orderbotWidget = true;

  var scriptUrl = new URL(script.src, location.href);
  var path = scriptUrl.pathname;
  // https://bot.example/webchat/widget.js -> https://bot.example ; served elsewhere: the script's directory
  path = /\/webchat\/widget\.js$/.test(path) ? path.replace(/\/webchat\/widget\.js$/, "") : path.replace(/\/[^/]*$/, "");
  var BASE = scriptUrl.origin + path.replace(/\/+$/, "");
  var WS_BASE = BASE.replace(/^http/, "ws");
  var ds = script.dataset;

  // Non-ASCII text is written as \u escapes so the file works even when a shop page is not UTF-8
  // and the server sends no charset. Readable copy (keep in sync):
  //   en: { title: "Shop assistant", placeholder: "Type a message…", send: "Send", open: "Open chat", close: "Close",
  //     reconnecting: "Reconnecting…", bot: "Assistant", operator: "Operator", you: "You", typing: "is typing…",
  //     unavailable: "Chat unavailable on this site", unread: "unread messages" },
  //   pl: { title: "Asystent sklepu", placeholder: "Napisz wiadomość…", send: "Wyślij", open: "Otwórz czat", close: "Zamknij",
  //     reconnecting: "Ponowne łączenie…", bot: "Asystent", operator: "Konsultant", you: "Ty", typing: "pisze…",
  //     unavailable: "Czat jest niedostępny na tej stronie", unread: "nieprzeczytane wiadomości" },
  //   ru: { title: "Помощник магазина", placeholder: "Введите сообщение…", send: "Отправить", open: "Открыть чат", close: "Закрыть",
  //     reconnecting: "Переподключение…", bot: "Ассистент", operator: "Оператор", you: "Вы", typing: "печатает…",
  //     unavailable: "Чат недоступен на этом сайте", unread: "непрочитанные сообщения" }
  var I18N = {
    en: { title: "Shop assistant", placeholder: "Type a message\u2026", send: "Send", open: "Open chat", close: "Close",
      reconnecting: "Reconnecting\u2026", bot: "Assistant", operator: "Operator", you: "You", typing: "is typing\u2026",
      unavailable: "Chat unavailable on this site", unread: "unread messages" },
    pl: { title: "Asystent sklepu", placeholder: "Napisz wiadomo\u015b\u0107\u2026", send: "Wy\u015blij", open: "Otw\u00f3rz czat", close: "Zamknij",
      reconnecting: "Ponowne \u0142\u0105czenie\u2026", bot: "Asystent", operator: "Konsultant", you: "Ty", typing: "pisze\u2026",
      unavailable: "Czat jest niedost\u0119pny na tej stronie", unread: "nieprzeczytane wiadomo\u015bci" },
    ru: { title: "\u041f\u043e\u043c\u043e\u0449\u043d\u0438\u043a \u043c\u0430\u0433\u0430\u0437\u0438\u043d\u0430", placeholder: "\u0412\u0432\u0435\u0434\u0438\u0442\u0435 \u0441\u043e\u043e\u0431\u0449\u0435\u043d\u0438\u0435\u2026", send: "\u041e\u0442\u043f\u0440\u0430\u0432\u0438\u0442\u044c", open: "\u041e\u0442\u043a\u0440\u044b\u0442\u044c \u0447\u0430\u0442", close: "\u0417\u0430\u043a\u0440\u044b\u0442\u044c",
      reconnecting: "\u041f\u0435\u0440\u0435\u043f\u043e\u0434\u043a\u043b\u044e\u0447\u0435\u043d\u0438\u0435\u2026", bot: "\u0410\u0441\u0441\u0438\u0441\u0442\u0435\u043d\u0442", operator: "\u041e\u043f\u0435\u0440\u0430\u0442\u043e\u0440", you: "\u0412\u044b", typing: "\u043f\u0435\u0447\u0430\u0442\u0430\u0435\u0442\u2026",
      unavailable: "\u0427\u0430\u0442 \u043d\u0435\u0434\u043e\u0441\u0442\u0443\u043f\u0435\u043d \u043d\u0430 \u044d\u0442\u043e\u043c \u0441\u0430\u0439\u0442\u0435", unread: "\u043d\u0435\u043f\u0440\u043e\u0447\u0438\u0442\u0430\u043d\u043d\u044b\u0435 \u0441\u043e\u043e\u0431\u0449\u0435\u043d\u0438\u044f" }
  };
  function pickLang() {
    var cands = [ds.language, navigator.language].concat(navigator.languages || []);
    for (var i = 0; i < cands.length; i++) {
      var l = String(cands[i] || "").toLowerCase().slice(0, 2);
      if (I18N[l]) return l;
    }
    return "en";
  }
  var LANG = pickLang();
  var T = I18N[LANG];
  var MAX_LEN = 2000;

  // ---- storage (may be unavailable: private mode, blocked cookies) ----
  var memStore = {};
  function store(kind) {
    try { var s = window[kind]; s.getItem("x"); return s; } catch (e) {
      return { getItem: function (k) { return k in memStore ? memStore[k] : null; },
        setItem: function (k, v) { memStore[k] = String(v); }, removeItem: function (k) { delete memStore[k]; } };
    }
  }
  var LS = store("localStorage"), SS = store("sessionStorage");
  function sget(s, k) { try { return s.getItem(k); } catch (e) { return null; } }
  function sset(s, k, v) { try { if (v == null) s.removeItem(k); else s.setItem(k, v); } catch (e) { /* quota */ } }
  var K_TOKEN = "orderbot:token:" + BASE, K_EMAIL = "orderbot:email:" + BASE;
  var K_SEEN = "orderbot:seen:" + BASE, K_OPEN = "orderbot:open:" + BASE;
  var K_PRESSED = "orderbot:pressed:" + BASE;
  var K_UNACKED = "orderbot:unacked:" + BASE;

  // ---- tiny DOM helpers (text only) ----
  function el(tag, attrs, kids) {
    var n = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") n.textContent = attrs[k];
      else if (k === "class") n.className = attrs[k];
      else if (attrs[k] != null) n.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) n.appendChild(c); });
    return n;
  }
  var SVGNS = "http://www.w3.org/2000/svg";
  function icon(d) {
    var s = document.createElementNS(SVGNS, "svg");
    s.setAttribute("viewBox", "0 0 24 24"); s.setAttribute("aria-hidden", "true"); s.setAttribute("focusable", "false");
    var p = document.createElementNS(SVGNS, "path");
    p.setAttribute("d", d); s.appendChild(p);
    return s;
  }
  var ICON_CHAT = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z";
  var ICON_CLOSE = "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6 10.6 12 5 6.4z";
  var ICON_SEND = "M3 20.5v-7l10-1.5-10-1.5v-7L22 12z";

  // Text with http(s) links turned into <a>; everything else as text nodes. `shorten`: long
  // links get a short label (see linkLabel).
  var URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;
  var LINK_MAX = 32; // characters that fit on one line of a bubble in the narrowest panel
  // A long link (a tracking page, a document with its random token) is shown without its
  // scheme and cut short, so that it fits on one line; the whole address is in its title.
  function linkLabel(url, raw) {
    if (raw.length <= LINK_MAX) return raw;
    var shown = url.host + url.pathname.replace(/\/$/, "") + url.search;
    return shown.length > LINK_MAX ? shown.slice(0, LINK_MAX - 1) + "\u2026" : shown;
  }
  function renderText(target, text, shorten) {
    text = String(text == null ? "" : text);
    var last = 0, m;
    URL_RE.lastIndex = 0;
    while ((m = URL_RE.exec(text))) {
      var raw = m[0];
      // drop trailing punctuation, but keep a ")" that closes a "(" inside the URL (wiki-style links)
      while (/[.,;:!?'")\]}]$/.test(raw)) {
        if (raw.slice(-1) === ")" && (raw.match(/\(/g) || []).length >= (raw.match(/\)/g) || []).length) break;
        raw = raw.slice(0, -1);
      }
      URL_RE.lastIndex = m.index + raw.length;
      var url = null;
      try { url = new URL(raw); } catch (e) { url = null; }
      if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) continue;
      if (m.index > last) target.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = document.createElement("a");
      a.href = url.href; a.target = "_blank"; a.rel = "noopener noreferrer";
      a.textContent = shorten ? linkLabel(url, raw) : raw;
      if (a.textContent !== raw) a.title = url.href;
      target.appendChild(a);
      last = m.index + raw.length;
    }
    if (last < text.length) target.appendChild(document.createTextNode(text.slice(last)));
  }

  function fmtTime(at) {
    var d;
    if (typeof at === "number") d = new Date(at < 1e12 ? at * 1000 : at);
    else if (at) d = new Date(at);
    else d = new Date();
    if (isNaN(d.getTime())) return "";
    try { return d.toLocaleTimeString(LANG, { hour: "2-digit", minute: "2-digit" }); } catch (e) { return ""; }
  }

  function accentText(hex) { // white or dark text on the accent colour, whichever is readable
    var h = hex.slice(1);
    if (h.length < 6) h = h.split("").map(function (c) { return c + c; }).join("");
    var rgb = [0, 2, 4].map(function (i) {
      var c = parseInt(h.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2] > 0.4 ? "#111827" : "#ffffff";
  }

  var CSS = [
    ":host{all:initial}",
    ".ob{--ob-accent:#3b5bdb;--ob-on-accent:#fff;--ob-op:#0f766e;font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;",
    " font-size:14px;line-height:1.4;color:#1f2933;-webkit-font-smoothing:antialiased}",
    ".ob *,.ob *::before,.ob *::after{box-sizing:border-box}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;border:0;cursor:pointer;",
    " background:var(--ob-accent);color:var(--ob-on-accent);box-shadow:0 6px 20px rgba(0,0,0,.22);display:flex;align-items:center;justify-content:center;",
    " transition:transform .15s ease,box-shadow .15s ease;padding:0}",
    ".launcher:hover{transform:scale(1.06);box-shadow:0 8px 24px rgba(0,0,0,.28)}",
    ".launcher:focus-visible,button:focus-visible,textarea:focus-visible,a:focus-visible{outline:3px solid #94a3ff;outline-offset:2px}",
    ".launcher svg{width:26px;height:26px;fill:currentColor}",
    ".badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#e03131;color:#fff;",
    " font-size:12px;font-weight:700;line-height:22px;text-align:center;border:2px solid #fff}",
    ".badge[hidden],[hidden]{display:none!important}",
    ".panel{position:fixed;right:20px;bottom:88px;z-index:2147483001;width:370px;height:560px;max-height:calc(100vh - 108px);display:flex;flex-direction:column;",
    " background:#fff;border-radius:16px;overflow:hidden;box-shadow:0 12px 40px rgba(15,23,42,.25),0 2px 6px rgba(15,23,42,.08)}",
    ".head{display:flex;align-items:center;gap:10px;padding:14px 12px 14px 16px;background:var(--ob-accent);color:var(--ob-on-accent)}",
    ".dot{width:10px;height:10px;border-radius:50%;background:#51cf66;box-shadow:0 0 0 2px rgba(255,255,255,.6);flex:none}",
    ".dot.off{background:#adb5bd}",
    ".title{flex:1;font-weight:650;font-size:16px;margin:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
    ".icon-btn{border:0;background:transparent;color:inherit;width:34px;height:34px;border-radius:8px;cursor:pointer;display:flex;align-items:center;justify-content:center;padding:0}",
    ".icon-btn:hover{background:rgba(255,255,255,.18)}",
    ".icon-btn svg{width:20px;height:20px;fill:currentColor}",
    ".list{flex:1;overflow-y:auto;padding:16px 12px 8px;background:#f5f7fa;display:flex;flex-direction:column;gap:10px;overscroll-behavior:contain}",
    ".msg{display:flex;flex-direction:column;align-items:flex-start;max-width:85%}",
    ".msg.bot,.msg.operator{max-width:92%}",
    ".msg.cont{margin-top:-6px}",
    ".msg.cont .meta{display:none}",
    ".msg.customer{align-self:flex-end;align-items:flex-end}",
    ".meta{font-size:11.5px;color:#6b7280;margin:0 6px 3px}",
    ".bubble{padding:9px 13px;border-radius:16px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;background:#fff;color:#1f2933;",
    " border:1px solid #e5e9f0;border-bottom-left-radius:5px}",
    ".customer .bubble{background:var(--ob-accent);color:var(--ob-on-accent);border-color:transparent;border-radius:16px;border-bottom-right-radius:5px}",
    ".operator .bubble{background:#e6f6f4;border-color:#bfe6e0}",
    ".operator .meta{color:var(--ob-op);font-weight:600}",
    ".pending .bubble{opacity:.6}",
    ".bubble a{color:inherit;text-decoration:underline;text-underline-offset:2px;display:inline-block;max-width:100%;vertical-align:bottom}",
    ".btns{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}",
    ".btn{font:inherit;font-size:13px;border:1px solid var(--ob-accent);color:var(--ob-accent);background:#fff;border-radius:999px;padding:6px 12px;cursor:pointer;",
    " max-width:100%;line-height:1.3;overflow-wrap:anywhere;text-align:center;",
    " transition:background .12s ease}",
    ".btn:hover:not(:disabled){background:var(--ob-accent);color:var(--ob-on-accent)}",
    ".btn:disabled{opacity:.6;cursor:default;border-color:#ced4da;color:#6b7280}",
    ".btn.chosen:disabled{opacity:1;background:var(--ob-accent);border-color:var(--ob-accent);color:var(--ob-on-accent)}",
    ".note{align-self:center;font-size:12px;color:#6b7280;background:#eceff3;border-radius:10px;padding:4px 10px;max-width:90%;text-align:center;white-space:pre-wrap}",
    ".typing{font-size:12px;color:#6b7280;padding:2px 16px 4px;background:#f5f7fa;min-height:0}",
    ".status{font-size:12px;color:#8a5a00;background:#fff4d6;padding:5px 16px;text-align:center}",
    ".form{display:flex;align-items:flex-end;gap:8px;padding:10px 10px 12px 12px;border-top:1px solid #e5e9f0;background:#fff}",
    ".input{flex:1;font:inherit;font-size:14px;color:#1f2933;resize:none;border:1px solid #d0d7e2;border-radius:12px;padding:9px 12px;min-height:40px;",
    " max-height:120px;line-height:1.4;background:#fff;outline:none}",
    ".input:focus-visible{outline:none}",
    ".input:focus{border-color:var(--ob-accent);box-shadow:0 0 0 3px rgba(59,91,219,.15);box-shadow:0 0 0 3px color-mix(in srgb,var(--ob-accent) 18%,transparent)}",
    ".input:disabled{background:#f1f3f5}",
    ".send{flex:none;width:40px;height:40px;border-radius:50%;border:0;background:var(--ob-accent);color:var(--ob-on-accent);cursor:pointer;display:flex;",
    " align-items:center;justify-content:center;padding:0}",
    ".send:disabled{opacity:.5;cursor:default}",
    ".send svg{width:20px;height:20px;fill:currentColor}",
    "@media (max-width:479.98px){",
    " .panel{inset:0;right:0;bottom:0;width:100%;height:100%;max-height:none;border-radius:0}",
    " .ob.open .launcher{display:none}",
    " .input{font-size:16px}",
    "}",
    "@media (prefers-reduced-motion:reduce){.launcher{transition:none}}"
  ].join("\n");

  // ---- build UI ----
  var host = el("div", { id: "orderbot-widget" });
  var root = host.attachShadow({ mode: "open" });
  var style = el("style", { text: CSS });
  var badge = el("span", { class: "badge", "data-ob": "badge", id: "ob-badge", hidden: "" });
  var launcher = el("button", { type: "button", class: "launcher", "data-ob": "launcher", "aria-label": T.open,
    "aria-expanded": "false", "aria-controls": "ob-panel", "aria-describedby": "ob-badge", title: T.open }, [icon(ICON_CHAT), badge]);
  var titleText = ds.title || T.title;
  var dot = el("span", { class: "dot off", "aria-hidden": "true" });
  var closeBtn = el("button", { type: "button", class: "icon-btn", "data-ob": "close", "aria-label": T.close, title: T.close }, [icon(ICON_CLOSE)]);
  var list = el("div", { class: "list", "data-ob": "messages", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0", "aria-label": titleText });
  var typing = el("div", { class: "typing", "data-ob": "typing", "aria-live": "polite", hidden: "" });
  var status = el("div", { class: "status", "data-ob": "status", role: "status", hidden: "" });
  var input = el("textarea", { class: "input", "data-ob": "input", rows: "1", maxlength: String(MAX_LEN), placeholder: T.placeholder, "aria-label": T.placeholder });
  var sendBtn = el("button", { type: "submit", class: "send", "data-ob": "send", "aria-label": T.send, title: T.send }, [icon(ICON_SEND)]);
  var form = el("form", { class: "form", "data-ob": "form" }, [input, sendBtn]);
  var panel = el("div", { class: "panel", id: "ob-panel", "data-ob": "panel", role: "dialog", "aria-label": titleText, hidden: "" }, [
    el("div", { class: "head" }, [dot, el("h2", { class: "title", text: titleText }), closeBtn]), list, typing, status, form]);
  var wrap = el("div", { class: "ob", lang: LANG }, [launcher, panel]);
  if (/^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(ds.accent || "")) {
    wrap.style.setProperty("--ob-accent", ds.accent);
    wrap.style.setProperty("--ob-on-accent", accentText(ds.accent));
  }
  root.appendChild(style); root.appendChild(wrap);

  // ---- state ----
  var isOpen = false, unread = 0, ws = null, stopped = false, attempt = 0, retryTimer = null;
  var typingTimer = null, outbox = [], seenIds = {}, lastMsgId = null, creating = null, freshToken = false;
  // A stored token is swapped for a new one (rotated) once per page load: a token copied out
  // of this browser then works only until the customer's next visit.
  var resumed = false;
  // The socket takes messages once its history arrived: one sent earlier might be missing from
  // that history, which replaces what the list shows, and so vanish from the customer's view.
  var historyShown = false;
  var email = (ds.customerEmail || "").trim(), name = (ds.customerName || "").trim(), signature = (ds.signature || "").trim();
  var timestamp = (ds.timestamp || "").trim();
  var link = (ds.link || "").trim();
  // Who the stored token was made for: a new identity or link needs a new session.
  var identity = link ? "link:" + link : email.toLowerCase();

  function setStatus(text) { status.textContent = text || ""; status.hidden = !text; }
  function setOnline(on) { dot.className = on ? "dot" : "dot off"; }
  function nearBottom() { return list.scrollHeight - list.scrollTop - list.clientHeight < 80; }
  function scrollDown() { list.scrollTop = list.scrollHeight; }
  function setBadge(n) {
    unread = n;
    badge.textContent = n > 99 ? "99+" : String(n);
    badge.hidden = n <= 0;
    badge.setAttribute("aria-label", n + " " + T.unread);
  }
  function markSeen() { if (lastMsgId != null) sset(LS, K_SEEN, String(lastMsgId)); setBadge(0); }

  function note(text) {
    var stick = nearBottom();
    list.appendChild(el("div", { class: "note", "data-ob": "note", text: text }));
    if (stick) scrollDown();
  }

  function choose(btn) { btn.classList.add("chosen"); btn.setAttribute("aria-pressed", "true"); }

  // A question's buttons stay usable until it is answered: by a click, by the customer's typed
  // message (a typed button title marks that button as chosen, also in the history), or by a
  // newer question with buttons. A message without buttons (shipping news, an operator's
  // note) leaves the open question's buttons alone.
  function settleButtons(node, from, text) {
    if (from !== "customer" && !node.querySelector('[data-ob="button"]')) return;
    var typed = String(text == null ? "" : text).trim().toLowerCase();
    list.querySelectorAll(".btns").forEach(function (box) {
      var open = box.querySelectorAll('[data-ob="button"]:not(:disabled)');
      if (!open.length || box.closest('[data-ob="message"]') === node) return;
      open.forEach(function (b) {
        if (from === "customer" && !box.querySelector(".chosen") && b.textContent.trim().toLowerCase() === typed) choose(b);
        b.disabled = true;
      });
    });
  }

  // Consecutive messages from the same sender in the same minute share one name/time line.
  function continues(node) {
    var prev = list.lastElementChild;
    if (!prev || prev.getAttribute("data-ob") !== "message" || prev.getAttribute("data-from") !== node.getAttribute("data-from")) return false;
    var a = prev.querySelector('[data-ob="meta"]'), b = node.querySelector('[data-ob="meta"]');
    return !!(a && b && a.textContent === b.textContent);
  }

  // The server's history has a pressed button as a customer message without text. So that the
  // history still shows what was pressed, the widget remembers the title it sent for each
  // question (by the question's message id) and the message shows that title.
  var PRESSED_KEEP = 100;
  function pressedTitles() {
    try { var v = JSON.parse(sget(LS, K_PRESSED) || "{}"); return v && typeof v === "object" ? v : {}; } catch (e) { return {}; }
  }
  function rememberPressed(questionId, title) {
    if (questionId == null) return;
    var all = pressedTitles(), keys;
    delete all[questionId];
    all[questionId] = title;
    keys = Object.keys(all);
    keys.slice(0, Math.max(0, keys.length - PRESSED_KEEP)).forEach(function (k) { delete all[k]; });
    sset(LS, K_PRESSED, JSON.stringify(all));
  }
  function openQuestion() {
    var boxes = list.querySelectorAll(".btns"), i;
    for (i = boxes.length - 1; i >= 0; i--) {
      if (boxes[i].querySelector('[data-ob="button"]:not(:disabled)')) return boxes[i].closest('[data-ob="message"]');
    }
    return null;
  }

  // m: {id, from, text, buttons, at, author}; opts.pending for queued local messages
  function renderMessage(m, opts) {
    var from = m.from === "customer" || m.from === "operator" ? m.from : "bot";
    if (from === "customer" && !String(m.text == null ? "" : m.text).trim()) {
      var question = openQuestion();
      var title = question && pressedTitles()[question.getAttribute("data-id")];
      if (!title) { settleButtons(null, from, ""); return null; } // pressed elsewhere: no empty bubble
      m = { id: m.id, from: from, text: title, at: m.at };
    }
    var label = from === "customer" ? T.you : from === "operator" ? (m.author || T.operator) : T.bot;
    var time = fmtTime(m.at);
    var textEl = el("div", { class: "bubble", "data-ob": "text" });
    renderText(textEl, m.text, from !== "customer"); // the customer's own words stay verbatim
    var node = el("div", { class: "msg " + from + (opts && opts.pending ? " pending" : ""), "data-ob": "message", "data-from": from },
      [el("div", { class: "meta", "data-ob": "meta", text: time ? label + " \u00b7 " + time : label }), textEl]);
    if (m.id != null) node.setAttribute("data-id", String(m.id));
    var btns = Array.isArray(m.buttons) ? m.buttons.filter(function (b) { return b && b.title; }) : [];
    if (btns.length && from !== "customer") {
      var box = el("div", { class: "btns" });
      btns.forEach(function (b) {
        var btn = el("button", { type: "button", class: "btn", "data-ob": "button", text: String(b.title) });
        btn.addEventListener("click", function () {
          if (btn.disabled) return;
          box.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
          choose(btn);
          rememberPressed(node.getAttribute("data-id"), String(b.title));
          sendAction(String(b.payload == null ? b.title : b.payload), String(b.title));
        });
        box.appendChild(btn);
      });
      node.appendChild(box);
    }
    settleButtons(node, from, m.text);
    if (continues(node)) node.classList.add("cont");
    list.appendChild(node);
    return node;
  }

  function addIncoming(m, live) {
    if (m.id != null) {
      if (seenIds[m.id]) return;
      seenIds[m.id] = true;
      lastMsgId = m.id;
    }
    var stick = nearBottom() || m.from === "customer";
    renderMessage(m);
    if (stick) scrollDown();
    if (m.from !== "customer") {
      if (isOpen && !document.hidden) markSeen(); else if (live) setBadge(unread + 1);
    }
  }

  function renderHistory(messages) {
    messages = (Array.isArray(messages) ? messages : []).filter(function (m) { return m && typeof m === "object"; });
    list.textContent = "";
    seenIds = {};
    lastMsgId = null;
    messages.forEach(function (m) {
      if (m.id != null) { if (seenIds[m.id]) return; seenIds[m.id] = true; lastMsgId = m.id; }
      renderMessage(m);
    });
    var shown = alreadyRecorded(messages);
    outbox.forEach(function (o, i) { o.node = i < shown ? null : renderMessage(o.shown, { pending: true }); });
    scrollDown();
    if (isOpen) { markSeen(); return; }
    // unread = bot/operator messages after the last one the user saw (or after the customer's last message)
    var seen = sget(LS, K_SEEN), start = -1;
    messages.forEach(function (m, i) { if ((seen != null && String(m.id) === seen) || m.from === "customer") start = i; });
    setBadge(messages.slice(start + 1).filter(function (m) { return m.from !== "customer"; }).length);
  }

  // ---- outgoing ----
  // Every message and button press carries an id of its own and stays in the outbox (and in
  // localStorage, for a reload) until the server acknowledges it, which it does once the
  // message is recorded. After a reconnect every unacknowledged one is sent again, in order:
  // the server answers an id it has recorded already with an ack only (answered once).
  function newId() { return "w" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10); }
  function saveOutbox() {
    var items = outbox.map(function (o) { return { payload: o.payload, shown: o.shown, tried: !!o.tried }; });
    sset(LS, K_UNACKED, items.length ? JSON.stringify({ identity: identity, items: items }) : null);
  }
  function loadOutbox() {
    try {
      var saved = JSON.parse(sget(LS, K_UNACKED) || "null");
      if (!saved || saved.identity !== identity || !Array.isArray(saved.items)) return [];
      return saved.items.filter(function (o) { return o && o.payload && o.payload.id != null; })
        .map(function (o) { return { payload: o.payload, shown: o.shown || {}, tried: !!o.tried, sent: false, node: null }; });
    } catch (e) { return []; }
  }
  // How many of the outbox's first, already tried messages the history shows (recorded, their
  // ack lost with the old socket): the history's last customer messages are those, in order.
  function alreadyRecorded(messages) {
    var said = messages.filter(function (m) { return m.from === "customer"; })
      .map(function (m) { return String(m.text == null ? "" : m.text); });
    var tried = 0;
    while (tried < outbox.length && outbox[tried].tried) tried++;
    for (var j = Math.min(tried, said.length); j > 0; j--) {
      var tail = said.slice(said.length - j), k;
      for (k = 0; k < j; k++) {
        var p = outbox[k].payload;
        if (tail[k] !== (p.type === "message" ? p.text : "")) break;
      }
      if (k === j) return j;
    }
    return 0;
  }
  function transmit(payload) {
    if (ws && ws.readyState === 1 && historyShown) { try { ws.send(JSON.stringify(payload)); return true; } catch (e) { /* fall through */ } }
    return false;
  }
  // Messages leave in the order they were written: while earlier ones wait (the socket is
  // still connecting, or open but before its history arrived), a new one waits behind them.
  function queueOrSend(payload, shown) {
    payload.id = newId();
    outbox.push({ payload: payload, shown: shown, node: renderMessage(shown, { pending: true }), sent: false, tried: false });
    flushOutbox();
    scrollDown();
  }
  function flushOutbox() {
    for (var i = 0; i < outbox.length; i++) {
      var o = outbox[i];
      if (o.sent) continue;
      if (!transmit(o.payload)) break;
      o.sent = o.tried = true;
    }
    saveOutbox();
  }
  // The server's answer to a message of ours: recorded (ack), or refused (error with its id:
  // not sent again; the error says why).
  function settled(id, accepted) {
    for (var i = 0; i < outbox.length; i++) {
      if (outbox[i].payload.id !== id) continue;
      var o = outbox.splice(i, 1)[0];
      if (o.node && accepted) o.node.classList.remove("pending");
      saveOutbox();
      return;
    }
  }
  function sendText(text) {
    text = String(text || "").replace(/^\s+|\s+$/g, "").slice(0, MAX_LEN);
    if (!text || stopped) return false;
    queueOrSend({ type: "message", text: text }, { from: "customer", text: text, at: Date.now() });
    return true;
  }
  function sendAction(payload, title) {
    if (stopped) return;
    queueOrSend({ type: "action", payload: payload }, { from: "customer", text: title, at: Date.now() });
  }

  // ---- session + websocket ----
  function createSession(anonymous) {
    var body = { language: LANG };
    if (!anonymous && link) body.link = link;
    if (!anonymous && email) {
      body.customer = { email: email, name: name || undefined };
      if (signature) body.signature = signature;
      if (/^\d{1,11}$/.test(timestamp)) body.timestamp = parseInt(timestamp, 10);
    }
    return fetch(BASE + "/webchat/session", {
      method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.ok && data && data.token) return data;
        if ((r.status === 403 || r.status === 404) && !anonymous && (email || link)) return createSession(true);
        var err = new Error((data && data.detail) || ("HTTP " + r.status));
        err.status = r.status; err.detail = data && data.detail;
        throw err;
      });
    });
  }

  function newSession() {
    return createSession(false).then(function (data) {
      sset(LS, K_TOKEN, data.token);
      sset(LS, K_EMAIL, identity);
      sset(LS, K_SEEN, null);
      freshToken = true;
      resumed = true; // new: nothing to swap on this page load
      return data.token;
    });
  }
  function storedToken() {
    var tok = sget(LS, K_TOKEN);
    return tok && (sget(LS, K_EMAIL) || "") === identity ? tok : null;
  }
  // The new token for the stored one; the stored one if the server could not be asked (it
  // is tried as it is); null when its session has ended (expired, or replaced).
  function resumeSession(tok) {
    return fetch(BASE + "/webchat/session", {
      method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ resume: tok })
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.ok && data && data.token) return data.token;
        return r.status === 404 ? null : tok;
      });
    }, function () { return tok; });
  }
  // Tabs of one shop share the stored token: one at a time swaps it, so that a tab does not
  // present a token another tab has just replaced.
  function withSessionLock(fn) {
    try {
      if (navigator.locks && navigator.locks.request) return navigator.locks.request("orderbot:session:" + BASE, fn);
    } catch (e) { /* no Web Locks: go on without */ }
    return fn();
  }
  function resumeStored() {
    var tok = storedToken();
    if (!tok || resumed) return tok ? Promise.resolve(tok) : newSession();
    return resumeSession(tok).then(function (fresh) {
      resumed = true;
      if (fresh) { if (fresh !== tok) sset(LS, K_TOKEN, fresh); return fresh; }
      var other = storedToken();
      if (other && other !== tok) return other; // another tab replaced it meanwhile
      sset(LS, K_TOKEN, null);
      return newSession();
    });
  }

  function getToken() {
    var tok = storedToken();
    if (tok && resumed) return Promise.resolve(tok);
    if (!creating) {
      creating = (tok ? withSessionLock(resumeStored) : newSession()).finally(function () { creating = null; });
    }
    return creating;
  }

  function scheduleReconnect() {
    if (stopped || retryTimer) return;
    var delay = Math.min(30000, 1000 * Math.pow(2, attempt));
    delay = Math.min(30000, delay * (0.75 + Math.random() * 0.5));
    attempt++;
    setStatus(T.reconnecting);
    setOnline(false);
    retryTimer = setTimeout(function () { retryTimer = null; connect(); }, delay);
  }

  function stop(message) {
    stopped = true;
    clearTimeout(retryTimer); retryTimer = null;
    setStatus(message);
    setOnline(false);
    input.disabled = true; sendBtn.disabled = true;
    list.querySelectorAll('[data-ob="button"]').forEach(function (b) { b.disabled = true; });
  }

  function connect() {
    if (stopped || (ws && ws.readyState <= 1)) return;
    getToken().then(openSocket, function (err) {
      var st = (err && err.status) || 0;
      // 403: this site is not allowed; other 4xx won't get better by retrying. Network/5xx/408/429: back off.
      if (st >= 400 && st < 500 && st !== 408 && st !== 429) {
        stop(st !== 403 && typeof err.detail === "string" ? err.detail : T.unavailable);
      } else scheduleReconnect();
    });
  }

  function openSocket(token) {
    if (stopped) return;
    var sock;
    try { sock = new WebSocket(WS_BASE + "/webchat/ws?token=" + encodeURIComponent(token)); }
    catch (e) { scheduleReconnect(); return; }
    ws = sock;
    var wasFresh = freshToken; freshToken = false;
    sock.onmessage = function (ev) {
      if (ws !== sock) return;
      var data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      if (!data || typeof data !== "object") return;
      if (data.type === "history") {
        attempt = 0; setStatus(""); setOnline(true);
        renderHistory(data.messages);
        historyShown = true;
        flushOutbox();
      } else if (data.type === "message") {
        hideTyping();
        addIncoming(data, true);
      } else if (data.type === "typing") {
        showTyping(data);
      } else if (data.type === "ack") {
        settled(data.id, true);
      } else if (data.type === "error") {
        if (data.id != null) settled(data.id, false);
        note(String(data.reason || "Error"));
      }
    };
    sock.onclose = function (ev) {
      if (ws !== sock) return;
      ws = null;
      historyShown = false;
      outbox.forEach(function (o) { o.sent = false; }); // unacknowledged: sent again on the next socket
      setOnline(false);
      hideTyping();
      if (ev.code === 4401) {
        // Expired or replaced; forget it unless another tab has stored a newer one already.
        if (sget(LS, K_TOKEN) === token) sset(LS, K_TOKEN, null);
        if (wasFresh) scheduleReconnect(); else connect(); // a brand-new token refused: back off
      } else if (ev.code === 4403) {
        stop(T.unavailable);
      } else {
        scheduleReconnect();
      }
    };
    sock.onerror = function () { /* onclose follows */ };
  }

  function hideTyping() { clearTimeout(typingTimer); typing.hidden = true; typing.textContent = ""; }
  function showTyping(d) {
    var who = d.from === "operator" ? (d.author || T.operator) : T.bot;
    typing.textContent = who + " " + T.typing;
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, 4000);
  }

  // ---- open / close ----
  function setOpen(open, focus) {
    isOpen = open;
    panel.hidden = !open;
    wrap.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", String(open));
    sset(SS, K_OPEN, open ? "1" : "0");
    if (open) {
      markSeen();
      scrollDown();
      if (focus && !input.disabled) input.focus();
    } else if (focus) {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", function () { setOpen(!isOpen, true); });
  closeBtn.addEventListener("click", function () { setOpen(false, true); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { e.preventDefault(); setOpen(false, true); } });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (sendText(input.value)) { input.value = ""; autosize(); }
    input.focus();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      if (sendText(input.value)) { input.value = ""; autosize(); }
    }
  });
  function autosize() { input.style.height = "auto"; input.style.height = Math.min(input.scrollHeight + 2, 120) + "px"; }
  input.addEventListener("input", autosize);
  document.addEventListener("visibilitychange", function () { if (!document.hidden && isOpen) markSeen(); });
  window.addEventListener("online", function () {
    if (retryTimer && !stopped) { clearTimeout(retryTimer); retryTimer = null; connect(); }
  });

  // Small public API (used by the demo page): open/close the panel, prefill the input.
  window.OrderbotWidget = {
    open: function () { setOpen(true, true); },
    close: function () { setOpen(false, false); },
    prefill: function (text) { input.value = String(text || "").slice(0, MAX_LEN); autosize(); setOpen(true, true); }
  };

  function mount() {
    outbox = loadOutbox(); // left unacknowledged by the last page: drawn and sent after the history
    document.body.appendChild(host);
    var saved = sget(SS, K_OPEN);
    setOpen(saved != null ? saved === "1" : ds.open === "true", false);
    connect();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
