/* Building the page from data, as text only: customer, operator and server text is only ever
 * rendered with textContent / createTextNode, never innerHTML. */

export function $(id, root) { return (root || document).querySelector('[data-testid="' + id + '"]'); }

export function el(tag, attrs, kids) {
  const n = document.createElement(tag);
  for (const k in attrs || {}) {
    if (attrs[k] == null || attrs[k] === false) continue;
    if (k === "text") n.textContent = attrs[k];
    else if (k === "class") n.className = attrs[k];
    else if (k === "testid") n.setAttribute("data-testid", attrs[k]);
    else n.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
  }
  (kids || []).forEach((c) => {
    if (c == null || c === false) return;
    n.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  });
  return n;
}

export function show(node, on) { node.hidden = !on; }

// A key the page has no words for yet ("courier_pickup"), readable all the same.
export function humanise(key) {
  const s = String(key == null ? "" : key).replace(/[_:]+/g, " ").trim();
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : "";
}

export function shorten(text, max) {
  text = String(text == null ? "" : text).replace(/\s+/g, " ").trim();
  return text.length > max ? text.slice(0, max - 1) + "\u2026" : text;
}

// A line of result text in a dialog ("result ok" / "result error"); no text hides it.
export function showResult(p, text, kind) {
  p.textContent = text || "";
  p.className = "result " + (kind || "");
  show(p, !!text);
}
