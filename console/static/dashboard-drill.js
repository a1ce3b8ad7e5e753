/*! orderbot dashboard: the conversations behind a figure (GET /console/api/analytics/
 * conversations), listed in a dialog, each opening in the console. Loaded before dashboard.js,
 * which hands it its helpers. Data is only ever rendered as text (textContent); never innerHTML. */
window.orderbotDrill = function (API, $, el, query) {
  "use strict";

  function drillButton(what, filter, testid) {
    var button = el("button", { type: "button", "class": "drill", "data-testid": testid, "aria-label": "Conversations: " + what }, "Conversations \u2192");
    button.addEventListener("click", function () { drill(what, filter); });
    return button;
  }
  function drill(what, filter) {
    var dialog = $("drill"), list = $("drill-list");
    $("drill-title").textContent = what;
    $("drill-status").textContent = "Loading\u2026";
    list.replaceChildren();
    if (!dialog.open) dialog.showModal();
    return fetch(API + "/analytics/conversations?" + query(filter), { credentials: "same-origin" }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.detail || ("HTTP " + r.status));
        var shown = body.conversations.length;
        $("drill-status").textContent = body.total === shown ? shown + " conversations, newest first."
          : "The newest " + shown + " of " + body.total + " conversations.";
        body.conversations.forEach(function (c) {
          var item = el("li", { "data-testid": "drill-item" });
          var link = el("a", { href: c.console, "data-testid": "drill-link" }, "#" + c.id);
          var when = new Date(c.at);
          var meta = [c.channel, c.language, isNaN(when.getTime()) ? c.at : when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })];
          item.append(link, el("span", { "class": "meta" }, " \u00b7 " + meta.join(" \u00b7 ")),
                      el("div", { "class": "said" }, c.customer_said ? "\u201c" + c.customer_said + "\u201d" : ""));
          list.append(item);
        });
      });
    }).catch(function (error) {
      $("drill-status").textContent = "Could not load the conversations: " + error.message;
    });
  }

  return { button: drillButton, open: drill };
};
