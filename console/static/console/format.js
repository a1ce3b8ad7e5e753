/* Times, durations and money as the operator's browser writes them. */
import { t } from "./labels.js";

export function parseAt(at) {
  if (at == null || at === "") return null;
  if (typeof at === "number") return new Date(at < 1e12 ? at * 1000 : at);
  let s = String(at);
  if (/T\d\d:\d\d/.test(s) && !/(Z|[+-]\d\d:?\d\d)$/i.test(s)) s += "Z"; // the server speaks UTC
  const d = new Date(s);
  return isNaN(d.getTime()) ? null : d;
}

function sameDay(a, b) { return a.toDateString() === b.toDateString(); }

export function fmtTime(at) {
  const d = parseAt(at);
  if (!d) return "";
  const opts = sameDay(d, new Date()) ? { hour: "2-digit", minute: "2-digit" }
    : { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
  try { return d.toLocaleString(undefined, opts); } catch (e) { return d.toISOString(); }
}

export function fmtDateTime(at) {
  const d = parseAt(at);
  if (!d) return String(at == null ? "" : at);
  try { return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }); } catch (e) { return d.toISOString(); }
}

export function fmtDuration(seconds) {
  seconds = Math.max(0, Math.floor(seconds));
  const h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
  const two = (n) => (n < 10 ? "0" : "") + n;
  return h ? h + ":" + two(m) + ":" + two(s) : m + ":" + two(s);
}

// How long a task has been open: "just now", "5 min", "3 h", "2 d".
export function fmtAge(seconds) {
  seconds = Math.max(0, Math.floor(seconds));
  if (seconds < 60) return t("age.just_now");
  if (seconds < 3600) return t("age.minutes", { n: Math.floor(seconds / 60) });
  if (seconds < 172800) return t("age.hours", { n: Math.floor(seconds / 3600) });
  return t("age.days", { n: Math.floor(seconds / 86400) });
}

export function fmtMoney(amount, currency) {
  const n = Number(amount);
  if (amount == null || amount === "" || isNaN(n)) return String(amount == null ? "" : amount);
  try { return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "EUR" }).format(n); }
  catch (e) { return n.toFixed(2) + (currency ? " " + currency : ""); }
}

export function safeUrl(url) {
  if (url == null || url === "") return null; // not "/console/null"
  try { const u = new URL(String(url), location.href); return /^https?:$/.test(u.protocol) ? u.href : null; }
  catch (e) { return null; }
}

// "2026-11-25": a calendar day (no time zone), written like every other date on the page.
export function fmtDay(day) {
  const s = String(day == null ? "" : day);
  if (!/^\d{4}-\d\d-\d\d$/.test(s)) return s;
  try { return new Date(s + "T00:00:00Z").toLocaleDateString(undefined, { dateStyle: "medium", timeZone: "UTC" }); }
  catch (e) { return s; }
}

// Text with its http(s) links as <a> nodes (rel=noopener, a new tab); anything else stays text.
export function linkedText(text) {
  const parts = [], re = /\bhttps?:\/\/[^\s<>"']+/gi;
  let at = 0, m;
  while ((m = re.exec(text)) !== null) {
    let url = m[0].replace(/[.,;:!?)\]]+$/, ""); // a sentence's full stop is not the link's
    if (m.index > at) parts.push(text.slice(at, m.index));
    const href = safeUrl(url);
    parts.push(href ? linkNode(href, url) : url);
    at = m.index + url.length;
    re.lastIndex = at;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}

function linkNode(href, label) {
  const a = document.createElement("a");
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  a.textContent = label;
  return a;
}
