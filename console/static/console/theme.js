/* Light or dark: the system's choice (prefers-color-scheme) until the operator picks one with
 * the toggle, which this browser remembers. The page reads data-theme on <html>. */
const KEY = "orderbot.console.theme";
const system = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

function stored() {
  try { const v = localStorage.getItem(KEY); return v === "dark" || v === "light" ? v : null; }
  catch (e) { return null; } // storage refused (private mode): follow the system
}

function apply(toggle) {
  const dark = (stored() || (system && system.matches ? "dark" : "light")) === "dark";
  document.documentElement.setAttribute("data-theme", dark ? "dark" : "light");
  if (toggle) toggle.setAttribute("aria-pressed", dark ? "true" : "false");
}

export function initTheme(toggle) {
  apply(toggle);
  if (system && system.addEventListener) system.addEventListener("change", () => apply(toggle));
  if (!toggle) return;
  toggle.addEventListener("click", () => {
    const dark = document.documentElement.getAttribute("data-theme") !== "dark";
    try { localStorage.setItem(KEY, dark ? "dark" : "light"); } catch (e) { /* this page only */ }
    document.documentElement.setAttribute("data-theme", dark ? "dark" : "light");
    toggle.setAttribute("aria-pressed", dark ? "true" : "false");
  });
}
