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
    // The viewer's zone, named (the time policy in static/js/ui.js).
    return window.wso.time.fmt(d) + " (" + (secs >= 0 ? span + " ago" : "in " + span) + ")";
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
      // Other modules on the page (at-risk, banner, detail) listen to the same socket.
      document.dispatchEvent(new CustomEvent("wso:ops", { detail: frame }));
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

  var RANK = { critical: 0, warning: 1, info: 2 };
  function silenceHref(a) {
    var q = new URLSearchParams();
    Object.keys(a.labels || {}).sort().forEach(function (k) { q.append("m." + k, a.labels[k]); });
    q.append("m.alertname", a.rule_name);
    return "/alerts/silences/?" + q.toString();
  }
  function touches(a) {
    if (!a.weddings || !a.weddings.length) return null;
    var names = a.weddings.slice(0, 3).map(function (w) { return w.couple_name + " at " + w.venue_name; });
    return el("div", { className: "touches", text: "Touches " + names.join("; ") + (a.weddings.length > 3 ? " and " + (a.weddings.length - 3) + " more" : "") });
  }

  function alertsPage() {
    var tbody = document.querySelector("#active-alerts tbody");
    var resolved = document.querySelector("#resolved-alerts tbody");
    var filters = document.getElementById("alert-filters");
    var flashId = null;
    var params = new URLSearchParams(location.search);
    ["state", "severity", "venue", "rule"].forEach(function (k) { if (params.get(k) && filters[k]) filters[k].value = params.get(k); });
    api("/api/v1/alert-labels/").then(function (cat) {
      (cat.values.venue || []).forEach(function (v) {
        var venue = cat.venues.filter(function (x) { return String(x.id) === v; })[0];
        filters.venue.appendChild(el("option", { value: v, text: venue ? venue.name : v }));
      });
      if (params.get("venue")) filters.venue.value = params.get("venue");
    });
    api("/api/v1/alert-rules/?page_size=500").then(function (res) {
      res.results.forEach(function (r) { filters.rule.appendChild(el("option", { value: r.id, text: r.name })); });
      if (params.get("rule")) filters.rule.value = params.get("rule");
    });
    function query(states) {
      var q = new URLSearchParams({ page_size: "500" });
      states.forEach(function (s) { q.append("state", s); });
      ["severity", "venue", "rule"].forEach(function (k) { if (filters[k].value) q.set(k, filters[k].value); });
      return q.toString();
    }
    function load() {
      var st = filters.state.value;
      var activeStates = st === "firing" || st === "pending" ? [st] : ["firing", "pending"];
      return Promise.all([
        st === "resolved" ? Promise.resolve({ results: [] }) : api("/api/v1/alerts/?" + query(activeStates)),
        st === "firing" || st === "pending" ? Promise.resolve({ results: [] }) : api("/api/v1/alerts/?" + query(["resolved"]) + "&ordering=-resolved_at&page_size=20"),
      ]).then(function (res) {
        showError("alerts-error", null);
        // Criticals first; within a severity, firing before pending, then the oldest first.
        var active = res[0].results.sort(function (a, b) {
          return (RANK[a.severity] - RANK[b.severity]) || (a.state === b.state ? 0 : a.state === "firing" ? -1 : 1) ||
            String(a.started_at).localeCompare(String(b.started_at));
        });
        tbody.replaceChildren.apply(tbody, active.map(function (a) {
          var row = el("tr", { id: "alert-" + a.id, className: "is-" + a.state + (a.id === flashId ? " flash" : "") }, [
            el("td", {}, [badge(a.state), a.silenced_by ? el("div", { className: "muted", text: "Muted by " + a.silenced_by }) : null]),
            el("td", {}, [badge(a.severity)]),
            el("td", {}, [el("a", { href: "/alerts/" + a.id + "/", className: "rule-link", text: a.rule_name }),
              el("div", { className: "muted", text: a.metric }), touches(a)]),
            el("td", {}, [labels(a.labels)]),
            el("td", {}, [el("strong", { text: fmt(a.value) }), el("span", { className: "muted", text: " vs " + fmt(a.threshold) + (a.unit ? " " + a.unit : "") + (a.wedding_day ? " (wedding day)" : "") })]),
            el("td", { text: when(a.state === "firing" ? a.fired_at : a.started_at) }),
            ackCell(a, load),
            el("td", {}, [el("a", { href: silenceHref(a), className: "btn-secondary silence-this", text: "Silence this" })]),
          ]);
          return row;
        }));
        document.getElementById("active-empty").hidden = active.length > 0;
        document.getElementById("count-firing").textContent = active.filter(function (a) { return a.state === "firing"; }).length;
        document.getElementById("count-pending").textContent = active.filter(function (a) { return a.state === "pending"; }).length;
        document.getElementById("count-unacked").textContent = active.filter(function (a) { return !a.acknowledged; }).length;
        document.getElementById("count-silenced").textContent = active.filter(function (a) { return a.silenced_by; }).length;
        fill(resolved, res[1].results.map(function (a) {
          return el("tr", {}, [el("td", {}, [el("a", { href: "/alerts/" + a.id + "/", text: a.rule_name })]), el("td", {}, [labels(a.labels)]),
            el("td", { text: when(a.fired_at) }), el("td", { text: when(a.resolved_at) })]);
        }), 4, "Nothing resolved recently.");
      }, function (e) { showError("alerts-error", e); });
    }
    filters.addEventListener("change", function () {
      var q = new URLSearchParams();
      ["state", "severity", "venue", "rule"].forEach(function (k) { if (filters[k].value) q.set(k, filters[k].value); });
      history.replaceState(null, "", location.pathname + (q.toString() ? "?" + q.toString() : ""));
      load();
    });
    var pending = null;
    refreshers.push(function (frame) {
      if (frame.alert) flashId = frame.alert.id;
      clearTimeout(pending);
      pending = setTimeout(load, 150); // coalesce bursts of transitions into one reload
    });
    load();
    setInterval(load, 30000);
  }

  // --- incidents page ---------------------------------------------------------------
  function incidentsPage() {
    var box = document.getElementById("incidents");
    var dialog = document.getElementById("resolve-dialog");
    var resolving = null;
    function contactList(inc) {
      if (!inc.contacts || !inc.contacts.length) return null;
      return el("div", { className: "contacts" }, [el("strong", { text: "Phone, in this order: " }),
        el("ol", {}, inc.contacts.map(function (c) {
          var phone = c.phone ? el("a", { href: "tel:" + c.phone.replace(/[^+0-9]/g, ""), text: c.phone }) : el("span", { className: "muted", text: "no phone on record" });
          return el("li", {}, [c.name + (c.role ? " (" + c.role + ")" : "") + " — ", phone, c.reachable_otherwise ? el("span", { className: "muted", text: " · also emailed/webhooked" }) : null]);
        }))]);
    }
    function noteForm(inc) {
      var form = el("form", { className: "note-form", "data-incident": inc.id });
      var input = el("input", { name: "text", maxlength: "500", placeholder: "add a note to the timeline", "aria-label": "Note for incident #" + inc.id });
      form.appendChild(input);
      form.appendChild(el("button", { type: "submit", className: "btn-secondary", text: "Add note" }));
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        api("/api/v1/incidents/" + inc.id + "/notes/", { method: "POST", body: { text: input.value } })
          .then(load, function (e) { showError("emergency-error", e); });
      });
      return form;
    }
    function load() {
      api("/api/v1/incidents/?page_size=50").then(function (res) {
        document.getElementById("incidents-empty").hidden = res.results.length > 0;
        box.replaceChildren.apply(box, res.results.map(function (inc) {
          var head = el("h3", {}, [badge(inc.status), el("span", { text: inc.title }),
            el("span", { className: "muted", text: "#" + inc.id + " · " + when(inc.created_at) + (inc.triggered_by ? " · by " + inc.triggered_by : inc.alert ? " · from alert #" + inc.alert : "") })]);
          if (inc.status === "open") {
            var b = el("button", { type: "button", className: "btn-secondary", text: "Resolve…" });
            b.addEventListener("click", function () {
              resolving = inc;
              document.getElementById("resolve-title").textContent = "Resolve #" + inc.id + " " + inc.title + "?";
              dialog.querySelector("textarea").value = "";
              showError("resolve-error", null);
              dialog.showModal();
            });
            head.appendChild(b);
          }
          var list = el("ol", { className: "timeline" }, inc.timeline.map(function (e) {
            return el("li", { className: "ev-" + e.kind }, [window.wso.timeEl(e.at),
              e.kind === "note" ? el("strong", { text: "Note" + (e.data && e.data.by ? " by " + e.data.by : "") + ": " }) : null, el("span", { text: e.message })]);
          }));
          return el("article", { className: "incident", id: "incident-" + inc.id }, [head,
            inc.wedding_name ? el("div", { className: "muted", text: "Wedding: " + inc.wedding_name }) : null,
            inc.status === "open" ? contactList(inc) : null, list, inc.status === "open" ? noteForm(inc) : null]);
        }));
        if (location.hash) { var target = document.querySelector(location.hash); if (target) target.classList.add("flash"); }
      });
    }
    document.getElementById("resolve-cancel").addEventListener("click", function () { dialog.close(); });
    document.getElementById("resolve-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var note = dialog.querySelector("textarea").value.trim();
      if (!note) { showError("resolve-error", { message: "Say what fixed it (the note goes on the timeline)." }); return; }
      api("/api/v1/incidents/" + resolving.id + "/resolve/", { method: "POST", body: { note: note } })
        .then(function () { dialog.close(); load(); }, function (e) { showError("resolve-error", e); });
    });
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
  if (document.getElementById("emergency-form")) incidentsPage();
  connect();
})();
