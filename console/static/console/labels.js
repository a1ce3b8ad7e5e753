/* The console's words in the operator's language (docs/console.md, "Language").
 * The tables are console/static/locales/<language>.json, one flat object of label -> text; a
 * text may name values in braces ("Order {number}"), which t() fills in. */

const LANGUAGES = ["en", "pl", "ru"];
let language = "en";
let table = {};

// The first of the browser's languages that the console speaks, else English. The console has
// no per-operator language setting: the browser's is the operator's choice.
function chooseLanguage() {
  const wanted = [navigator.language].concat(navigator.languages || []);
  for (const tag of wanted) {
    const primary = String(tag || "").toLowerCase().split("-")[0];
    if (LANGUAGES.includes(primary)) return primary;
  }
  return "en";
}

async function fetchTable(lang) {
  const url = new URL("../locales/" + lang + ".json", import.meta.url);
  const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error("no labels for " + lang);
  return res.json();
}

export async function loadLabels() {
  language = chooseLanguage();
  try {
    table = await fetchTable(language);
  } catch (e) {
    // A missing table must not leave the console blank: English, or at worst the keys.
    language = "en";
    try { table = await fetchTable("en"); } catch (e2) { table = {}; }
  }
  document.documentElement.lang = language;
}

export function has(key) { return Object.prototype.hasOwnProperty.call(table, key); }

export function t(key, values) {
  const text = has(key) ? String(table[key]) : key;
  if (!values) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// The page's fixed frame names its words with data-label (the text) and data-label-placeholder,
// data-label-title, data-label-aria (attributes).
const ATTRIBUTES = [["labelPlaceholder", "placeholder"], ["labelTitle", "title"], ["labelAria", "aria-label"]];

export function translatePage(root = document) {
  root.querySelectorAll("[data-label]").forEach((node) => { node.textContent = t(node.dataset.label); });
  for (const [data, attribute] of ATTRIBUTES) {
    const selector = "[data-" + data.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase()) + "]";
    root.querySelectorAll(selector).forEach((node) => { node.setAttribute(attribute, t(node.dataset[data])); });
  }
}
