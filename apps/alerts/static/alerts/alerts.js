// Alerts pages: live alert list with acknowledge, silences, incidents + emergency trigger.
// Data over the REST API (window.wso.api, CSRF included); live updates from /ws/ops/.
(function () {
  "use strict";
  var api = window.wso.api;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  function when(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    var secs = Math.round((Date.now() - d.getTime()) / 1000);
    var n = Math.abs(secs);
    var span = n < 60 ? n + " s" : n < 3600 ? Math.round(n / 60) + " min" : n < 172800 ? Math.round(n / 3600) + " h" : Math.round(n / 86400) + " d";
    var day = n > 72000 ? d.toISOString().slice(0, 10) + " " : "";
    return day + d.toISOString().slice(11, 19) + " UTC (" + (secs >= 0 ? span + " ago" : "in " + span) + ")";
  }
  function labels(obj) {
    var keys = Object.keys(obj || {}).sort();
    if (!keys.length) return el("span", { className: "muted", text: "platform" });
    return el("span", { className: "labels" }, keys.map(function (k) { return el("code", { text: k + "=" + obj[k] }); }));
  }
  function fill(tbody, rows, cols, emptyText) {
    if (!rows.length) rows = [el("tr", {}, [el("td", { colspan: String(cols), className: "empty", text: emptyText })])];
    tbody.replaceChildren.apply(tbody, rows);
  }
  function badge(value) { return el("span", { className: "badge badge-" + value, text: value }); }
  function fmt(v) { return v === null || v === undefined ? "—" : (Math.round(v * 100) / 100).toString(); }
  function showError(id, err) {
    var node = document.getElementById(id);
    if (!node) return;
    if (!err) { node.hidden = true; return; }
    var body = err.body || {};
    var parts = Object.keys(body).map(function (k) { return (k === "detail" ? "" : k + ": ") + [].concat(body[k]).join(" "); });
    node.textContent = parts.join(" · ") || err.message;
    node.hidden = false;
  }

  // --- live feed ------------------------------------------------------------------
  var refreshers = [];
  function connect() {
    var status = document.getElementById("live-status");
    var ws;
    try { ws = new WebSocket(window.wso.wsUrl("/ws/ops/")); } catch (e) { return; }
    ws.onopen = function () { if (status) { status.textContent = "live"; status.className = "live-dot on"; } };
    ws.onclose = function () {
      if (status) { status.textContent = "reconnecting…"; status.className = "live-dot off"; }
      setTimeout(connect, 2000);
    };
    ws.onmessage = function (msg) {
      var frame;
      try { frame = JSON.parse(msg.data); } catch (e) { return; }
      if (frame.op === "alert" || frame.op === "incident") refreshers.forEach(function (f) { f(frame); });
    };
  }

  // --- alerts page -----------------------------------------------------------------
  function ackCell(alert, reload) {
    if (alert.acknowledged) {
      var undo = el("button", { type: "button", className: "btn-secondary", text: "Unacknowledge" });
      undo.addEventListener("click", function () {
        api("/api/v1/alerts/" + alert.id + "/unacknowledge/", { method: "POST" }).then(reload, function (e) { showError("alerts-error", e); });
      });
      return el("td", {}, [el("div", { text: "✓ " + alert.acknowledged_by + (alert.ack_comment ? ": " + alert.ack_comment : "") }),
        el("div", { className: "muted", text: when(alert.acknowledged_at) }), undo]);
    }
    var form = el("form", { className: "ack-form", "data-alert": alert.id });
    var comment = el("input", { name: "comment", placeholder: "comment (optional)", "aria-label": "Comment for " + alert.rule_name });
    var button = el("button", { type: "submit", className: "btn-secondary", text: "Acknowledge" });
    form.appendChild(comment); form.appendChild(button);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      button.disabled = true;
      api("/api/v1/alerts/" + alert.id + "/acknowledge/", { method: "POST", body: { comment: comment.value } })
        .then(reload, function (e) { button.disabled = false; showError("alerts-error", e); });
    });
    return el("td", {}, [form]);
  }

  function alertsPage() {
    var tbody = document.querySelector("#active-alerts tbody");
    var resolved = document.querySelector("#resolved-alerts tbody");
    var flashId = null;
    function load() {
      return Promise.all([
        api("/api/v1/alerts/?state=firing&state=pending&page_size=500"),
        api("/api/v1/alerts/?state=resolved&ordering=-resolved_at&page_size=20"),
      ]).then(function (res) {
        showError("alerts-error", null);
        var active = res[0].results.sort(function (a, b) {
          var rank = { critical: 0, warning: 1, info: 2 };
          return (a.state === b.state ? 0 : a.state === "firing" ? -1 : 1) || rank[a.severity] - rank[b.severity];
        });
        tbody.replaceChildren.apply(tbody, active.map(function (a) {
          var row = el("tr", { id: "alert-" + a.id, className: "is-" + a.state + (a.id === flashId ? " flash" : "") }, [
            el("td", {}, [badge(a.state), a.silenced_by ? el("div", { className: "muted", text: "🔕 " + a.silenced_by }) : null]),
            el("td", {}, [badge(a.severity)]),
            el("td", {}, [a.runbook_url ? el("a", { href: a.runbook_url, text: a.rule_name }) : el("span", { text: a.rule_name }),
              el("div", { className: "muted", text: a.metric })]),
            el("td", {}, [labels(a.labels)]),
            el("td", {}, [el("strong", { text: fmt(a.value) }), el("span", { className: "muted", text: " vs " + fmt(a.threshold) + (a.wedding_day ? " (wedding day)" : "") })]),
            el("td", { text: when(a.state === "firing" ? a.fired_at : a.started_at) }),
            ackCell(a, load),
          ]);
          return row;
        }));
        document.getElementById("active-empty").hidden = active.length > 0;
        document.getElementById("count-firing").textContent = active.filter(function (a) { return a.state === "firing"; }).length;
        document.getElementById("count-pending").textContent = active.filter(function (a) { return a.state === "pending"; }).length;
        document.getElementById("count-unacked").textContent = active.filter(function (a) { return !a.acknowledged; }).length;
        document.getElementById("count-silenced").textContent = active.filter(function (a) { return a.silenced_by; }).length;
        fill(resolved, res[1].results.map(function (a) {
          return el("tr", {}, [el("td", { text: a.rule_name }), el("td", {}, [labels(a.labels)]),
            el("td", { text: when(a.fired_at) }), el("td", { text: when(a.resolved_at) })]);
        }), 4, "Nothing resolved recently.");
      }, function (e) { showError("alerts-error", e); });
    }
    var pending = null;
    refreshers.push(function (frame) {
      if (frame.alert) flashId = frame.alert.id;
      clearTimeout(pending);
      pending = setTimeout(load, 150); // coalesce bursts of transitions into one reload
    });
    load();
    setInterval(load, 30000);
  }

  // --- silences page ----------------------------------------------------------------
  function parseMatchers(text) {
    var out = {};
    text.split(",").forEach(function (part) {
      var i = part.indexOf("=");
      if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
    });
    return out;
  }
  function silencesPage() {
    var tbody = document.querySelector("#silences tbody");
    var mw = document.querySelector("#maintenance tbody");
    var days = ["", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    function load() {
      api("/api/v1/silences/?page_size=100").then(function (res) {
        fill(tbody, res.results.map(function (s) {
          var cell = el("td");
          if (s.active || new Date(s.ends_at) > new Date()) {
            var b = el("button", { type: "button", className: "btn-secondary", text: "Expire" });
            b.addEventListener("click", function () { api("/api/v1/silences/" + s.id + "/", { method: "DELETE" }).then(load); });
            cell.appendChild(b);
          } else cell.appendChild(el("span", { className: "muted", text: "expired" }));
          return el("tr", {}, [el("td", {}, [labels(s.matchers)]), el("td", { text: when(s.starts_at) }),
            el("td", { text: when(s.ends_at) }), el("td", { text: s.created_by || "—" }), el("td", { text: s.reason }), cell]);
        }), 6, "No silences.");
      });
      api("/api/v1/maintenance-windows/?page_size=100").then(function (res) {
        fill(mw, res.results.map(function (w) {
          var on = w.weekdays.length ? w.weekdays.map(function (d) { return days[d]; }).join(", ") : "every day";
          return el("tr", {}, [el("td", { text: w.name }),
            el("td", { text: on + " " + w.start_time.slice(0, 5) + " for " + w.duration_minutes + " min (" + w.timezone + ")" }),
            el("td", {}, [labels(w.matchers)]), el("td", {}, [w.active ? badge("open") : el("span", { className: "muted", text: "closed" })])]);
        }), 4, "No maintenance windows.");
      });
    }
    var form = document.getElementById("silence-form");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var data = { matchers: parseMatchers(form.matchers.value), duration_minutes: Number(form.duration_minutes.value), reason: form.reason.value };
      api("/api/v1/silences/", { method: "POST", body: data }).then(function () {
        showError("silence-error", null); form.reset(); load();
      }, function (e) { showError("silence-error", e); });
    });
    load();
  }

  // --- incidents page ---------------------------------------------------------------
  function incidentsPage() {
    var box = document.getElementById("incidents");
    function load() {
      api("/api/v1/incidents/?page_size=50").then(function (res) {
        document.getElementById("incidents-empty").hidden = res.results.length > 0;
        box.replaceChildren.apply(box, res.results.map(function (inc) {
          var head = el("h3", {}, [badge(inc.status), el("span", { text: inc.title }),
            el("span", { className: "muted", text: "#" + inc.id + " · " + when(inc.created_at) + (inc.triggered_by ? " · by " + inc.triggered_by : inc.alert ? " · from alert #" + inc.alert : "") })]);
          if (inc.status === "open") {
            var b = el("button", { type: "button", className: "btn-secondary", text: "Resolve" });
            b.addEventListener("click", function () { api("/api/v1/incidents/" + inc.id + "/resolve/", { method: "POST", body: {} }).then(load); });
            head.appendChild(b);
          }
          var list = el("ol", { className: "timeline" }, inc.timeline.map(function (e) {
            return el("li", {}, [el("time", { datetime: e.at, text: new Date(e.at).toISOString().slice(11, 19) }), el("span", { text: e.message })]);
          }));
          return el("article", { className: "incident", id: "incident-" + inc.id }, [head, inc.wedding_name ? el("div", { className: "muted", text: "Wedding: " + inc.wedding_name }) : null, list]);
        }));
      });
    }
    var form = document.getElementById("emergency-form");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var data = { emergency_type: form.emergency_type.value, reason: form.reason.value };
      if (form.wedding.value) data.wedding = Number(form.wedding.value);
      if (form.venue.value) data.venue = Number(form.venue.value);
      api("/api/v1/incidents/", { method: "POST", body: data }).then(function () {
        showError("emergency-error", null); form.reason.value = ""; load();
      }, function (e) { showError("emergency-error", e); });
    });
    refreshers.push(function (frame) { if (frame.op === "incident") load(); });
    load();
  }

  if (document.getElementById("active-alerts")) alertsPage();
  if (document.getElementById("silence-form")) silencesPage();
  if (document.getElementById("emergency-form")) incidentsPage();
  connect();
})();
