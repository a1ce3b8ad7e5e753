/* Finding conversations beyond the live queue: one search box (customers' names and emails,
 * order numbers, words said) and the filters (mine / unassigned / all open / closed / all,
 * channel, language, tag). Both show their results in one list in place of the queue, a page
 * at a time. The filters and the search live in the page's URL (?view=closed&channel=email
 * &language=pl&tag=vip&q=...; docs/console.md), so a link - the dashboard's drill-down - opens
 * the same view. */
import { api, reason } from "./api.js";
import { $, show } from "./dom.js";
import { t } from "./labels.js";
import { entry, queueItem } from "./queue.js";

const PAGE = 25;
const FIELDS = { view: "filter-view", channel: "filter-channel", language: "filter-language", tag: "filter-tag" };
let shown = [];        // the results so far (conversations)
let asked = null;      // {kind: "search"|"filter", query}: what the list shows
let generation = 0;    // drops answers to questions no longer asked
let refreshTimer = null;
let open = () => {};

function chosen() {
  const f = {};
  for (const name in FIELDS) {
    const value = $(FIELDS[name]).value.trim();
    if (value && !(name === "view" && value === "open")) f[name] = value;
  }
  return f;
}

function active() { return asked !== null; }

// The URL says what is shown; the conversation's #hash stays as it is.
function writeUrl() {
  const params = new URLSearchParams();
  if (asked && asked.kind === "search") params.set("q", asked.query.q);
  const f = chosen();
  for (const name in f) params.set(name, f[name]);
  const query = params.toString();
  try { history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + location.hash); } catch (e) { /* sandbox */ }
}

function readUrl() {
  const params = new URLSearchParams(location.search);
  for (const name in FIELDS) {
    const value = params.get(name);
    const field = $(FIELDS[name]);
    if (value == null) continue;
    if (field.tagName === "SELECT" && !Array.from(field.options).some((o) => o.value === value)) continue;
    field.value = value;
  }
  $("search-input").value = params.get("q") || "";
}

function setLiveQueue(on) {
  show($("queue-waiting-section"), on);
  show($("queue-claimed-section"), on);
  show($("results"), !on);
}

function render(more) {
  const list = $("results-list");
  list.textContent = "";
  shown.forEach((found) => {
    const li = document.createElement("li");
    li.appendChild(queueItem(entry(found.conversation), open));
    if (found.snippet && found.snippet.text) {
      const said = document.createElement("p");
      said.className = "snippet";
      said.setAttribute("data-testid", "result-snippet");
      said.textContent = found.snippet.text;
      li.appendChild(said);
    }
    list.appendChild(li);
  });
  show($("results-empty"), !shown.length);
  show($("results-more"), !!more);
}

function fetchPage(offset) {
  const mine = ++generation;
  const params = new URLSearchParams(asked.query);
  params.set("offset", String(offset));
  params.set("limit", String(PAGE));
  const path = (asked.kind === "search" ? "/search?" : "/conversations?") + params.toString();
  $("results-more").disabled = true;
  return api("GET", path).then((res) => {
    if (mine !== generation) return;
    $("results-more").disabled = false;
    const error = $("results-error");
    if (!res.ok) {
      error.textContent = reason(res);
      show(error, true);
      if (!offset) shown = [];
      render(false);
      return;
    }
    show(error, false);
    const page = asked.kind === "search"
      ? (res.data.results || [])
      : (res.data.conversations || []).map((c) => ({ conversation: c }));
    shown = offset ? shown.concat(page) : page;
    render(res.data.more);
  });
}

function ask() {
  const q = $("search-input").value.trim(), f = chosen();
  if (q) {
    asked = { kind: "search", query: { q: q } };
    $("results-title").textContent = t("results.search", { q: q });
  } else if (Object.keys(f).length) {
    asked = { kind: "filter", query: Object.assign({ view: "open" }, f) };
    $("results-title").textContent = t("results.filtered");
  } else {
    asked = null;
  }
  writeUrl();
  setLiveQueue(!active());
  shown = [];
  if (active()) fetchPage(0);
}

// A live change to some conversation: a filtered list is asked again (a tag added, a claim);
// search results stay as they were found.
export function finderChanged() {
  if (!asked || asked.kind !== "filter" || refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    if (asked && asked.kind === "filter") fetchPage(0);
  }, 300);
}

export function clearFinder() {
  generation++;
  asked = null; shown = [];
  setLiveQueue(true);
}

// openConversation(id): what a click on a result does.
export function initFinder(openConversation) {
  open = openConversation;
  $("search-form").addEventListener("submit", (e) => { e.preventDefault(); ask(); });
  $("search-input").addEventListener("search", () => { if (!$("search-input").value) ask(); });
  for (const name in FIELDS) $(FIELDS[name]).addEventListener("change", ask);
  $("results-more").addEventListener("click", () => { if (asked) fetchPage(shown.length); });
  $("results-clear").addEventListener("click", () => {
    $("search-input").value = "";
    for (const name in FIELDS) $(FIELDS[name]).value = name === "view" ? "open" : "";
    ask();
  });
}

// After login: the view the URL names.
export function startFinder() {
  readUrl();
  ask();
}
