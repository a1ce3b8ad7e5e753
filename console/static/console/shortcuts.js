/* Keyboard shortcuts: j / k the next / previous conversation in the queue, r the reply box,
 * n the note box, ? the list of them. Never while the operator types in a field, nor with
 * Ctrl, Alt or Meta (the browser's own), nor under an open dialog. */
import { $ } from "./dom.js";

function typing(target) {
  if (!target || !(target instanceof Element)) return false;
  return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
}

// The queue's items as shown, top to bottom; the open one's place among them.
function step(by) {
  const items = Array.from(document.querySelectorAll('[data-testid="queue-item"]'));
  if (!items.length) return;
  const at = items.findIndex((b) => b.getAttribute("aria-current") === "true");
  const next = at < 0 ? (by > 0 ? 0 : items.length - 1) : Math.min(items.length - 1, Math.max(0, at + by));
  if (next === at) return;
  items[next].click();
  items[next].scrollIntoView({ block: "nearest" });
  const again = document.querySelector('[data-testid="queue-item"][aria-current="true"]');
  if (again) again.focus();
}

function focusField(id) {
  const field = $(id);
  if (field && !field.disabled && field.offsetParent !== null) field.focus();
}

export function initShortcuts() {
  const help = $("shortcuts");
  $("shortcuts-open").addEventListener("click", () => help.showModal());
  $("shortcuts-close").addEventListener("click", () => help.close());
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.altKey || e.metaKey || e.isComposing) return;
    if (typing(e.target) || document.querySelector("dialog[open]")) return;
    if ($("app").hidden) return; // logged out
    const actions = {
      j: () => step(1), k: () => step(-1),
      r: () => focusField("reply-input"), n: () => focusField("note-input"),
      "?": () => help.showModal()
    };
    const run = actions[e.key];
    if (!run) return;
    e.preventDefault(); // "r" must not also type an r into the box it focuses
    run();
  });
}
