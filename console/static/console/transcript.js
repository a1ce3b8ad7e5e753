/* The open conversation's transcript: every message once (by id), in the order written. */
import { $, el } from "./dom.js";
import { fmtDateTime, fmtTime, linkedText, parseAt } from "./format.js";
import { t } from "./labels.js";
import { renderMeaning } from "./meaning.js";
import { channelLabel, senderLabel } from "./names.js";
import { state } from "./state.js";

function messageNode(m) {
  const current = state.current;
  const from = m.from === "customer" || m.from === "operator" ? m.from : "bot";
  const text = String(m.text == null ? "" : m.text);
  const meta = [senderLabel(m, current && current.customer), channelLabel(m.channel), fmtTime(m.at)]
    .filter(Boolean).join(" \u00b7 ");
  const offered = Array.isArray(m.buttons) ? m.buttons.filter((b) => b && b.title) : [];
  return el("li", { class: "msg " + from, testid: "message", "data-from": from, "data-id": m.id != null ? String(m.id) : null }, [
    el("div", { class: "meta", testid: "message-meta", text: meta, title: fmtDateTime(m.at) }),
    text.trim() || from !== "customer"
      ? el("div", { class: "text", testid: "message-text" }, linkedText(text))
      : el("div", { class: "text pressed", testid: "message-text",
        text: t(hasFiles(m) ? "message.sent_file" : "message.pressed_button") }),
    hasFiles(m) ? filesNode(m.attachments) : null,
    offered.length ? el("div", { class: "offered", "aria-label": t("message.buttons_offered") },
      offered.map((b) => el("span", { class: "chip", text: String(b.title) }))) : null,
    from === "customer" && text.trim() && m.id != null ? el("div", { class: "meaning", testid: "meaning" }) : null
  ]);
}

function hasFiles(m) { return Array.isArray(m.attachments) && m.attachments.length > 0; }

// A customer's photo as a thumbnail (re-encoded on arrival, safe to show), any other file as
// a link; both served to a logged-in operator only (GET /console/api/attachments/{id}).
function filesNode(attachments) {
  return el("div", { class: "files", testid: "message-files" }, attachments.filter((a) => a && a.id).map((a) => {
    const url = "/console/api/attachments/" + encodeURIComponent(a.id), name = String(a.name || "");
    if (a.image) {
      return el("a", { class: "file-thumb", href: url, target: "_blank", rel: "noopener", testid: "message-photo",
        title: t("message.attachment_photo", { name: name }) }, [
        el("img", { src: url, alt: t("message.attachment_photo", { name: name }), loading: "lazy" })]);
    }
    return el("a", { class: "file-link", href: url, download: name, testid: "message-file",
      text: t("message.attachment_file", { name: name }) });
  }));
}

// Messages come from the transcript, the socket and our own sends, in any order and more than
// once: each shows once (by id), in the order they were written.
export function addMessage(m) {
  const current = state.current, transcript = $("transcript");
  if (!m || typeof m !== "object" || !current) return;
  const key = m.id != null ? String(m.id) : null;
  if (key && current.messages[key]) return;
  if (key) current.messages[key] = true;
  if (m.conversation_id != null) current.conversationIds[m.conversation_id] = true;
  const stick = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
  const node = messageNode(m), at = parseAt(m.at), time = at ? at.getTime() : Infinity;
  node.setAttribute("data-t", String(time));
  let next = null;
  const nodes = transcript.children;
  for (let i = nodes.length - 1; i >= 0; i--) {
    const other = nodes[i], otherTime = Number(other.getAttribute("data-t"));
    const later = otherTime > time || (otherTime === time && key && Number(other.getAttribute("data-id")) > Number(key));
    if (!later) break;
    next = other;
  }
  transcript.insertBefore(node, next);
  if (key) renderMeaning(key);
  if (stick || m.from === "operator") transcript.scrollTop = transcript.scrollHeight;
}
