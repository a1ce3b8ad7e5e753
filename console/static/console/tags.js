/* The open conversation's tags: free words operators sort conversations by ("vip",
 * "damaged-item"). The server normalises them (lower case, "-" for spaces, at most 32
 * characters and 10 a conversation) and says why when it refuses one. */
import { api, reason } from "./api.js";
import { $, el, show } from "./dom.js";
import { t } from "./labels.js";
import { state } from "./state.js";

let changed = () => {}; // a conversation as the server now has it (queue, header)

function error(text) {
  const p = $("tools-error");
  p.textContent = text || "";
  show(p, !!text);
}

export function renderTags() {
  const list = $("tag-list"), current = state.current;
  list.textContent = "";
  const tags = (current && current.conversation && current.conversation.tags) || [];
  tags.forEach((tag) => {
    const remove = el("button", { type: "button", class: "remove", testid: "tag-remove",
      "aria-label": t("tags.remove", { tag: tag }), title: t("tags.remove", { tag: tag }), text: "\u00d7" });
    remove.addEventListener("click", () => { send("DELETE", "/tags/" + encodeURIComponent(tag)); });
    list.appendChild(el("li", { class: "chip", testid: "tag", "data-tag": tag }, [
      el("span", { text: "#" + tag }), remove
    ]));
  });
}

function send(method, path, body) {
  const conv = state.current;
  if (!conv) return Promise.resolve(false);
  $("tag-add").disabled = true;
  return api(method, "/conversations/" + conv.id + path, body).then((res) => {
    $("tag-add").disabled = false;
    if (state.current !== conv) return false;
    if (!res.ok || !res.data.conversation) { error(reason(res, t("error.did_not_work"))); return false; }
    error(null);
    changed(res.data.conversation);
    return true;
  });
}

// onConversation(c): a conversation the server sent back (to update the queue and header).
export function initTags(onConversation) {
  changed = onConversation;
  $("tag-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("tag-input"), tag = input.value.trim();
    if (!tag) return;
    send("POST", "/tags", { tag: tag }).then((ok) => { if (ok) input.value = ""; });
  });
}

export function tagsOpened() { error(null); $("tag-input").value = ""; }
