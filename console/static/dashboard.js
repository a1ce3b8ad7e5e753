/*! orderbot dashboard (served at /console/dashboard, admins only). The figures come from
 * GET /console/api/analytics (docs/console.md, Analytics); charts are Chart.js (vendored).
 * Security rule for this file: data is only ever rendered as text (textContent); never innerHTML. */
(function () {
  "use strict";

  var API = "/console/api";
  var REASONS = {
    customer_asked: "Asked for a person", not_understood: "Bot did not understand",
    verification_failed: "Could not verify", out_of_stock: "Out of stock",
    credit_check_refused: "Credit check refused", refund_failed: "Refund failed",
    return_exception: "Return exception", payment_overdue: "Payment overdue",
    confirmation_unanswered: "Confirmation not answered", delivery_failed: "Not delivered",
    operator_joined: "Operator joined"
  };
  var INTENTS = {
    greet: "Greeting", goodbye: "Goodbye", thanks: "Thanks", affirm: "Yes, agrees",
    deny: "No, disagrees", order_status: "Where is my order", cancel_order: "Cancel an order",
    change_delivery: "Change the delivery", return_order: "Return or refund",
    human: "Talk to a person", product_availability: "Is a product available",
    payment: "Payment or invoice", out_of_scope: "Something the shop does not do"
  };
  var charts = {};
  var last = null;
  var asked = 0;  // the newest request: an older answer arriving late is dropped

  function $(id) { return document.querySelector('[data-testid="' + id + '"]'); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  function percent(value) { return value === null ? "–" : (value * 100).toFixed(1) + " %"; }
  function number(value, digits) { return value === null ? "–" : Number(value).toFixed(digits); }
  function duration(seconds) {
    if (seconds === null) return "–";
    var minutes = Math.floor(seconds / 60), hours = Math.floor(minutes / 60);
    return hours ? hours + " h " + (minutes % 60) + " min" : minutes + " min " + (seconds % 60) + " s";
  }
  function overdue(figure) {
    var parts = Object.keys(figure.amount_minor).map(function (c) {
      return (figure.amount_minor[c] / 100).toFixed(2) + " " + c;
    });
    return figure.orders + (parts.length ? " · " + parts.join(", ") : "");
  }
  function isoDay(date) { return date.toISOString().slice(0, 10); }

  // ---- filters ----
  function query(extra) {
    var form = $("filters"), params = new URLSearchParams();
    ["start", "end", "channel", "language", "group"].forEach(function (name) {
      var value = form.elements[name].value;
      if (value) params.set(name, value);
    });
    Object.keys(extra || {}).forEach(function (name) { params.set(name, extra[name]); });
    return params.toString();
  }
  function mondayOfLastFullWeek() {
    var end = new Date($("filter-end").value + "T00:00:00Z");
    var day = (end.getUTCDay() + 6) % 7;  // 0 = Monday
    if (day !== 6) end = new Date(end.getTime() - (day + 1) * 86400000);  // last Sunday
    return isoDay(new Date(end.getTime() - 6 * 86400000));
  }
  function updateLinks() {
    $("export-transcripts").href = API + "/analytics/transcripts.csv?" + query();
    $("export-summary").href = API + "/analytics/summary.csv?" + query();
    var params = new URLSearchParams({ week: mondayOfLastFullWeek() });
    ["channel", "language"].forEach(function (name) {
      var value = $("filters").elements[name].value;
      if (value) params.set(name, value);
    });
    $("report").href = API + "/analytics/report.pdf?" + params.toString();
    document.querySelectorAll("[data-csv]").forEach(function (link) {
      link.href = API + "/analytics/" + link.getAttribute("data-csv") + ".csv?" + query();
    });
  }

  // ---- key figures ----
  // item: [key, label, shown, before, drill]: before is {shown, now, then} of the period just
  // before (numbers to compare, higher is not always better), drill the conversations' filter.
  function kpis(id, items) {
    var box = $(id);
    box.replaceChildren();
    items.forEach(function (item) {
      var card = el("div", { "class": "kpi", "data-testid": "kpi-" + item[0] });
      var value = el("div", { "class": "value", "data-testid": "kpi-" + item[0] + "-value" }, item[2]);
      card.append(value, el("div", { "class": "label" }, item[1]));
      if (item[3]) card.append(compared(item[0], item[3]));
      if (item[4]) card.append(drillButton(item[1], item[4], "kpi-" + item[0] + "-drill"));
      box.append(card);
    });
  }
  function compared(key, before) {
    var line = el("div", { "class": "compare", "data-testid": "kpi-" + key + "-previous" });
    var change = typeof before.now === "number" && typeof before.then === "number" ? before.now - before.then : null;
    var arrow = change === null || change === 0 ? "" : change > 0 ? "\u25B2 " : "\u25BC ";
    line.textContent = arrow + "previous period: " + before.shown;
    line.title = "The same figure for the " + (last ? last.previous.range.start + " to " + last.previous.range.end : "period before");
    return line;
  }
  function before(now, then, format) {
    if (then === undefined) return null;
    return { shown: format ? format(then) : (then === null ? "\u2013" : String(then)), now: now, then: then };
  }
  function dig(object, path) {
    return path.split(".").reduce(function (o, k) { return o && typeof o === "object" ? o[k] : undefined; }, object);
  }
  function renderKpis(f) {
    var c = f.conversations, o = f.confirmation, s = f.self_service, p = f.operators;
    var was = function (path, format) { return before(dig(f, path), dig(f.previous, path), format); };
    kpis("kpis-conversations", [
      ["conversations", "Conversations", c.conversations, was("conversations.conversations"), {}],
      ["customer-messages", "Customer messages", c.customer_messages, was("conversations.customer_messages")],
      ["automation-rate", "Automation rate (no operator)", percent(c.automation_rate), was("conversations.automation_rate", percent)],
      ["escalation-rate", "Escalation rate", percent(c.escalation_rate), was("conversations.escalation_rate", percent), { escalated: "true" }],
      ["misunderstanding-rate", "Fallbacks per conversation", number(c.misunderstanding_rate, 2),
        was("conversations.misunderstanding_rate", function (v) { return number(v, 2); })]
    ]);
    kpis("kpis-confirmation", [
      ["confirmation-sent", "Sent for confirmation", o.sent, was("confirmation.sent")],
      ["confirmed", "Confirmed", o.confirmed, was("confirmation.confirmed")],
      ["declined", "Declined", o.declined, was("confirmation.declined")],
      ["unanswered", "Unanswered", o.unanswered, was("confirmation.unanswered")],
      ["time-to-confirm", "Median time to confirm", duration(o.median_seconds_to_confirm), was("confirmation.median_seconds_to_confirm", duration)],
      ["alternatives", "Alternatives accepted", o.alternatives_accepted, was("confirmation.alternatives_accepted")],
      ["cross-sell", "Cross-sell accepted", o.cross_sell_accepted, was("confirmation.cross_sell_accepted")],
      ["vouchers", "Vouchers used", o.vouchers_used, was("confirmation.vouchers_used")]
    ]);
    kpis("kpis-self-service", [
      ["status-answered", "Status questions answered", s.status_answered, was("self_service.status_answered")],
      ["cancellations", "Cancellations", s.cancellations, was("self_service.cancellations")],
      ["delivery-changes", "Delivery changes", s.delivery_changes, was("self_service.delivery_changes")],
      ["returns", "Returns opened", s.returns_opened, was("self_service.returns_opened")],
      ["back-in-stock", "Back-in-stock notices (ordered after)", s.back_in_stock_sent + " (" + s.back_in_stock_converted + ")", was("self_service.back_in_stock_sent")],
      ["reminders", "Payment reminders (orders)", s.payment_reminders_sent + " (" + s.orders_reminded + ")", was("self_service.payment_reminders_sent")],
      ["paid-after-reminder", "Paid after a reminder", s.paid_after_reminder, was("self_service.paid_after_reminder")],
      ["overdue-start", "Orders overdue at the start", overdue(s.overdue_at_start)],
      ["overdue-end", "Orders overdue at the end", overdue(s.overdue_at_end)]
    ]);
    kpis("kpis-operators", [
      ["handoffs", "Handoffs", p.handoffs, was("operators.handoffs"), { escalated: "true" }],
      ["queue-peak", "Peak queue", p.queue_peak, was("operators.queue_peak")],
      ["first-reply", "Median time to first reply", duration(p.median_seconds_to_first_reply), was("operators.median_seconds_to_first_reply", duration)],
      ["handling", "Median handling time", duration(p.median_handling_seconds), was("operators.median_handling_seconds", duration)],
      ["satisfaction", "Satisfaction (ratings)", number(p.satisfaction.average, 2) + " (" + p.satisfaction.ratings + ")",
        was("operators.satisfaction.average", function (v) { return number(v, 2); })],
      ["rating-response", "Rated when asked", percent(p.satisfaction.response_rate), was("operators.satisfaction.response_rate", percent)]
    ]);
  }

  // ---- drill-down: the conversations behind a figure (dashboard-drill.js) ----
  var drills = window.orderbotDrill(API, $, el, query);
  function drillButton(what, filter, testid) { return drills.button(what, filter, testid); }
  function drill(what, filter) { return drills.open(what, filter); }
  function drillReason(r) { drill("Handed over: " + (REASONS[r.reason] || r.reason), { reason: r.reason }); }

  // ---- charts ----
  function palette() {
    return { ink: css("--ink"), muted: css("--muted"), grid: css("--grid"),
             series: [1, 2, 3, 4, 5].map(function (n) { return css("--series-" + n); }) };
  }
  function chart(id, type, labels, datasets, stacked) {
    var colours = palette();
    datasets.forEach(function (set, index) {
      var colour = colours.series[index % colours.series.length];
      set.borderColor = set.borderColor || colour;
      set.backgroundColor = set.backgroundColor || colour;
    });
    var canvas = $(id);
    var summary = datasets.map(function (set) {
      return set.label + ": " + labels.map(function (label, i) { return label + " " + set.data[i]; }).join(", ");
    }).join("; ");
    canvas.setAttribute("aria-label", summary);
    canvas.setAttribute("data-values", JSON.stringify(datasets.map(function (set) { return set.data; })));
    var axis = { ticks: { color: colours.muted, maxTicksLimit: 16 }, grid: { color: colours.grid },
                 stacked: !!stacked };
    var options = {
      responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { labels: { color: colours.ink } } },
      scales: type === "doughnut" ? {} : { x: axis, y: Object.assign({ beginAtZero: true }, axis) }
    };
    if (charts[id]) charts[id].destroy();
    charts[id] = new window.Chart(canvas, { type: type, data: { labels: labels, datasets: datasets }, options: options });
  }
  function renderCharts(f) {
    var days = f.conversations.series.map(function (r) { return r.period; });
    chart("chart-conversations", "bar", days, [
      { label: "Conversations", data: f.conversations.series.map(function (r) { return r.conversations; }) },
      { label: "Handoffs", data: f.conversations.series.map(function (r) { return r.handoffs; }) },
      { label: "Fallbacks", data: f.conversations.series.map(function (r) { return r.fallbacks; }) }
    ]);
    var reasons = f.conversations.escalation_reasons;
    chart("chart-reasons", "bar", reasons.map(function (r) { return REASONS[r.reason] || r.reason; }),
          [{ label: "Handoffs", data: reasons.map(function (r) { return r.count; }) }]);
    // a bar, or its button below the chart (keyboard, screen readers), lists its conversations
    charts["chart-reasons"].options.onClick = function (event, bars) {
      if (bars.length) drillReason(reasons[bars[0].index]);
    };
    var reasonList = $("reasons-drill");
    reasonList.replaceChildren();
    reasons.forEach(function (r) {
      var b = drillButton("Handed over: " + (REASONS[r.reason] || r.reason), { reason: r.reason }, "drill-reason");
      b.textContent = (REASONS[r.reason] || r.reason) + " (" + r.count + ")";
      var item = el("li");
      item.append(b);
      reasonList.append(item);
    });
    var o = f.confirmation, colours = palette().series;
    chart("chart-confirmation", "doughnut", ["Confirmed", "Declined", "Unanswered"], [{
      label: "Orders", data: [o.confirmed, o.declined, o.unanswered],
      backgroundColor: [colours[2], colours[4], colours[1]], borderColor: css("--panel")
    }]);
    var s = f.self_service.series;
    chart("chart-self-service", "bar", days, [
      { label: "Status answered", data: s.map(function (r) { return r.status_answered; }) },
      { label: "Cancellations", data: s.map(function (r) { return r.cancellations; }) },
      { label: "Delivery changes", data: s.map(function (r) { return r.delivery_changes; }) },
      { label: "Returns", data: s.map(function (r) { return r.returns_opened; }) }
    ], true);
    var queue = f.operators.queue;
    chart("chart-queue", "line", queue.map(function (q) { return q.at.slice(0, 16).replace("T", " "); }), [
      { label: "Waiting", data: queue.map(function (q) { return q.waiting; }), pointRadius: 0, stepped: true }
    ]);
    var distribution = f.operators.satisfaction.distribution;
    chart("chart-satisfaction", "bar", ["1", "2", "3", "4", "5"], [
      { label: "Ratings", data: ["1", "2", "3", "4", "5"].map(function (k) { return distribution[k]; }) }
    ]);
  }

  // ---- tables ----
  function table(name, columns, rows) {
    var section = document.querySelector('[data-table="' + name + '"]');
    var heading = section.querySelector("h3");
    if (!heading.querySelector("a")) heading.append(el("a", { "data-csv": name, "download": "" }, "CSV"));
    var old = section.querySelector("table, p");
    if (old) old.remove();
    if (!rows.length) { section.append(el("p", { "class": "status" }, "Nothing in this range.")); return; }
    var out = el("table", { "data-testid": "table-" + name });
    var head = el("tr");
    columns.forEach(function (c) { head.append(el("th", { "class": c[2] ? "number" : "" }, c[0])); });
    var thead = el("thead");
    thead.append(head);
    out.append(thead);
    var body = el("tbody");
    rows.forEach(function (row) {
      var tr = el("tr");
      columns.forEach(function (c) {
        var value = c[1](row), cell = el("td", { "class": c[2] ? "number" : "" });
        if (c[3]) {
          var button = drillButton(c[3].what(row), c[3].filter(row), "drill-" + name);
          button.textContent = value === null || value === undefined ? "\u2013" : String(value);
          cell.append(button);
        } else if (Array.isArray(value)) {
          cell.append(el("div", null, value[0]), el("div", { "class": "examples" }, value[1]));
        } else cell.textContent = value === null || value === undefined ? "–" : String(value);
        tr.append(cell);
      });
      body.append(tr);
    });
    out.append(body);
    section.append(out);
  }
  function field(name) { return function (row) { return row[name]; }; }
  function renderTables(f) {
    var c = f.conversations;
    var perGroup = function (key) {
      return [["Conversations", field("conversations"), 1, {
        what: function (r) { return "Conversations: " + r[key]; },
        filter: function (r) { var f = {}; f[key] = r[key]; return f; } }],
        ["Messages", field("customer_messages"), 1],
                    ["Escalated", field("escalated"), 1],
                    ["Automation", function (r) { return percent(r.automation_rate); }, 1]];
    };
    table("channels", [["Channel", field("channel")]].concat(perGroup("channel")), c.by_channel);
    table("languages", [["Language", field("language")]].concat(perGroup("language")), c.by_language);
    table("flows", [["Flow", field("flow")], ["Messages", field("customer_messages"), 1],
                    ["Conversations", field("conversations"), 1], ["Handoffs", field("handoffs"), 1]], c.by_flow);
    table("misunderstood", [
      ["Intent guessed", function (r) { return [r.intent, r.examples.map(function (e) { return "“" + e + "”"; }).join("  ")]; }],
      ["Fallbacks", field("count"), 1, {
        what: function (r) { return "Misunderstood: " + intentName(r.intent); },
        filter: function (r) { return { intent: r.intent }; } }]], c.misunderstood_intents);
    table("operators", [["Operator", field("operator")], ["Handoffs", field("handoffs"), 1],
      ["First reply", function (r) { return duration(r.median_seconds_to_first_reply); }, 1],
      ["Handling", function (r) { return duration(r.median_handling_seconds); }, 1],
      ["Rating", function (r) { return r.rating_average === null ? "–" : number(r.rating_average, 2) + " (" + r.ratings + ")"; }, 1]],
      f.operators.per_operator);
  }

  // ---- operators' labels (GET /console/api/intent-labels) ----
  function intentName(intent) { return intent ? (INTENTS[intent] || intent) : "–"; }
  function renderLabels(l) {
    kpis("kpis-labels", [
      ["labels", "Labels", l.total],
      ["labels-new", "New since the model last learned", l.new]
    ]);
    var section = $("labels-latest"), old = section.querySelector("table, p");
    if (old) old.remove();
    if (!l.latest.length) { section.append(el("p", { "class": "status" }, "No labels yet.")); return; }
    var out = el("table", { "data-testid": "table-labels" }), head = el("tr");
    ["The customer wrote", "The bot guessed", "The operator chose", "Who", "When"].forEach(function (name) {
      head.append(el("th", null, name));
    });
    var thead = el("thead"), body = el("tbody");
    thead.append(head);
    l.latest.forEach(function (label) {
      var row = el("tr", { "data-testid": "label-row" });
      row.append(el("td", { "class": "said" }, label.text), el("td", null, intentName(label.guessed)),
                 el("td", null, intentName(label.intent)),
                 el("td", null, label.operator ? label.operator.name : "–"),
                 el("td", null, label.labelled_at.slice(0, 16).replace("T", " ") + " UTC"));
      body.append(row);
    });
    out.append(thead, body);
    section.append(out);
  }
  function loadLabels() {
    return fetch(API + "/intent-labels", { credentials: "same-origin" }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.detail || ("HTTP " + r.status));
        renderLabels(body);
      });
    }).catch(function (error) {
      $("kpis-labels").replaceChildren(el("p", { "class": "status" }, "Could not load the labels: " + error.message));
    });
  }

  // ---- loading ----
  function render(f) {
    last = f;
    renderKpis(f);
    renderCharts(f);
    renderTables(f);
    updateLinks();
    var range = f.range;
    $("status").textContent = "Showing " + range.start + " to " + range.end +
      (range.channel ? ", " + range.channel : "") + (range.language ? ", " + range.language : "") + ".";
    $("dashboard").setAttribute("data-loaded", query());
  }
  function load() {
    var mine = ++asked;
    $("status").textContent = "Loading…";
    return fetch(API + "/analytics?" + query(), { credentials: "same-origin" }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.detail || ("HTTP " + r.status));
        if (mine === asked) render(body);
      });
    }).catch(function (error) {
      if (mine === asked) $("status").textContent = "Could not load the figures: " + error.message;
    });
  }
  function notice(text) {
    var box = $("notice");
    box.replaceChildren(document.createTextNode(text + " "), el("a", { href: "/console" }, "Go to the console"));
    box.hidden = false;
  }
  function theme() {
    var chosen = null;
    try { chosen = localStorage.getItem("orderbot.console.theme"); } catch (e) { chosen = null; }
    if (chosen === "dark" || chosen === "light") document.documentElement.setAttribute("data-theme", chosen);
  }
  function start() {
    theme();
    $("drill-close").addEventListener("click", function () { $("drill").close(); });
    fetch(API + "/me", { credentials: "same-origin" }).then(function (r) {
      if (r.status === 401) return notice("Log in to the console first.");
      return r.json().then(function (body) {
        if (body.operator.role !== "admin") return notice("Only an admin may see the dashboard.");
        $("me").textContent = body.operator.display_name;
        var today = new Date();
        $("filter-end").value = isoDay(today);
        $("filter-start").value = isoDay(new Date(today.getTime() - 27 * 86400000));
        $("dashboard").hidden = false;
        $("filters").addEventListener("change", function () {
          if ($("filters").checkValidity()) load();
        });
        $("filters").addEventListener("submit", function (event) { event.preventDefault(); load(); });
        loadLabels();
        return load();
      });
    });
    var scheme = window.matchMedia("(prefers-color-scheme: dark)");
    scheme.addEventListener("change", function () { if (last) renderCharts(last); });
  }
  start();
})();
