/*! orderbot webhook deliveries (served at /console/deliveries, admins only). Rows come from
 * GET /console/api/webhooks; "Send again" is POST /console/api/webhooks/{id}/resend
 * (docs/webhooks.md). Security rule for this file: data is only ever rendered as text
 * (textContent); never innerHTML. */
(function () {
  "use strict";

  var API = "/console/api";

  function $(id) { return document.querySelector('[data-testid="' + id + '"]'); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : "–"; }
  function notice(text) { $("notice").textContent = text; $("notice").hidden = false; }
  function say(text) { $("status").textContent = text; }

  function query() {
    var form = $("filters"), params = new URLSearchParams();
    ["status", "type", "order"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) params.set(name, value);
    });
    return params.toString();
  }

  function row(delivery) {
    var tr = el("tr", { "data-testid": "delivery", "data-id": delivery.id });
    tr.append(el("td", {}, when(delivery.created_at)));
    tr.append(el("td", { "data-testid": "type" }, delivery.type));
    tr.append(el("td", { "data-testid": "order" }, delivery.order || delivery.ordering_key));
    var state = el("td");
    state.append(el("span", { "class": "badge " + delivery.status, "data-testid": "state" },
                    delivery.status));
    tr.append(state);
    tr.append(el("td", { "class": "number", "data-testid": "attempts" }, delivery.attempts));
    tr.append(el("td", { "class": "number" }, delivery.last_status_code === null ? "–" : delivery.last_status_code));
    tr.append(el("td", { "class": "error-text", "data-testid": "error" }, delivery.last_error || ""));
    tr.append(el("td", {}, when(delivery.delivered_at)));
    var payload = el("td"), details = el("details"), summary = el("summary", {}, delivery.webhook_id);
    details.append(summary, el("pre", { "data-testid": "payload" }, JSON.stringify(delivery.payload, null, 2)));
    payload.append(details);
    tr.append(payload);
    var action = el("td"), button = el("button", { "class": "button", "type": "button", "data-testid": "resend" },
                                       "Send again");
    button.addEventListener("click", function () { resend(delivery.id, button); });
    action.append(button);
    tr.append(action);
    return tr;
  }

  function show(deliveries) {
    var body = $("rows");
    body.replaceChildren.apply(body, deliveries.map(row));
    $("empty").hidden = deliveries.length > 0;
  }

  function answer(r) {
    return r.json().catch(function () { return {}; }).then(function (body) {
      if (!r.ok) throw new Error(body.detail || ("HTTP " + r.status));
      return body;
    });
  }

  function load() {
    say("Loading…");
    return fetch(API + "/webhooks?" + query(), { credentials: "same-origin" })
      .then(answer)
      .then(function (body) { show(body.deliveries); say(body.deliveries.length + " shown"); })
      .catch(function (error) { say("Could not load: " + error.message); });
  }

  function resend(id, button) {
    button.disabled = true;
    fetch(API + "/webhooks/" + encodeURIComponent(id) + "/resend",
          { method: "POST", credentials: "same-origin" })
      .then(answer)
      .then(function () { say("Queued again"); return load(); })
      .catch(function (error) { button.disabled = false; say("Not queued: " + error.message); });
  }

  function start() {
    fetch(API + "/me", { credentials: "same-origin" }).then(function (r) {
      if (r.status === 401) return notice("Log in to the console first.");
      return r.json().then(function (body) {
        if (body.operator.role !== "admin") return notice("Only an admin may see the webhook deliveries.");
        $("me").textContent = body.operator.display_name;
        $("deliveries").hidden = false;
        $("filters").addEventListener("submit", function (event) { event.preventDefault(); load(); });
        // A pending delivery moves on by itself: look again now and then.
        setInterval(function () { if (!document.hidden) load(); }, 5000);
        return load();
      });
    }).catch(function () { notice("The console could not be reached."); });
  }

  start();
}());
