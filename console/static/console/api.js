/* The console API over fetch (docs/console.md). The session is an HttpOnly, SameSite=Strict
 * cookie and writes are checked by their Origin, so there is no token to carry here. */
import { t } from "./labels.js";

export const API = "/console/api";
let sessionLost = () => {};

// Called when the server answers 401 to a logged-in page: the session ended elsewhere.
export function onSessionLost(handler) { sessionLost = handler; }

// Every call resolves (never rejects) to {ok, status, data, headers}.
export function api(method, path, body) {
  const opts = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  return fetch(API + path, opts).then((r) => r.text().then((text) => {
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (r.status === 401 && path !== "/login" && path !== "/me") sessionLost();
    return { ok: r.ok, status: r.status, data: data && typeof data === "object" ? data : {}, headers: r.headers };
  }), () => ({ ok: false, status: 0, data: { detail: t("error.unreachable") }, headers: new Headers() }));
}

// The server's reason for a refusal, as a person can read it.
export function reason(res, fallback) {
  const d = res.data && res.data.detail;
  if (typeof d === "string" && d) return d;
  if (Array.isArray(d) && d.length) { // FastAPI's validation errors
    return d.map((x) => (x && x.msg ? String(x.msg) : String(x))).join("; ");
  }
  return fallback || (res.status ? t("error.status", { status: res.status }) : t("error.unreachable"));
}
