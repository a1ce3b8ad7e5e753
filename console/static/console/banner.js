/* The open conversation's banner: what went wrong (an alert) or what was done (a status). */
import { $, show } from "./dom.js";

export function convError(text, kind) {
  const b = $("conversation-error");
  b.textContent = text || "";
  b.className = "banner " + (kind || "error");
  b.setAttribute("role", kind === "info" ? "status" : "alert");
  show(b, !!text);
}
