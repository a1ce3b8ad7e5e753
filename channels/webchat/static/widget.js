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

  // The status bar takes room from the list: the last row of buttons stays in view.
  function setStatus(text) { var stick = nearBottom(); status.textContent = text || ""; status.hidden = !text; if (stick) scrollDown(); }
  function setOnline(on) { connected = on; updateHeader(); }
  function nearBottom() { return list.scrollHeight - list.scrollTop - list.clientHeight < 80; }
  function scrollDown() { list.scrollTop = list.scrollHeight; }
  function setBadge(n) {
    unread = n;
    badge.textContent = n > 99 ? "99+" : String(n);
    badge.hidden = n <= 0;
    badge.setAttribute("aria-label", n + " " + T.unread);
  }
  function markSeen() { if (lastMsgId != null) sset(LS, K_SEEN, String(lastMsgId)); setBadge(0); clearAlert(); }

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
    if (from === "customer" && !String(m.text == null ? "" : m.text).trim() && !hasFiles(m)) {
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
    if (hasFiles(m)) renderFiles(node, textEl, m);
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
    if (from !== "customer") enrichMessage(node, m, textEl);
    settleButtons(node, from, m.text);
    markDay(m.at);
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
    if (live) alertNewMessage(m);
    if (stick) scrollDown();
    if (m.from !== "customer") {
      if (isOpen && !document.hidden) markSeen(); else if (live) setBadge(unread + 1);
    }
  }

  function renderHistory(messages) {
    messages = (Array.isArray(messages) ? messages : []).filter(function (m) { return m && typeof m === "object"; });
    list.textContent = "";
    heldBy = null;
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
    try { sock = new WebSocket(WS_BASE + "/webchat/ws?token=" + encodeURIComponent(token) + "&live=true"); }
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
      } else if (data.type === "operator") {
        operatorArrived(data);
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
      wantSession();
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

  // ---- attachments: a photo or PDF, uploaded first, then sent in a message by its id ----
  // Readable copy (keep in sync):
  //   en: { attach: "Attach a photo or PDF", uploading: "Sending the file…", failed: "The file could not be sent.", file: "File" }
  //   pl: { attach: "Dołącz zdjęcie lub PDF", uploading: "Wysyłanie pliku…", failed: "Nie udało się wysłać pliku.", file: "Plik" }
  //   ru: { attach: "Прикрепить фото или PDF", uploading: "Отправка файла…", failed: "Не удалось отправить файл.", file: "Файл" }
  var FILE_I18N = {
    en: { attach: "Attach a photo or PDF", uploading: "Sending the file\u2026", failed: "The file could not be sent.", file: "File" },
    pl: { attach: "Do\u0142\u0105cz zdj\u0119cie lub PDF", uploading: "Wysy\u0142anie pliku\u2026", failed: "Nie uda\u0142o si\u0119 wys\u0142a\u0107 pliku.", file: "Plik" },
    ru: { attach: "\u041f\u0440\u0438\u043a\u0440\u0435\u043f\u0438\u0442\u044c \u0444\u043e\u0442\u043e \u0438\u043b\u0438 PDF", uploading: "\u041e\u0442\u043f\u0440\u0430\u0432\u043a\u0430 \u0444\u0430\u0439\u043b\u0430\u2026", failed: "\u041d\u0435 \u0443\u0434\u0430\u043b\u043e\u0441\u044c \u043e\u0442\u043f\u0440\u0430\u0432\u0438\u0442\u044c \u0444\u0430\u0439\u043b.", file: "\u0424\u0430\u0439\u043b" }
  };
  var TF = FILE_I18N[LANG] || FILE_I18N.en;
  var ICON_ATTACH = "M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z";
  var FILE_CSS = [
    ".attach{flex:none;width:40px;height:40px;border-radius:50%;border:0;background:transparent;color:#4b5563;cursor:pointer;display:flex;align-items:center;justify-content:center;padding:0}",
    ".attach:hover:not(:disabled){background:#eef1f6}",
    ".attach:disabled{opacity:.5;cursor:default}",
    ".attach svg{width:22px;height:22px;fill:currentColor}",
    ".files{display:flex;flex-wrap:wrap;gap:6px;margin-top:4px;justify-content:flex-end}",
    ".thumb{display:block;max-width:200px;max-height:160px;border-radius:12px;border:1px solid #e5e9f0;background:#fff;cursor:pointer;padding:0}",
    ".thumb img{display:block;max-width:198px;max-height:158px;border-radius:11px}",
    ".file{font:inherit;font-size:13px;display:flex;align-items:center;gap:6px;border:1px solid #d0d7e2;background:#fff;color:#1f2933;border-radius:12px;padding:8px 12px;cursor:pointer;max-width:220px;overflow-wrap:anywhere;text-align:left}",
    ".file::before{content:'PDF';font-size:10px;font-weight:700;color:#fff;background:#c92a2a;border-radius:4px;padding:2px 4px;flex:none}"
  ].join("\n");
  var fileInput = null, attachBtn = null;

  function hasFiles(m) { return Array.isArray(m.attachments) && m.attachments.length > 0; }

  function mountAttachments() {
    root.appendChild(el("style", { text: FILE_CSS }));
    fileInput = el("input", { type: "file", accept: "image/jpeg,image/png,image/webp,application/pdf", "data-ob": "file-input", hidden: "", tabindex: "-1", "aria-hidden": "true" });
    attachBtn = el("button", { type: "button", class: "attach", "data-ob": "attach", "aria-label": TF.attach, title: TF.attach }, [icon(ICON_ATTACH)]);
    attachBtn.addEventListener("click", function () { if (!stopped) fileInput.click(); });
    fileInput.addEventListener("change", function () {
      var file = fileInput.files && fileInput.files[0];
      fileInput.value = "";
      if (file) uploadFile(file);
    });
    form.insertBefore(attachBtn, input);
    form.appendChild(fileInput);
  }

  function uploadFile(file) {
    attachBtn.disabled = true;
    setStatus(TF.uploading);
    getToken().then(function (token) {
      var body = new FormData();
      body.append("file", file, file.name);
      return fetch(BASE + "/webchat/attachments", { method: "POST", headers: { "X-Chat-Token": token }, body: body })
        .then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (data) {
            if (!r.ok || !data.attachment) throw new Error(typeof data.detail === "string" ? data.detail : TF.failed);
            return data.attachment;
          });
        });
    }).then(function (attachment) {
      setStatus("");
      var shown = { from: "customer", text: "", at: Date.now(), attachments: [attachment], local: file };
      queueOrSend({ type: "message", text: "", attachments: [attachment.id] }, shown);
    }, function (err) {
      setStatus("");
      note(err && err.message ? err.message : TF.failed);
    }).finally(function () { attachBtn.disabled = false; });
  }

  // The customer's own file, read with their token (it is never a public URL).
  function fetchFile(id) {
    return getToken().then(function (token) {
      return fetch(BASE + "/webchat/attachments/" + encodeURIComponent(id), { headers: { "X-Chat-Token": token } });
    }).then(function (r) { if (!r.ok) throw new Error(TF.failed); return r.blob(); });
  }

  // A data: URL: shop pages (and the demo's policy) allow data: images, not always blob: ones.
  function asDataUrl(blob) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(String(reader.result)); };
      reader.onerror = reject;
      reader.readAsDataURL(blob);
    });
  }

  function saveBlob(blob, name) {
    var url = URL.createObjectURL(blob);
    var a = el("a", { href: url, download: name });
    root.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }

  function renderFiles(node, textEl, m) {
    if (!String(m.text == null ? "" : m.text).trim()) textEl.remove();
    var box = el("div", { class: "files", "data-ob": "files" });
    m.attachments.forEach(function (a) {
      if (!a || !a.id) return;
      var name = String(a.name || TF.file);
      var source = function () { return m.local ? Promise.resolve(m.local) : fetchFile(a.id); };
      if (a.image) {
        var img = el("img", { alt: name, "data-ob": "thumbnail" });
        var thumb = el("button", { type: "button", class: "thumb", "aria-label": name, title: name }, [img]);
        source().then(asDataUrl).then(function (url) { img.src = url; }, function () { img.alt = name + " \u2014 " + TF.failed; });
        thumb.addEventListener("click", function () { source().then(function (b) { saveBlob(b, name); }); });
        box.appendChild(thumb);
      } else {
        var file = el("button", { type: "button", class: "file", "data-ob": "file", text: name, title: name });
        file.addEventListener("click", function () { source().then(function (b) { saveBlob(b, name); }, function () { note(TF.failed); }); });
        box.appendChild(file);
      }
    });
    node.appendChild(box);
  }
  mountAttachments();

  // ---- welcome screen, rich messages, day separators, presence, typing, alerts ----
  // Kept apart from the message/ack code above: renderMessage calls enrichMessage and
  // markDay, the socket code calls noteOperator through them, and nothing here sends a
  // message except through sendText / sendAction.
  // Texts of the welcome screen, rich messages and alerts (RICH_I18N): readable copy, keep in sync:
  //   en: greeting: "Hi! How can we help you today?", suggested: "Suggested questions", askOrder: "Where is my order?", askReturn: "Return an item", askPerson: "Talk to a person", today: "Today", yesterday: "Yesterday", rate: "Rate this conversation", ratingOf: "{n} of 5", order: "Order", items: "Items", track: "Track parcel", documents: "Documents", joined: "{name} from the shop joined the chat", left: "{name} left, the assistant is back", fromShop: "from the shop", newMessage: "New message", more: "More options", newChat: "Start a new conversation", emailMe: "Email me this conversation", emailSent: "We have sent this conversation to your email address.", emailRecent: "This conversation was emailed a moment ago.", emailNoAddress: "We can't email this conversation: we don't know your email address here."
  //   pl: greeting: "Cześć! W czym możemy pomóc?", suggested: "Proponowane pytania", askOrder: "Gdzie jest moje zamówienie?", askReturn: "Chcę zwrócić produkt", askPerson: "Chcę porozmawiać z konsultantem", today: "Dzisiaj", yesterday: "Wczoraj", rate: "Oceń tę rozmowę", ratingOf: "{n} z 5", order: "Zamówienie", items: "Produkty", track: "Śledź przesyłkę", documents: "Dokumenty", joined: "{name} ze sklepu dołączył(a) do czatu", left: "{name} opuścił(a) czat, wraca asystent", fromShop: "ze sklepu", newMessage: "Nowa wiadomość", more: "Więcej opcji", newChat: "Zacznij nową rozmowę", emailMe: "Wyślij mi tę rozmowę e-mailem", emailSent: "Wysłaliśmy tę rozmowę na Twój adres e-mail.", emailRecent: "Ta rozmowa została wysłana e-mailem przed chwilą.", emailNoAddress: "Nie możemy wysłać tej rozmowy e-mailem: nie znamy tu Twojego adresu e-mail."
  //   ru: greeting: "Здравствуйте! Чем можем помочь?", suggested: "Частые вопросы", askOrder: "Где мой заказ?", askReturn: "Хочу вернуть товар", askPerson: "Позовите оператора", today: "Сегодня", yesterday: "Вчера", rate: "Оцените этот разговор", ratingOf: "{n} из 5", order: "Заказ", items: "Товары", track: "Отследить посылку", documents: "Документы", joined: "{name} из магазина подключился(-ась) к чату", left: "{name} покинул(а) чат, снова на связи ассистент", fromShop: "из магазина", newMessage: "Новое сообщение", more: "Ещё", newChat: "Начать новый разговор", emailMe: "Отправить мне переписку по e-mail", emailSent: "Мы отправили эту переписку на ваш адрес электронной почты.", emailRecent: "Эта переписка только что была отправлена по e-mail.", emailNoAddress: "Мы не можем отправить переписку: здесь нам неизвестен ваш адрес электронной почты."
  var RICH_I18N = {
    en: { greeting: "Hi! How can we help you today?", suggested: "Suggested questions", askOrder: "Where is my order?", askReturn: "Return an item", askPerson: "Talk to a person", today: "Today", yesterday: "Yesterday", rate: "Rate this conversation", ratingOf: "{n} of 5", order: "Order", items: "Items", track: "Track parcel", documents: "Documents", joined: "{name} from the shop joined the chat", left: "{name} left, the assistant is back", fromShop: "from the shop", newMessage: "New message", more: "More options", newChat: "Start a new conversation", emailMe: "Email me this conversation", emailSent: "We have sent this conversation to your email address.", emailRecent: "This conversation was emailed a moment ago.", emailNoAddress: "We can't email this conversation: we don't know your email address here." },
    pl: { greeting: "Cze\u015b\u0107! W czym mo\u017cemy pom\u00f3c?", suggested: "Proponowane pytania", askOrder: "Gdzie jest moje zam\u00f3wienie?", askReturn: "Chc\u0119 zwr\u00f3ci\u0107 produkt", askPerson: "Chc\u0119 porozmawia\u0107 z konsultantem", today: "Dzisiaj", yesterday: "Wczoraj", rate: "Oce\u0144 t\u0119 rozmow\u0119", ratingOf: "{n} z 5", order: "Zam\u00f3wienie", items: "Produkty", track: "\u015aled\u017a przesy\u0142k\u0119", documents: "Dokumenty", joined: "{name} ze sklepu do\u0142\u0105czy\u0142(a) do czatu", left: "{name} opu\u015bci\u0142(a) czat, wraca asystent", fromShop: "ze sklepu", newMessage: "Nowa wiadomo\u015b\u0107", more: "Wi\u0119cej opcji", newChat: "Zacznij now\u0105 rozmow\u0119", emailMe: "Wy\u015blij mi t\u0119 rozmow\u0119 e-mailem", emailSent: "Wys\u0142ali\u015bmy t\u0119 rozmow\u0119 na Tw\u00f3j adres e-mail.", emailRecent: "Ta rozmowa zosta\u0142a wys\u0142ana e-mailem przed chwil\u0105.", emailNoAddress: "Nie mo\u017cemy wys\u0142a\u0107 tej rozmowy e-mailem: nie znamy tu Twojego adresu e-mail." },
    ru: { greeting: "\u0417\u0434\u0440\u0430\u0432\u0441\u0442\u0432\u0443\u0439\u0442\u0435! \u0427\u0435\u043c \u043c\u043e\u0436\u0435\u043c \u043f\u043e\u043c\u043e\u0447\u044c?", suggested: "\u0427\u0430\u0441\u0442\u044b\u0435 \u0432\u043e\u043f\u0440\u043e\u0441\u044b", askOrder: "\u0413\u0434\u0435 \u043c\u043e\u0439 \u0437\u0430\u043a\u0430\u0437?", askReturn: "\u0425\u043e\u0447\u0443 \u0432\u0435\u0440\u043d\u0443\u0442\u044c \u0442\u043e\u0432\u0430\u0440", askPerson: "\u041f\u043e\u0437\u043e\u0432\u0438\u0442\u0435 \u043e\u043f\u0435\u0440\u0430\u0442\u043e\u0440\u0430", today: "\u0421\u0435\u0433\u043e\u0434\u043d\u044f", yesterday: "\u0412\u0447\u0435\u0440\u0430", rate: "\u041e\u0446\u0435\u043d\u0438\u0442\u0435 \u044d\u0442\u043e\u0442 \u0440\u0430\u0437\u0433\u043e\u0432\u043e\u0440", ratingOf: "{n} \u0438\u0437 5", order: "\u0417\u0430\u043a\u0430\u0437", items: "\u0422\u043e\u0432\u0430\u0440\u044b", track: "\u041e\u0442\u0441\u043b\u0435\u0434\u0438\u0442\u044c \u043f\u043e\u0441\u044b\u043b\u043a\u0443", documents: "\u0414\u043e\u043a\u0443\u043c\u0435\u043d\u0442\u044b", joined: "{name} \u0438\u0437 \u043c\u0430\u0433\u0430\u0437\u0438\u043d\u0430 \u043f\u043e\u0434\u043a\u043b\u044e\u0447\u0438\u043b\u0441\u044f(-\u0430\u0441\u044c) \u043a \u0447\u0430\u0442\u0443", left: "{name} \u043f\u043e\u043a\u0438\u043d\u0443\u043b(\u0430) \u0447\u0430\u0442, \u0441\u043d\u043e\u0432\u0430 \u043d\u0430 \u0441\u0432\u044f\u0437\u0438 \u0430\u0441\u0441\u0438\u0441\u0442\u0435\u043d\u0442", fromShop: "\u0438\u0437 \u043c\u0430\u0433\u0430\u0437\u0438\u043d\u0430", newMessage: "\u041d\u043e\u0432\u043e\u0435 \u0441\u043e\u043e\u0431\u0449\u0435\u043d\u0438\u0435", more: "\u0415\u0449\u0451", newChat: "\u041d\u0430\u0447\u0430\u0442\u044c \u043d\u043e\u0432\u044b\u0439 \u0440\u0430\u0437\u0433\u043e\u0432\u043e\u0440", emailMe: "\u041e\u0442\u043f\u0440\u0430\u0432\u0438\u0442\u044c \u043c\u043d\u0435 \u043f\u0435\u0440\u0435\u043f\u0438\u0441\u043a\u0443 \u043f\u043e e-mail", emailSent: "\u041c\u044b \u043e\u0442\u043f\u0440\u0430\u0432\u0438\u043b\u0438 \u044d\u0442\u0443 \u043f\u0435\u0440\u0435\u043f\u0438\u0441\u043a\u0443 \u043d\u0430 \u0432\u0430\u0448 \u0430\u0434\u0440\u0435\u0441 \u044d\u043b\u0435\u043a\u0442\u0440\u043e\u043d\u043d\u043e\u0439 \u043f\u043e\u0447\u0442\u044b.", emailRecent: "\u042d\u0442\u0430 \u043f\u0435\u0440\u0435\u043f\u0438\u0441\u043a\u0430 \u0442\u043e\u043b\u044c\u043a\u043e \u0447\u0442\u043e \u0431\u044b\u043b\u0430 \u043e\u0442\u043f\u0440\u0430\u0432\u043b\u0435\u043d\u0430 \u043f\u043e e-mail.", emailNoAddress: "\u041c\u044b \u043d\u0435 \u043c\u043e\u0436\u0435\u043c \u043e\u0442\u043f\u0440\u0430\u0432\u0438\u0442\u044c \u043f\u0435\u0440\u0435\u043f\u0438\u0441\u043a\u0443: \u0437\u0434\u0435\u0441\u044c \u043d\u0430\u043c \u043d\u0435\u0438\u0437\u0432\u0435\u0441\u0442\u0435\u043d \u0432\u0430\u0448 \u0430\u0434\u0440\u0435\u0441 \u044d\u043b\u0435\u043a\u0442\u0440\u043e\u043d\u043d\u043e\u0439 \u043f\u043e\u0447\u0442\u044b." }
  };
  var R = RICH_I18N[LANG];
  var RICH_CSS = [
    ".head .titles{flex:1;min-width:0;display:flex;flex-direction:column}",
    ".head .sub{font-size:12px;opacity:.9;margin:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
    ".dot.away{background:#ced4da}",
    ".dot.reconnecting{background:#fab005;animation:ob-pulse 1.2s ease-in-out infinite}",
    "@keyframes ob-pulse{50%{opacity:.35}}",
    "@media (prefers-reduced-motion:reduce){.dot.reconnecting{animation:none}}",
    ".welcome{background:#fff;border:1px solid #e5e9f0;border-radius:14px;padding:14px;display:flex;flex-direction:column;gap:8px}",
    ".welcome .hello{font-size:16px;font-weight:650;margin:0;color:#1f2933}",
    ".welcome .team{font-size:13px;color:#4b5563;margin:0;display:flex;gap:6px;align-items:baseline}",
    ".welcome .team::before{content:'';flex:none;width:8px;height:8px;border-radius:50%;background:#ced4da;transform:translateY(-1px)}",
    ".welcome .team.available::before{background:#2f9e44}",
    ".suggest{display:flex;flex-direction:column;gap:6px;margin:4px 0 0;padding:0;list-style:none}",
    ".suggest .btn{width:100%;text-align:left;border-radius:10px;padding:8px 12px}",
    ".day{align-self:center;font-size:12px;color:#4b5563;margin:4px 0 -2px;font-weight:600}",
    ".nowrap{white-space:nowrap}",
    ".msg.system{align-self:center;align-items:center;max-width:92%}",
    ".msg.system .meta{display:none}",
    ".msg.system .bubble{background:#eceff3;border:0;border-radius:10px;font-size:12.5px;color:#374151;padding:5px 12px;text-align:center}",
    ".leftnote{align-self:center;font-size:12.5px;color:#374151;background:#eceff3;border-radius:10px;padding:4px 10px;margin:0 0 6px}",
    ".card{align-self:stretch;margin-bottom:6px;background:#fff;border:1px solid #d0d7e2;border-radius:12px;padding:10px 12px;min-width:220px;max-width:100%}",
    ".card .card-head{display:flex;justify-content:space-between;align-items:center;gap:8px;margin:0 0 6px;font-size:14px;font-weight:650}",
    ".card .pill{font-size:12px;font-weight:600;border-radius:999px;padding:2px 8px;background:#e7f5ff;color:#1864ab;white-space:nowrap}",
    ".card .pill.shipped,.card .pill.delivered{background:#ebfbee;color:#1e6b30}",
    ".card .pill.cancelled{background:#fff5f5;color:#c92a2a}",
    ".card ul{margin:0 0 8px;padding:0 0 0 18px;font-size:13px;color:#374151}",
    ".linkbtn{display:inline-flex;align-items:center;gap:6px;font-size:13px;font-weight:600;text-decoration:none;border-radius:8px;padding:7px 12px;",
    " background:var(--ob-accent);color:var(--ob-on-accent)}",
    ".docs{display:flex;flex-direction:column;gap:6px;margin-top:6px}",
    ".docs .linkbtn{background:#fff;color:var(--ob-accent);border:1px solid var(--ob-accent)}",
    ".btns.rating{flex-wrap:nowrap;gap:2px}",
    ".btns.rating .btn{border:0;background:transparent;font-size:24px;line-height:1;padding:4px 5px;color:#adb5bd;border-radius:8px}",
    ".btns.rating .btn.lit,.btns.rating .btn:hover:not(:disabled){color:#f08c00;background:transparent}",
    ".btns.rating .btn:disabled{opacity:1;color:#adb5bd}",
    ".btns.rating .btn.lit:disabled{color:#f08c00}",
    ".menu{position:absolute;right:8px;top:56px;z-index:2;background:#fff;border:1px solid #d0d7e2;border-radius:10px;box-shadow:0 8px 24px rgba(15,23,42,.18);",
    " padding:4px;display:flex;flex-direction:column;min-width:220px}",
    ".menu button{font:inherit;font-size:14px;text-align:left;border:0;background:transparent;color:#1f2933;padding:9px 12px;border-radius:8px;cursor:pointer}",
    ".menu button:hover{background:#f1f3f5}",
    ".panel{position:fixed}"
  ].join("\n");
  root.appendChild(el("style", { text: RICH_CSS }));

  var heldBy = null, teamAvailable = null, connected = false, sessionWanted = false;

  // Header: the operator's name while they hold the chat; the dot is green when someone is
  // there (an operator, or the team within its hours), grey when away, amber while reconnecting.
  var titleEl = panel.querySelector(".title");
  var subEl = el("p", { class: "sub", "data-ob": "subtitle", hidden: "" });
  var titles = el("div", { class: "titles" });
  titleEl.parentNode.insertBefore(titles, titleEl);
  titles.appendChild(titleEl); titles.appendChild(subEl);
  function updateHeader() {
    titleEl.textContent = heldBy || titleText;
    subEl.textContent = heldBy ? R.fromShop : "";
    subEl.hidden = !heldBy;
    var state = connected ? (heldBy || teamAvailable ? "dot" : "dot away") : (attempt > 0 && !stopped ? "dot reconnecting" : "dot off");
    dot.className = state;
    dot.setAttribute("data-state", state.replace(/^dot ?/, "") || "here");
  }
  function noteOperator(m) {
    var who = m.operator && typeof m.operator === "object" ? m.operator : null;
    if (who && who.event === "joined") heldBy = String(who.name || T.operator);
    else if (who && who.event === "left") heldBy = null;
    else if (m.from === "operator") heldBy = m.author || heldBy || T.operator;
    updateHeader();
  }

  // The welcome screen: a greeting, the team's availability and suggested first questions,
  // sent as the customer's own message. Drawn without a session: one is made on the first open.
  var teamLine = el("p", { class: "team", "data-ob": "team", hidden: "" });
  var suggestions = el("ul", { class: "suggest", "data-ob": "suggestions", "aria-label": R.suggested });
  [R.askOrder, R.askReturn, R.askPerson].forEach(function (text) {
    var b = el("button", { type: "button", class: "btn", "data-ob": "suggestion", text: text });
    b.addEventListener("click", function () { sendText(text); input.focus(); });
    suggestions.appendChild(el("li", {}, [b]));
  });
  var welcome = el("div", { class: "welcome", "data-ob": "welcome" }, [
    el("p", { class: "hello", text: R.greeting }), teamLine, suggestions]);
  function refreshWelcome() {
    if (list.firstChild !== welcome) list.insertBefore(welcome, list.firstChild);
    suggestions.hidden = !!list.querySelector('[data-ob="message"][data-from="customer"]');
  }
  new MutationObserver(function (changes) {
    if (changes.some(function (c) { return c.addedNodes.length || c.removedNodes.length; })) refreshWelcome();
  }).observe(list, { childList: true });
  refreshWelcome();
  var teamAsked = false;
  function askTeam() {
    if (teamAsked) return;
    teamAsked = true;
    fetch(BASE + "/webchat/team?language=" + LANG, { credentials: "omit" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (team) {
      if (!team || !team.text) return;
      teamAvailable = team.available === true;
      teamLine.textContent = String(team.text);
      teamLine.className = teamAvailable ? "team available" : "team";
      teamLine.hidden = false;
      updateHeader();
    }, function () { teamAsked = false; });
  }

  // A session (and its conversation) only when the customer opens the chat (see mount).
  function wantSession() {
    askTeam();
    if (sessionWanted) return;
    sessionWanted = true;
    connect();
  }

  // Day separators: Today / Yesterday / the date, in the customer's language.
  function dayOf(at) {
    var d = typeof at === "number" ? new Date(at < 1e12 ? at * 1000 : at) : at ? new Date(at) : new Date();
    return isNaN(d.getTime()) ? new Date() : d;
  }
  function dayKey(d) { return d.getFullYear() + "-" + (d.getMonth() + 1) + "-" + d.getDate(); }
  function dayLabel(d) {
    var now = new Date(), y = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
    if (dayKey(d) === dayKey(now)) return R.today;
    if (dayKey(d) === dayKey(y)) return R.yesterday;
    var opts = { day: "numeric", month: "long" };
    if (d.getFullYear() !== now.getFullYear()) opts.year = "numeric";
    try { return d.toLocaleDateString(LANG, opts); } catch (e) { return d.toDateString(); }
  }
  function markDay(at) {
    var d = dayOf(at), key = dayKey(d), days = list.querySelectorAll('[data-ob="day"]');
    if (days.length && days[days.length - 1].getAttribute("data-day") === key) return;
    list.appendChild(el("div", { class: "day", "data-ob": "day", "data-day": key, text: dayLabel(d) }));
  }

  // Order numbers ("A-1009") never break at their hyphen.
  var ORDER_RE = /\b[A-Z]{1,4}-\d{2,}\b/g;
  function keepOrderNumbers(target) {
    var walker = document.createTreeWalker(target, NodeFilter.SHOW_TEXT), nodes = [], n;
    while ((n = walker.nextNode())) nodes.push(n);
    nodes.forEach(function (node) {
      var text = node.nodeValue, last = 0, m, frag = document.createDocumentFragment();
      ORDER_RE.lastIndex = 0;
      while ((m = ORDER_RE.exec(text))) {
        if (m.index > last) frag.appendChild(document.createTextNode(text.slice(last, m.index)));
        frag.appendChild(el("span", { class: "nowrap", text: m[0] }));
        last = m.index + m[0].length;
      }
      if (!last) return;
      if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
      node.parentNode.replaceChild(frag, node);
    });
  }

  function safeUrl(raw) {
    try { var u = new URL(String(raw)); return u.protocol === "https:" || u.protocol === "http:" ? u.href : null; } catch (e) { return null; }
  }
  function linkButton(title, href, ob, download) {
    var a = el("a", { class: "linkbtn", "data-ob": ob, href: href, target: "_blank", rel: "noopener noreferrer", text: title });
    if (download) a.setAttribute("download", "");
    return a;
  }
  // The order card: number, status, items, and the courier's tracking page once shipped.
  function orderCard(card) {
    var number = String(card.number || ""), status = String(card.status || "");
    var box = el("section", { class: "card", "data-ob": "card", "aria-label": R.order + " " + number }, [
      el("div", { class: "card-head" }, [
        el("span", { class: "nowrap", "data-ob": "card-number", text: R.order + " " + number }),
        el("span", { class: "pill " + status.replace(/[^a-z_]/g, ""), "data-ob": "card-status", text: String(card.status_label || status) })])]);
    var items = Array.isArray(card.items) ? card.items : [];
    if (items.length) {
      var ul = el("ul", { "aria-label": R.items });
      items.forEach(function (it) {
        if (it && it.name) ul.appendChild(el("li", { "data-ob": "card-item", text: (it.quantity > 1 ? it.quantity + " \u00d7 " : "") + String(it.name) }));
      });
      box.appendChild(ul);
    }
    var tracking = card.tracking && safeUrl(card.tracking.url);
    if (tracking) box.appendChild(linkButton(R.track + (card.tracking.carrier ? " (" + card.tracking.carrier + ")" : ""), tracking, "track", false));
    return box;
  }
  function documentButtons(docs) {
    var box = el("div", { class: "docs", "data-ob": "documents", role: "group", "aria-label": R.documents });
    docs.forEach(function (d) {
      var href = d && safeUrl(d.url);
      if (href) box.appendChild(linkButton(String(d.title || R.documents), href, "document", true));
    });
    return box.childNodes.length ? box : null;
  }
  // The rating's five buttons as one row of stars with radio-group semantics ("3 of 5").
  function ratingControl(node) {
    var btns = node.querySelectorAll('[data-ob="button"]'), box = btns.length ? btns[0].parentNode : null;
    if (!box || btns.length !== 5) return;
    box.classList.add("rating");
    box.setAttribute("role", "radiogroup");
    box.setAttribute("aria-label", R.rate);
    box.setAttribute("data-ob", "rating");
    function light(upto) { btns.forEach(function (b, i) { b.classList.toggle("lit", i < upto); }); }
    // Chosen before a reload: the title this browser sent for the question ("★★★★").
    var pressed = String(pressedTitles()[node.getAttribute("data-id")] || "");
    var before = /^\u2605{1,5}$/.test(pressed) ? pressed.length : 0;
    btns.forEach(function (b, i) {
      b.setAttribute("role", "radio");
      b.setAttribute("aria-checked", b.classList.contains("chosen") || i + 1 === before ? "true" : "false");
      b.setAttribute("aria-label", R.ratingOf.replace("{n}", String(i + 1)));
      b.setAttribute("tabindex", i === 0 ? "0" : "-1");
      b.textContent = "\u2605";
      if (b.classList.contains("chosen") || i + 1 === before) { light(i + 1); b.removeAttribute("aria-pressed"); }
      b.addEventListener("mouseenter", function () { if (!b.disabled) light(i + 1); });
      b.addEventListener("mouseleave", function () { if (!b.disabled) light(0); });
      b.addEventListener("click", function () { b.setAttribute("aria-checked", "true"); light(i + 1); });
      // The shared button code marks a choice with aria-pressed, which a radio does not take:
      // it becomes aria-checked (also when a later message settles the choice).
      new MutationObserver(function () {
        if (!b.hasAttribute("aria-pressed")) return;
        b.removeAttribute("aria-pressed");
        b.setAttribute("aria-checked", "true");
        light(i + 1);
      }).observe(b, { attributes: true, attributeFilter: ["aria-pressed"] });
      b.addEventListener("keydown", function (e) {
        var step = e.key === "ArrowRight" || e.key === "ArrowDown" ? 1 : e.key === "ArrowLeft" || e.key === "ArrowUp" ? -1 : 0;
        if (!step) return;
        e.preventDefault();
        var next = btns[(i + step + btns.length) % btns.length];
        b.setAttribute("tabindex", "-1"); next.setAttribute("tabindex", "0"); next.focus();
      });
    });
  }
  function isRating(m) {
    var b = Array.isArray(m.buttons) ? m.buttons : [];
    return b.length === 5 && b.every(function (x, i) { return x && x.payload === "rating:" + (i + 1); });
  }
  // What renderMessage adds to a bot/operator message: the card, documents (their raw links
  // left out of the text), the rating row, the operator's arrival and departure.
  function enrichMessage(node, m, textEl) {
    noteOperator(m);
    var who = m.operator && typeof m.operator === "object" ? m.operator : null;
    if (who && who.event === "left") {
      node.insertBefore(el("div", { class: "leftnote", "data-ob": "left", text: R.left.replace("{name}", String(who.name || T.operator)) }), node.firstChild);
    }
    var docs = Array.isArray(m.documents) ? m.documents : [];
    if (docs.length) {
      var urls = docs.map(function (d) { return d && String(d.url); });
      // The link goes, and so does its label ("Return label (PDF): ", "Your confirmation: "),
      // up to the end of the sentence before it; a line left empty goes too.
      var kept = String(m.text == null ? "" : m.text).split("\n").map(function (line) {
        var cut = line;
        urls.forEach(function (u) { if (u && cut.indexOf(u) !== -1) cut = cut.split(u).join("").replace(/(^|[.!?])[^.!?]*:\s*$/, "$1"); });
        return cut === line ? line : cut.replace(/\s+$/, "") || null;
      }).filter(function (line) { return line !== null; }).join("\n");
      textEl.textContent = "";
      renderText(textEl, kept, true);
      textEl.hidden = !kept.trim();
    }
    if (m.from !== "customer") keepOrderNumbers(textEl);
    // The card first: it answers at a glance; the text below keeps the details (history, scans).
    if (m.card && typeof m.card === "object") node.insertBefore(orderCard(m.card), textEl);
    var docBox = docs.length ? documentButtons(docs) : null;
    if (docBox) node.appendChild(docBox);
    if (isRating(m)) ratingControl(node);
  }

  // {"type":"operator","event":"joined","name"}: a live notice (not in the history; the
  // header keeps the name from the operator's messages after a reload).
  function operatorArrived(d) {
    if (d.event !== "joined") return;
    var name = String(d.name || T.operator), stick = nearBottom();
    hideTyping();
    markDay(Date.now());
    list.appendChild(el("div", { class: "msg system", "data-ob": "message", "data-from": "system" }, [
      el("div", { class: "bubble", "data-ob": "text", text: R.joined.replace("{name}", name) })]));
    noteOperator({ operator: { event: "joined", name: name } });
    alertNewMessage({ from: "system" });
    if (stick) scrollDown();
  }

  // The customer's typing, told to the desk at most every few seconds.
  var lastTypingSent = 0;
  input.addEventListener("input", function () {
    if (!input.value.trim() || !ws || ws.readyState !== 1 || !historyShown) return;
    var now = Date.now();
    if (now - lastTypingSent < 3000) return;
    lastTypingSent = now;
    try { ws.send(JSON.stringify({ type: "typing" })); } catch (e) { /* the next keystroke tries again */ }
  });

  // A reply while the panel is closed (or the tab hidden): "(1) New message" in the tab's
  // title and a short chime; the chime only once the page has had a user gesture (no
  // autoplay error), and never with reduced motion asked for... nor when muted by the OS.
  var pageTitle = document.title, alerts = 0, audio = null;
  function unlockAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (audio || !Ctx) return;
    try { audio = new Ctx(); } catch (e) { audio = null; }
  }
  ["pointerdown", "keydown"].forEach(function (t) { document.addEventListener(t, unlockAudio, { capture: true, once: true }); });
  function chime() {
    if (!audio || audio.state !== "running") return;
    try {
      var o = audio.createOscillator(), g = audio.createGain(), t = audio.currentTime;
      o.frequency.value = 880; g.gain.setValueAtTime(0.0001, t);
      g.gain.exponentialRampToValueAtTime(0.08, t + 0.02); g.gain.exponentialRampToValueAtTime(0.0001, t + 0.3);
      o.connect(g); g.connect(audio.destination); o.start(t); o.stop(t + 0.32);
    } catch (e) { /* no sound: the title says it */ }
  }
  function alertNewMessage(m) {
    if (m.from === "customer" || (isOpen && !document.hidden)) return;
    if (!alerts) pageTitle = document.title;
    alerts++;
    document.title = "(" + alerts + ") " + R.newMessage;
    chime();
  }
  function clearAlert() {
    if (!alerts) return;
    alerts = 0;
    document.title = pageTitle;
  }

  // "Start a new conversation": the stored token is forgotten and a new session begins.
  function startNewConversation() {
    var old = ws;
    ws = null; historyShown = false; heldBy = null; connected = false;
    if (old) { try { old.close(1000, "new conversation"); } catch (e) { /* closed already */ } }
    clearTimeout(retryTimer); retryTimer = null; attempt = 0;
    sset(LS, K_TOKEN, null); sset(LS, K_SEEN, null);
    outbox.length = 0; seenIds = {}; lastMsgId = null;
    list.textContent = "";
    setStatus(""); hideTyping(); updateHeader();
    sessionWanted = false; resumed = false;
    wantSession();
    input.focus();
  }
  var menuBtn = el("button", { type: "button", class: "icon-btn", "data-ob": "more", "aria-label": R.more, title: R.more,
    "aria-expanded": "false", "aria-controls": "ob-menu" }, [icon("M12 7a2 2 0 1 1 0-4 2 2 0 0 1 0 4zm0 7a2 2 0 1 1 0-4 2 2 0 0 1 0 4zm0 7a2 2 0 1 1 0-4 2 2 0 0 1 0 4z")]);
  var newChatBtn = el("button", { type: "button", "data-ob": "new-conversation", text: R.newChat });
  // "Email me this conversation": for a customer the shop has signed in (the bot knows their
  // address); the mail leaves through the bot's email channel.
  var emailBtn = email && signature ? el("button", { type: "button", "data-ob": "email-transcript", text: R.emailMe }) : null;
  var menu = el("div", { class: "menu", id: "ob-menu", "data-ob": "menu", hidden: "" }, [newChatBtn, emailBtn]);
  function emailTranscript() {
    var tok = storedToken();
    if (!tok) return;
    fetch(BASE + "/webchat/transcript", {
      method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: tok })
    }).then(function (r) {
      // the customer's language, not the server's English reason
      note(r.ok ? R.emailSent : r.status === 429 ? R.emailRecent : r.status === 409 ? R.emailNoAddress : T.unavailable);
    }, function () { note(T.unavailable); });
  }
  if (emailBtn) emailBtn.addEventListener("click", function () { showMenu(false); emailTranscript(); input.focus(); });
  closeBtn.parentNode.insertBefore(menuBtn, closeBtn);
  panel.appendChild(menu);
  function showMenu(show) { menu.hidden = !show; menuBtn.setAttribute("aria-expanded", String(show)); }
  menuBtn.addEventListener("click", function () { showMenu(menu.hidden); if (!menu.hidden) newChatBtn.focus(); });
  newChatBtn.addEventListener("click", function () { showMenu(false); startNewConversation(); });
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !menu.hidden) { e.stopImmediatePropagation(); e.preventDefault(); showMenu(false); menuBtn.focus(); }
  }, true);

  updateHeader();

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
    // A page view makes no session: only a returning visitor's stored token, or a customer the
    // shop has signed in (whose one conversation is reused), connects before the chat is opened.
    if (storedToken() || (email && signature)) wantSession();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
