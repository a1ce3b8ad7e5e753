/* "Customer is typing" under the open conversation's transcript, from the live socket's
 * {"type": "typing"} events (the web chat sends them while the customer types). It goes when
 * their message arrives, or when no new event came for a few seconds. */
import { $, show } from "./dom.js";
import { t } from "./labels.js";
import { customerName } from "./names.js";
import { state } from "./state.js";

const SHOWN_FOR_MS = 6000;
let timer = null;

function hide() {
  clearTimeout(timer); timer = null;
  show($("customer-typing"), false);
}

export function customerTyping(conversationId) {
  const current = state.current;
  if (!current || !(conversationId === current.id || current.conversationIds[conversationId])) return;
  const line = $("customer-typing");
  line.textContent = t("typing.customer", { name: customerName(current.customer) });
  show(line, true);
  clearTimeout(timer);
  timer = setTimeout(hide, SHOWN_FOR_MS);
}

export function typingMessage(message) { if (message && message.from === "customer") hide(); }

export function typingOpened() { hide(); }
