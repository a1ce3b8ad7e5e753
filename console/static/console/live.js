/* WS /console/ws: the live queue, messages and tasks (docs/console.md, "Live"), reconnecting
 * with backoff. What arrives is handed to main.js; this module only keeps the socket. */
import { $ } from "./dom.js";
import { t } from "./labels.js";
import { state } from "./state.js";

const WS_URL = (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + "/console/ws";
let ws = null, attempt = 0, timer = null;
let handlers = { event() {}, sessionEnded() {} };

function setConnection(online) {
  const c = $("connection");
  c.textContent = online ? t("live.online") : t("live.connecting");
  c.className = "connection" + (online ? " online" : "");
}

function connect() {
  if (!state.me || (ws && ws.readyState <= 1)) return;
  let sock;
  try { sock = new WebSocket(WS_URL); } catch (e) { reconnectLater(); return; }
  ws = sock;
  sock.onmessage = (ev) => {
    if (ws !== sock) return;
    let data;
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    if (!data || typeof data !== "object") return;
    if (data.type === "queue") { attempt = 0; setConnection(true); } // a snapshot: we are live
    handlers.event(data);
  };
  sock.onclose = (ev) => {
    if (ws !== sock) return;
    ws = null;
    setConnection(false);
    if (ev.code === 4401) handlers.sessionEnded();
    else if (ev.code === 4403) $("connection").textContent = t("live.refused");
    else reconnectLater();
  };
  sock.onerror = () => { /* onclose follows */ };
}

function reconnectLater() {
  if (!state.me || timer) return;
  const delay = Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.75 + Math.random() * 0.5);
  attempt++;
  timer = setTimeout(() => { timer = null; connect(); }, delay);
}

// handlers: {event(data), sessionEnded()}
export function initLive(given) {
  handlers = given;
  window.addEventListener("online", () => {
    if (timer) { clearTimeout(timer); timer = null; connect(); }
  });
}

export function startLive() {
  setConnection(false);
  connect();
}

export function stopLive() {
  clearTimeout(timer); timer = null;
  if (ws) { const s = ws; ws = null; try { s.close(1000); } catch (e) { /* closed */ } }
  attempt = 0;
}
