// One dashboard page: snapshot over REST, live updates over ONE WebSocket (/ws/ops/).
// Sequence gaps and reconnects trigger a fresh snapshot, so the screen is never stale.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("dashboard-config").textContent);
  var grid = document.getElementById("grid");
  var connEl = document.getElementById("conn");
  var statusEl = document.getElementById("dash-status");
  var updatedEl = document.getElementById("updated");
  var api = window.wso.api;
  var base = "/api/v1/dashboards/" + encodeURIComponent(cfg.slug) + "/";

  var TR = window.wsoTimeRange;
  var state = {
    range: cfg.range, // "15m".. (a preset), "rel" (another now-<n>) or "custom" (absolute)
    custom: null, // {start, end} unix seconds
    from: cfg.from, // the window as the URL spells it (?from=now-24h&to=now)
    to: cfg.to,
    follow: true,
    editing: false,
    widgets: {}, // id -> {spec, el, payload}
    seq: {}, // stream -> last seq seen
    ws: null,
    retry: 0,
    snapshotting: null,
    resyncTimer: null,
    alerts: {}, // id -> alert
    pending: {}, // widget id -> {traceIndex -> {x: [], y: []}}
    rafQueued: false,
  };
  window.wsoDashboard = state; // for tests and benchmarks

  // ---------- helpers ----------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  function say(text, isError) {
    statusEl.textContent = text || "";
    statusEl.classList.toggle("is-error", !!isError);
  }
  function errorText(err) {
    if (err && err.body) {
      if (typeof err.body === "string") return err.body;
      return Object.keys(err.body).map(function (k) {
        var v = err.body[k];
        return (k === "detail" ? "" : k + ": ") + (Array.isArray(v) ? v.join(" ") : typeof v === "object" ? JSON.stringify(v) : v);
      }).join("; ");
    }
    return String(err && err.message || err);
  }
  function fmt(v) {
    if (v === null || v === undefined || isNaN(v)) return "—";
    var a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(1) + "G";
    if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    if (a === 0) return "0";
    return v.toPrecision(3).replace(/\.?0+$/, "");
  }
  var STATE_WORD = { ok: "OK", warn: "Warning", crit: "Critical", none: "No data", unknown: "Unknown", off: "Not used" };
  var STATE_ICON = { ok: "✓", warn: "!", crit: "✕", none: "?", unknown: "?", off: "–" };
  function stateBadge(s) {
    return el("span", { class: "state state-" + s, "data-testid": "state" }, [STATE_ICON[s] + " " + STATE_WORD[s]]);
  }
  function seriesKey(name, labels) {
    var keys = Object.keys(labels || {}).sort();
    if (!keys.length) return name;
    return name + "{" + keys.map(function (k) { return k + '="' + labels[k] + '"'; }).join(",") + "}";
  }
  function matches(labels, matchers) {
    return Object.keys(matchers || {}).every(function (k) { return labels[k] === matchers[k]; });
  }
  function thresholdState(v, t) {
    if (v === null || v === undefined) return "none";
    if (!t || (t.warn == null && t.crit == null)) return "ok";
    var above = t.direction !== "below";
    if (t.crit != null && (above ? v >= t.crit : v <= t.crit)) return "crit";
    if (t.warn != null && (above ? v >= t.warn : v <= t.warn)) return "warn";
    return "ok";
  }
  function reduce(values, how) {
    var vals = values.filter(function (v) { return v !== null && v !== undefined && isFinite(v); });
    if (!vals.length) return null;
    if (how === "avg") return vals.reduce(function (a, b) { return a + b; }, 0) / vals.length;
    if (how === "max") return Math.max.apply(null, vals);
    if (how === "min") return Math.min.apply(null, vals);
    return vals.reduce(function (a, b) { return a + b; }, 0);
  }
  function rangeSeconds() {
    var w = TR.parse(state.from, state.to, cfg.rangeSeconds);
    return w ? w.span : 3600;
  }
  function rangeQuery() { return TR.apiQuery(state.from, state.to, cfg.rangeSeconds); }
  // Sets the window from its URL spelling; false when it cannot be read.
  function setWindow(from, to) {
    var w = TR.parse(from, to, cfg.rangeSeconds);
    if (!w) return false;
    state.from = from; state.to = to;
    state.range = w.preset || (w.relative ? "rel" : "custom");
    state.custom = w.relative ? null : { start: w.start, end: w.end };
    return true;
  }
  setWindow(cfg.from, cfg.to);
  document.getElementById("zone-note").textContent = "Times in " + window.wso.time.zone + " (" + window.wsoChartTime.zone + ")";
  function isDark() { return document.documentElement.getAttribute("data-theme") === "dark"; }
  function plotTheme() {
    var dark = isDark();
    return {
      font: { color: dark ? "#e7eaf0" : "#1c2230", size: 13 },
      xaxis: { gridcolor: dark ? "#2a3347" : "#e6e9ef", linecolor: dark ? "#2a3347" : "#dde1e8" },
      yaxis: { gridcolor: dark ? "#2a3347" : "#e6e9ef", zerolinecolor: dark ? "#3a4560" : "#cfd4dd" },
    };
  }

  // ---------- connection indicator ----------
  function setConn(s, text) {
    connEl.setAttribute("data-state", s);
    connEl.querySelector(".conn-text").textContent = text;
  }

  // ---------- tiles ----------
  function tileTools(id) {
    var tools = el("div", { class: "tile-tools", role: "group", "aria-label": "Edit widget" });
    [
      ["move-left", "◀", "Move earlier"], ["move-right", "▶", "Move later"],
      ["narrower", "−", "Narrower"], ["wider", "+", "Wider"],
      ["shorter", "▴", "Shorter"], ["taller", "▾", "Taller"],
      ["edit", "✎", "Edit query and settings"], ["remove", "✕", "Remove widget"],
    ].forEach(function (t) {
      tools.appendChild(el("button", { type: "button", class: "tool", "data-tool": t[0], "data-id": id, title: t[2], "aria-label": t[2] + " (widget " + id + ")", text: t[1] }));
    });
    return tools;
  }

  function buildTile(spec) {
    var title = el("h2", { class: "tile-title", id: "wt-" + spec.id, text: spec.title });
    var head = el("header", { class: "tile-head" }, [title, cfg.canEdit ? tileTools(spec.id) : null]);
    var body = el("div", { class: "tile-body" }, [el("p", { class: "muted", text: "Loading…" })]);
    var tile = el("section", { class: "tile tile-" + spec.kind, "data-widget": spec.id, "data-kind": spec.kind, "aria-labelledby": "wt-" + spec.id }, [head, body]);
    tile.style.setProperty("--w", spec.width);
    tile.style.setProperty("--h", spec.height);
    state.widgets[spec.id] = { spec: spec, el: tile, body: body, payload: null };
    return tile;
  }

  function dropTile(id) {
    var w = state.widgets[id];
    if (!w) return;
    if (w.plot && window.Plotly) { try { Plotly.purge(w.plot); } catch (e) { /* gone */ } }
    delete state.widgets[id];
    return w.el;
  }

  function buildGrid() {
    Object.keys(state.widgets).forEach(dropTile);
    grid.innerHTML = "";
    var specs = cfg.widgets.slice().sort(function (a, b) { return a.position - b.position || a.id - b.id; });
    if (!specs.length) {
      grid.appendChild(el("p", { class: "empty", id: "grid-empty", text: "This dashboard has no widgets yet" + (cfg.canEdit ? ": press “Edit”, then “Add widget”." : ".") }));
    }
    specs.forEach(function (spec) { grid.appendChild(buildTile(spec)); });
  }

  function renderMetric(w, p) {
    var unit = w.spec.unit;
    var valueEl = el("span", { class: "metric-value", "data-testid": "metric-value" });
    var line = el("div", { class: "metric-line" }, [valueEl, unit ? el("span", { class: "metric-unit", text: unit }) : null]);
    var badgeBox = el("span", { class: "badge-box" });
    line.appendChild(badgeBox);
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "spark");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("viewBox", "0 0 100 30");
    svg.setAttribute("aria-hidden", "true");
    var poly = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    svg.appendChild(poly);
    var age = el("div", { class: "metric-age" });
    w.body.innerHTML = "";
    w.body.appendChild(el("div", { class: "metric" }, [line, svg, age]));
    w.metric = { valueEl: valueEl, badgeBox: badgeBox, poly: poly, age: age };
    w.parts = {};
    (p.parts || []).forEach(function (part) { w.parts[part.key] = part; });
    w.spark = { x: p.spark.x.slice(), y: p.spark.y.slice() };
    w.reduce = p.reduce || "sum";
    // Bound to an alert rule (apps/alerts/tiles.py): the rule's value, bands and caption.
    w.rule = p.rule && window.wso.ruleWindow ? p.rule : null;
    w.caption = p.caption || (w.spec.options && w.spec.options.caption) || "";
    updateMetric(w, p.ts);
  }

  // A series that lags the freshest by more than this no longer counts (figures.STALE_SECONDS).
  var STALE_SECONDS = 300;

  function updateMetric(w, ts) {
    var newest = -Infinity;
    Object.keys(w.parts).forEach(function (k) { newest = Math.max(newest, w.parts[k].ts || 0); });
    Object.keys(w.parts).forEach(function (k) {
      if ((w.parts[k].ts || 0) < newest - STALE_SECONDS) delete w.parts[k];
    });
    var keys = Object.keys(w.parts);
    var value = w.rule ? window.wso.ruleWindow.value(w.rule) : reduce(keys.map(function (k) { return w.parts[k].value; }), w.reduce);
    var s = thresholdState(value, w.rule ? w.rule.bands : w.spec.thresholds);
    var scale = (w.spec.options && w.spec.options.scale) || 1;
    w.metric.valueEl.textContent = fmt(value === null ? null : value * scale);
    w.metric.valueEl.setAttribute("data-value", value === null ? "" : String(value));
    w.metric.valueEl.className = "metric-value v-" + s;
    w.metric.badgeBox.innerHTML = "";
    w.metric.badgeBox.appendChild(stateBadge(s));
    w.el.setAttribute("data-state", s);
    var xs = w.spark.x, ys = w.spark.y;
    if (xs.length > 1) {
      var lo = Infinity, hi = -Infinity;
      ys.forEach(function (y) { if (y !== null) { lo = Math.min(lo, y); hi = Math.max(hi, y); } });
      if (hi === lo) { hi = lo + 1; }
      var x0 = xs[0], span = (xs[xs.length - 1] - x0) || 1;
      w.metric.poly.setAttribute("points", xs.map(function (x, i) {
        return ys[i] === null ? "" : ((x - x0) / span * 100).toFixed(2) + "," + (28 - (ys[i] - lo) / (hi - lo) * 26).toFixed(2);
      }).join(" "));
    }
    if (ts) w.metric.age.textContent = (w.caption ? w.caption + " · " : "") + "as of " + window.wso.time.fmt(ts);
    else if (w.caption) w.metric.age.textContent = w.caption;
  }

  function renderChart(w, p) {
    var fig = p.figure;
    window.wsoChartTime.toViewerZone(fig);
    var theme = plotTheme();
    fig.layout.font = theme.font;
    fig.layout.xaxis = Object.assign(fig.layout.xaxis || {}, theme.xaxis);
    fig.layout.yaxis = Object.assign(fig.layout.yaxis || {}, theme.yaxis);
    fig.layout.autosize = true;
    if (!w.plot || !w.body.contains(w.plot)) {
      w.body.innerHTML = "";
      w.plot = el("div", { class: "chart", role: "img", "aria-label": w.spec.title + " chart" });
      w.body.appendChild(w.plot);
      Plotly.newPlot(w.plot, fig.data, fig.layout, window.wso.plotConfig());
      w.plot.on("plotly_relayout", function (ev) {
        if (w.selfRelayout) return;
        if (ev["xaxis.autorange"]) w.userZoom = false;
        else if (ev["xaxis.range[0]"] !== undefined || ev["xaxis.range"]) w.userZoom = true;
      });
    } else {
      if (w.userZoom) { fig.layout.xaxis.range = w.plot.layout.xaxis.range; }
      Plotly.react(w.plot, fig.data, fig.layout);
    }
    w.traceIndex = {};
    fig.data.forEach(function (t, i) { w.traceIndex[t.meta.key] = i; });
    var last = fig.data.reduce(function (m, t) { return t.x.length ? Math.max(m, t.x[t.x.length - 1]) : m; }, 0);
    w.lastX = {};
    fig.data.forEach(function (t) { w.lastX[t.meta.key] = t.x.length ? t.x[t.x.length - 1] : 0; });
    w.el.removeAttribute("data-state");
    w.el.setAttribute("data-points", String(fig.data.reduce(function (n, t) { return n + t.x.length; }, 0)));
    w.el.setAttribute("data-last", String(last));
  }

  function statusItem(name, s, detail) {
    return el("li", { class: "state-" + s, "data-component": name }, [
      el("span", { class: "status-icon state-" + s, "aria-hidden": "true", text: STATE_ICON[s] }),
      el("div", {}, [
        el("div", { class: "status-name" }, [name + " ", el("span", { class: "status-word state-" + s, text: STATE_WORD[s] })]),
        el("div", { class: "status-detail", text: detail }),
      ]),
    ]);
  }

  function renderStatus(w, p) {
    w.body.innerHTML = "";
    if (p.weddings) { renderWeddings(w, p.weddings); return; }
    var list = el("ul", { class: "status-list" });
    var worst = "ok";
    (p.components || []).forEach(function (c) {
      list.appendChild(statusItem(c.component, c.state, c.detail));
      if (c.state === "crit" || (c.state === "warn" && worst !== "crit")) worst = c.state;
    });
    w.el.setAttribute("data-state", worst);
    w.body.appendChild(list);
  }

  function renderWeddings(w, d) {
    var regions = el("table", { class: "mini" }, [el("caption", { class: "sr-only", text: "Live weddings by region" })]);
    d.by_region.forEach(function (r) { regions.appendChild(el("tr", {}, [el("td", { text: r[0] }), el("td", { class: "num", text: String(r[1]) })])); });
    var statuses = el("table", { class: "mini" }, [el("caption", { class: "sr-only", text: "Live weddings by status" })]);
    d.by_status.forEach(function (r) { statuses.appendChild(el("tr", {}, [el("td", {}, [el("span", { class: "badge badge-" + r[0], text: r[0].replace("_", " ") })]), el("td", { class: "num", text: String(r[1]) })])); });
    var list = el("ul", { class: "alert-list" });
    d.weddings.forEach(function (x) {
      list.appendChild(el("li", { class: "status-detail" }, [
        el("strong", { text: x.couple }), " · " + x.venue + " (" + x.venue_type.replace("_", " ") + ", " + x.region + ")",
        x.degraded ? el("span", { class: "badge badge-critical", text: " ⚠ degraded network" }) : null,
      ]));
    });
    w.body.appendChild(el("div", { class: "weddings-total", "data-testid": "weddings-total", text: String(d.total) }));
    w.body.appendChild(el("div", { class: "muted small", text: d.total === 1 ? "wedding live now" : "weddings live now" }));
    if (d.total) {
      w.body.appendChild(el("div", { class: "split" }, [regions, statuses]));
      w.body.appendChild(list);
    }
    w.el.setAttribute("data-state", "ok");
  }

  // ---------- alerts ----------
  function alertName(a) {
    return a.rule_name || (a.rule && a.rule.name) || a.name || a.summary || ("Rule " + a.rule);
  }
  function isAcked(a) {
    return !!(a.acknowledged_at || a.acknowledged || (a.acknowledgement && a.acknowledgement.at !== undefined) || a.acknowledged_by);
  }
  function isActive(a) { return a.state === "firing" || a.state === "pending"; }

  function isEmergency(w) { return w.spec.options && w.spec.options.section === "emergency"; }

  function loadAlerts() {
    var alertTiles = Object.keys(state.widgets).filter(function (id) {
      return state.widgets[id].spec.kind === "alert" && !isEmergency(state.widgets[id]);
    });
    if (!alertTiles.length) return Promise.resolve();
    return Promise.all([
      api("/api/v1/alerts/?state=firing&page_size=200"),
      api("/api/v1/alerts/?state=pending&page_size=200"),
    ]).then(function (pages) {
      state.alerts = {};
      pages.forEach(function (p) { (p.results || p).forEach(function (a) { state.alerts[a.id] = a; }); });
      renderAlerts();
    }).catch(function (err) {
      alertTiles.forEach(function (id) {
        var w = state.widgets[id];
        w.body.innerHTML = "";
        var why = err && err.status ? "HTTP " + err.status : "the alerts service did not answer";
        w.body.appendChild(el("p", { class: "tile-error", text: "⚠ Alerts unavailable (" + why + "). Retrying with the next refresh." }));
        w.el.setAttribute("data-state", "warn");
      });
    });
  }

  function renderAlerts() {
    Object.keys(state.widgets).forEach(function (id) {
      var w = state.widgets[id];
      if (w.spec.kind !== "alert" || isEmergency(w)) return;
      var active = Object.keys(state.alerts).map(function (k) { return state.alerts[k]; }).filter(isActive);
      active.sort(function (a, b) { return (a.state === "firing" ? 0 : 1) - (b.state === "firing" ? 0 : 1) || b.id - a.id; });
      w.body.innerHTML = "";
      if (!active.length) {
        w.body.appendChild(el("p", { class: "alerts-ok", "data-testid": "no-alerts", text: "✓ No active alerts" }));
        w.el.setAttribute("data-state", "ok");
        return;
      }
      var firing = active.some(function (a) { return a.state === "firing" && !isAcked(a); });
      w.el.setAttribute("data-state", firing ? "crit" : "warn");
      var list = el("ul", { class: "alert-list" });
      active.forEach(function (a) {
        var acked = isAcked(a);
        var sev = a.severity || (a.rule && a.rule.severity) || "";
        var meta = [a.state.toUpperCase()];
        if (sev) meta.push(sev);
        if (a.value !== undefined && a.value !== null) meta.push((a.measure || "value") + " " + fmt(a.value));
        var labels = a.labels && Object.keys(a.labels).map(function (k) { return k + "=" + a.labels[k]; }).join(", ");
        if (labels) meta.push(labels);
        if (acked) meta.push("acknowledged" + (a.acknowledged_by ? " by " + (a.acknowledged_by.username || a.acknowledged_by) : ""));
        var icon = a.state === "firing" ? "⚠ " : "◔ ";
        var item = el("li", { class: "alert-item state-" + a.state + " sev-" + sev + (acked ? " acked" : ""), "data-alert": a.id }, [
          el("div", { class: "alert-main" }, [
            el("div", { class: "alert-name", text: icon + alertName(a) }),
            el("div", { class: "alert-meta", text: meta.join(" · ") }),
          ]),
          acked ? el("span", { class: "badge badge-ok", text: "✓ Acked" })
            : el("button", { type: "button", class: "btn-secondary", "data-ack": a.id, text: "Acknowledge" }),
        ]);
        list.appendChild(item);
      });
      w.body.appendChild(list);
    });
  }

  function renderEmergency(w, p) {
    w.emergency = p;
    w.body.innerHTML = "";
    var box = el("div", { class: "emergency" });
    p.types.forEach(function (t) {
      box.appendChild(el("button", { type: "button", class: "btn-danger", "data-emergency": t[0], text: "⚠ " + t[1] }));
    });
    w.body.appendChild(box);
    w.body.appendChild(el("p", { class: "form-status", "data-testid": "emergency-status", role: "status" }));
    if (p.incidents.length) {
      var list = el("ul", { class: "incidents", "aria-label": "Open incidents" });
      p.incidents.forEach(function (i) {
        list.appendChild(el("li", {}, [el("span", { class: "badge badge-open", text: "OPEN" }), " #" + i.id + " " + i.title]));
      });
      w.body.appendChild(list);
      w.el.setAttribute("data-state", "crit");
    } else {
      w.body.appendChild(el("p", { class: "muted small", text: "No open incident. Each button opens an incident, notifies the emergency contacts and requests emergency capacity." }));
      w.el.setAttribute("data-state", "ok");
    }
  }

  function acknowledge(id, button) {
    button.disabled = true;
    button.textContent = "Acknowledging…";
    api("/api/v1/alerts/" + id + "/acknowledge/", { method: "POST", body: {} }).then(function (a) {
      if (a && a.id) state.alerts[a.id] = a;
      else if (state.alerts[id]) state.alerts[id].acknowledged = true;
      renderAlerts();
    }).catch(function (err) {
      button.disabled = false;
      button.textContent = "Acknowledge";
      say("Could not acknowledge: " + errorText(err), true);
    });
  }

  var emDialog = document.getElementById("emergency-dialog");
  var emTile = null;
  function declareEmergency(kind, button) {
    emTile = state.widgets[button.closest(".tile").getAttribute("data-widget")];
    var p = emTile.emergency;
    var typeSel = document.getElementById("em-type");
    typeSel.innerHTML = "";
    p.types.forEach(function (t) { typeSel.appendChild(el("option", { value: t[0], text: t[1] })); });
    typeSel.value = kind;
    var wsel = document.getElementById("em-wedding");
    wsel.innerHTML = "";
    wsel.appendChild(el("option", { value: "", text: "— platform-wide —" }));
    p.weddings.forEach(function (x) { wsel.appendChild(el("option", { value: x.id, text: x.label })); });
    document.getElementById("em-reason").value = "";
    document.getElementById("em-errors").textContent = "";
    emDialog.showModal();
    document.getElementById("em-reason").focus();
  }
  document.getElementById("em-cancel").addEventListener("click", function () { emDialog.close(); });
  document.getElementById("emergency-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = { emergency_type: document.getElementById("em-type").value, reason: document.getElementById("em-reason").value };
    var wid = document.getElementById("em-wedding").value;
    if (wid) body.wedding = Number(wid);
    var submit = document.getElementById("em-submit");
    submit.disabled = true;
    api("/api/v1/incidents/", { method: "POST", body: body }).then(function (inc) {
      emDialog.close();
      say("Incident #" + inc.id + " declared: " + inc.title + ".");
      if (emTile) loadSnapshot([emTile.spec.id]);
    }).catch(function (err) {
      document.getElementById("em-errors").textContent = "Not declared: " + errorText(err);
    }).then(function () { submit.disabled = false; });
  });

  // ---------- snapshot ----------
  function applyPayload(w, p) {
    w.payload = p;
    if (p.error) {
      w.body.innerHTML = "";
      w.body.appendChild(el("p", { class: "tile-error", text: "⚠ " + p.error }));
      w.el.setAttribute("data-state", "crit");
      return;
    }
    if (w.spec.kind === "metric") renderMetric(w, p);
    else if (w.spec.kind === "chart") renderChart(w, p);
    else if (w.spec.kind === "status") renderStatus(w, p);
    else if (w.spec.kind === "alert" && isEmergency(w)) renderEmergency(w, p);
  }

  // Plotly (4.6 MB) is parsed after this file, so the socket and the data requests start
  // while the browser is still compiling it; rendering waits for it.
  function plotlyReady() {
    if (window.Plotly) return Promise.resolve();
    // plotly.min.js is deferred: it runs after parsing, at a moment no event marks exactly
    // (readyState is already "interactive" before deferred scripts run), so look for it.
    return new Promise(function (resolve, reject) {
      var tries = 0;
      (function check() {
        if (window.Plotly) return resolve();
        if (++tries > 1200) return reject(new Error("plotly.min.js did not load"));
        setTimeout(check, 25);
      })();
    });
  }

  // One request by default: the server computes the widgets side by side itself. Several
  // parallel requests (the old default, 4) queued on the server's one thread for sync
  // views and each paid the session/DRF overhead again (see docs/dashboards.md, Figures).
  var CHUNKS = Number((location.search.match(/[?&]chunks=(\d+)/) || [])[1]) || 1;
  function chunked(ids) {
    var parts = [];
    for (var i = 0; i < Math.min(CHUNKS, ids.length); i++) parts.push([]);
    ids.forEach(function (id, i) { parts[i % parts.length].push(id); });
    return parts;
  }

  function loadSnapshot(widgetIds) {
    var full = !widgetIds;
    var first = full && state.firstRenderMs === undefined;
    var ids = widgetIds || Object.keys(state.widgets).map(Number).filter(function (id) {
      return !(state.widgets[id].spec.kind === "alert" && !isEmergency(state.widgets[id]));
    });
    var extra = /[?&]downsample=0/.test(location.search) ? "&downsample=0" : ""; // comparisons only
    var started = performance.now();
    if (first) performance.mark("wso-snapshot-start");
    var parts = ids.length ? chunked(ids) : [];
    // The alert tiles' list rides along with the first part of a full snapshot.
    var withAlerts = full && parts.length && Object.keys(state.widgets).some(function (id) {
      return state.widgets[id].spec.kind === "alert" && !isEmergency(state.widgets[id]);
    });
    var seqs = {}; // stream -> its sequence number when the snapshot's reads began
    var p = Promise.all(parts.map(function (part, i) {
      var url = base + "data/?" + rangeQuery() + "&widgets=" + part.join(",") + extra + (withAlerts && i === 0 ? "&alerts=1" : "");
      // The first one was preloaded by the page's <head> (the same URL, made by the server).
      if (first && parts.length === 1 && cfg.firstDataUrl && state.from === cfg.from && state.to === cfg.to) url = cfg.firstDataUrl;
      var fetched = api(url);
      return Promise.all([fetched, plotlyReady()]).then(function (r) {
        var snap = r[0];
        if (snap.seqs) Object.assign(seqs, snap.seqs); else seqs.unknown = true;
        if (snap.alerts) {
          state.alerts = {};
          snap.alerts.forEach(function (a) { state.alerts[a.id] = a; });
          renderAlerts();
        }
        Object.keys(snap.widgets).forEach(function (id) {
          var w = state.widgets[id];
          if (w) applyPayload(w, snap.widgets[id]);
        });
      });
    })).then(function () {
      state.lastSnapshotMs = performance.now() - started;
      state.snapSeqs = seqs;
      updatedEl.textContent = "Updated " + window.wso.time.fmt(new Date());
      if (full) document.body.setAttribute("data-rendered", String(Date.now()));
      if (first) {
        state.firstRenderMs = performance.now(); // since navigation start: the bench's figure
        performance.mark("wso-rendered");
        state.firstPoints = Object.keys(state.widgets).reduce(function (n, id) {
          var w = state.widgets[id];
          return n + (w.plot ? w.plot.data.reduce(function (m, t) { return m + t.x.length; }, 0) : 0);
        }, 0);
      }
    }).catch(function (err) {
      say("Could not load data: " + errorText(err), true);
    });
    if (full && !withAlerts) p = Promise.all([p, loadAlerts()]);
    return p;
  }

  function resync(reason, spread) {
    if (state.resyncTimer) return;
    setConn("resync", "Resyncing…");
    // A feed blip tells every open page at once: spread their reloads over a few seconds.
    var delay = 150 + (spread ? Math.random() * spread : 0);
    state.resyncTimer = setTimeout(function () {
      state.resyncTimer = null;
      state.resyncs = (state.resyncs || 0) + 1;
      state.lastResync = reason;
      loadSnapshot().then(function () {
        if (state.ws && state.ws.readyState === WebSocket.OPEN) setConn("live", "Live");
      });
    }, delay);
  }

  // ---------- live samples ----------
  var statusRefresh = null;
  function onSamples(frame) {
    var last = state.seq[frame.stream];
    if (last !== undefined && last !== null && (frame.seq > last + 1 || frame.seq < last - 100)) {
      // A gap (frames lost), or numbers restarted (Redis lost its data): reload a snapshot.
      state.seq[frame.stream] = frame.seq;
      resync("gap on " + frame.name + ": " + last + " → " + frame.seq);
      return;
    }
    if (last === undefined || last === null || frame.seq > last) state.seq[frame.stream] = frame.seq;
    Object.keys(state.widgets).forEach(function (id) {
      var w = state.widgets[id];
      if (!w.payload || w.payload.error) return;
      if (w.spec.kind === "status") {
        if (w.spec.options && w.spec.options.section === "weddings") return;
        if (!statusRefresh) statusRefresh = setTimeout(function () { statusRefresh = null; loadSnapshot([Number(id)]); }, 1000);
        return;
      }
      w.spec.queries.forEach(function (q, qi) {
        if (q.name !== frame.name) return;
        frame.samples.forEach(function (s) {
          var labels = s[0], ts = s[1], value = s[2];
          if (!matches(labels, q.matchers)) return;
          var key = seriesKey(frame.name, labels);
          if (w.spec.kind === "metric" && qi === 0) {
            var part = w.parts[key];
            if (part && part.ts > ts) return;
            w.parts[key] = { key: key, value: value, ts: ts };
            if (w.rule) window.wso.ruleWindow.push(w.rule, ts, value, labels);
            w.spark.x.push(ts * 1000); w.spark.y.push(value);
            if (w.spark.x.length > 240) { w.spark.x.shift(); w.spark.y.shift(); }
            updateMetric(w, ts);
          } else if (w.spec.kind === "chart") {
            queueChartPoint(w, key, ts * 1000, value);
          }
        });
      });
    });
  }

  function queueChartPoint(w, key, x, y) {
    var idx = w.traceIndex[key];
    if (idx === undefined) { resync("new series " + key); return; }
    x = window.wsoChartTime.shift(x);
    if (x <= (w.lastX[key] || 0)) return; // already in the snapshot
    w.lastX[key] = x;
    var pend = state.pending[w.spec.id] = state.pending[w.spec.id] || {};
    var t = pend[idx] = pend[idx] || { x: [], y: [] };
    t.x.push(x); t.y.push(y);
    if (!state.rafQueued) { state.rafQueued = true; requestAnimationFrame(flushCharts); }
  }

  function flushCharts() {
    state.rafQueued = false;
    var now = Date.now();
    Object.keys(state.pending).forEach(function (id) {
      var w = state.widgets[id];
      var pend = state.pending[id];
      delete state.pending[id];
      if (!w || !w.plot) return;
      var idxs = Object.keys(pend).map(Number);
      var update = { x: idxs.map(function (i) { return pend[i].x; }), y: idxs.map(function (i) { return pend[i].y; }) };
      Plotly.extendTraces(w.plot, update, idxs, 2000);
      var lastX = Math.max.apply(null, update.x.map(function (xs) { return xs[xs.length - 1]; }));
      w.el.setAttribute("data-last", String(lastX));
      if (state.follow && state.range !== "custom" && !w.userZoom) {
        w.selfRelayout = true;
        var shown = window.wsoChartTime.shift(now);
        Plotly.relayout(w.plot, { "xaxis.range": [shown - rangeSeconds() * 1000, shown] }).then(function () { w.selfRelayout = false; });
      }
    });
  }

  // ---------- WebSocket ----------
  function connect() {
    setConn("connecting", state.retry ? "Reconnecting…" : "Connecting…");
    var ws = new WebSocket(window.wso.wsUrl("/ws/ops/"));
    state.ws = ws;
    ws.onopen = function () {
      performance.mark("wso-ws-open");
      if (state.reconnect) state.reconnect.then(function (core) { core.backoff.reset(); });
      ws.send(JSON.stringify({ op: "subscribe", series: cfg.series }));
    };
    ws.onmessage = function (ev) {
      var frame;
      try { frame = JSON.parse(ev.data); } catch (e) { return; }
      if (frame.op !== "samples" && frame.op !== "batch") document.dispatchEvent(new CustomEvent("wso:ops", { detail: frame })); // at-risk, banner
      if (frame.op === "subscribed") {
        Object.keys(frame.series).forEach(function (name) {
          var s = frame.series[name];
          state.seq[s.stream] = s.seq;
        });
        if (state.quietSubscribe) { state.quietSubscribe = false; return; }
        state.retry = 0;
        state.connects = (state.connects || 0) + 1;
        var live = function () { if (state.ws === ws && ws.readyState === WebSocket.OPEN) setConn("live", "Live"); };
        var early = state.firstSnapshot;
        state.firstSnapshot = null;
        if (early) {
          // The first snapshot was asked for at page start, beside the socket. No sample
          // fell between the two when every stream's number is the same in both;
          // otherwise (a sample was published in that moment) one more snapshot catches up.
          // The page is live meanwhile: the catch-up only adds that moment's samples.
          early.then(function () {
            var snap = state.snapSeqs || { unknown: true };
            var gap = snap.unknown || Object.keys(frame.series).some(function (name) {
              var s = frame.series[name];
              return snap[s.stream] === undefined || s.seq === null || s.seq !== snap[s.stream];
            });
            state.catchUp = gap;
            live();
            if (gap) loadSnapshot();
          });
        } else {
          // A reconnect: the snapshot is taken after subscribing, so nothing falls between.
          loadSnapshot().then(live);
        }
      } else if (frame.op === "samples") {
        onSamples(frame);
      } else if (frame.op === "batch") {
        frame.frames.forEach(onSamples);
      } else if (frame.op === "resync") {
        resync(frame.reason || "server asked", 3000);
      } else if (frame.op === "alert" && frame.alert) {
        state.alerts[frame.alert.id] = frame.alert;
        renderAlerts();
      } else if (frame.op === "incident") {
        Object.keys(state.widgets).forEach(function (id) {
          if (isEmergency(state.widgets[id])) loadSnapshot([Number(id)]);
        });
      } else if (frame.op === "error") {
        say("Live feed: " + frame.message, true);
      }
    };
    ws.onclose = function (ev) {
      if (state.ws !== ws) return;
      // One reconnect implementation in the browser: the client SDK's core (clients/js,
      // served at /static/wedsync-realtime/), loaded once on the first close.
      state.reconnect = state.reconnect || import(new URL("../wedsync-realtime/backoff.js",
        document.querySelector('script[src*="dashboards/dashboard"]').src).href).then(function (m) {
        return { backoff: new m.Backoff({ minMs: 500, maxMs: 10000 }), closeAction: m.closeAction };
      }, function () { // the module did not load: still come back, slowly
        return { backoff: { next: function () { return 5000; }, longest: function () { return 10000; }, reset: function () {} },
          closeAction: function (code) { return code === 4401 || code === 4403 ? "stop" : "retry"; } };
      });
      state.reconnect.then(function (core) {
        var action = core.closeAction(ev.code);
        if (action === "stop") { setConn("offline", "Signed out — log in again"); return; }
        var delay = action === "slow" ? core.backoff.longest() : core.backoff.next();
        state.retry += 1;
        state.retryDelay = delay;
        setConn("offline", "Offline — retrying in " + Math.ceil(delay / 1000) + " s");
        setTimeout(connect, delay);
      });
    };
  }
  // A silent dead socket (laptop sleep, proxy) shows as live forever unless we ping.
  setInterval(function () {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send('{"op":"ping"}');
  }, 25000);

  // ---------- toolbar ----------
  var customForm = document.getElementById("custom-range");
  function pressRange(r) {
    if (r === "rel") r = "custom";
    document.querySelectorAll(".range-btn").forEach(function (b) { b.setAttribute("aria-pressed", String(b.getAttribute("data-range") === r)); });
  }
  pressRange(state.range);
  if (cfg.notice) say(cfg.notice, true);
  // Back/Forward walk through the windows looked at, as in Grafana.
  window.addEventListener("popstate", function () {
    var u = TR.read();
    if (!setWindow(u.from || cfg.from, u.to || cfg.to)) return;
    pressRange(state.range);
    loadSnapshot();
  });
  document.querySelectorAll(".range-btn").forEach(function (b) {
    b.addEventListener("click", function () {
      var r = b.getAttribute("data-range");
      if (r === "custom") {
        customForm.hidden = !customForm.hidden;
        b.setAttribute("aria-expanded", String(!customForm.hidden));
        if (!customForm.hidden) document.getElementById("custom-start").focus();
        return;
      }
      setWindow("now-" + r, "now");
      TR.write(state.from, state.to);
      pressRange(r);
      Object.keys(state.widgets).forEach(function (id) { state.widgets[id].userZoom = false; });
      loadSnapshot();
    });
  });
  customForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var s = new Date(document.getElementById("custom-start").value).getTime() / 1000;
    var e = new Date(document.getElementById("custom-end").value).getTime() / 1000;
    if (!(e > s)) { say("Custom range: “To” must be after “From”.", true); return; }
    setWindow(String(Math.round(s * 1000)), String(Math.round(e * 1000)));
    TR.write(state.from, state.to);
    pressRange("custom");
    say("");
    loadSnapshot();
  });
  var followBox = document.getElementById("follow");
  followBox.addEventListener("change", function () {
    state.follow = followBox.checked;
    if (state.follow && state.range !== "custom") loadSnapshot();
  });
  if (state.range === "custom") {
    // An absolute window from the URL: fill the form with it, in the viewer's time.
    var local = function (t) { var d = new Date(t * 1000 - new Date(t * 1000).getTimezoneOffset() * 60000); return d.toISOString().slice(0, 16); };
    document.getElementById("custom-start").value = local(state.custom.start);
    document.getElementById("custom-end").value = local(state.custom.end);
  }
  // Auto-follow also refreshes the whole window now and then (aggregates, new series).
  setInterval(function () {
    if (state.follow && state.range !== "custom" && !document.hidden && !state.editing) loadSnapshot();
  }, 60000);

  // Wall mode: hide the menus and size the rows so every tile fits the screen.
  var wallBtn = document.getElementById("wall-btn");
  function fitWall() {
    grid.style.gridAutoRows = "";
    if (!document.body.classList.contains("wall")) return resizePlots();
    var rows = getComputedStyle(grid).gridTemplateRows.split(" ").length;
    var gap = parseFloat(getComputedStyle(grid).rowGap) || 0;
    var room = window.innerHeight - grid.getBoundingClientRect().top - 10;
    var h = Math.max(64, Math.floor((room - gap * (rows - 1)) / rows));
    grid.style.gridAutoRows = h + "px";
    resizePlots();
  }
  function resizePlots() {
    if (!window.Plotly) return;
    Object.keys(state.widgets).forEach(function (id) {
      if (state.widgets[id].plot) Plotly.Plots.resize(state.widgets[id].plot);
    });
  }
  function setWall(on) {
    document.body.classList.toggle("wall", on);
    wallBtn.setAttribute("aria-pressed", String(on));
    connEl.title = on ? "Wall mode: press Esc to show the menus" : "";
    fitWall();
  }
  wallBtn.addEventListener("click", function () { setWall(true); });
  document.getElementById("wall-exit").addEventListener("click", function () { setWall(false); wallBtn.focus(); });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && document.body.classList.contains("wall")) setWall(false);
  });
  window.addEventListener("resize", function () { if (document.body.classList.contains("wall")) fitWall(); });
  if (/[?&]wall=1/.test(location.search)) setTimeout(function () { setWall(true); }, 0);

  document.getElementById("export-btn").addEventListener("click", function () {
    api(base + "export/").then(function (doc) {
      var blob = new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" });
      var a = el("a", { href: URL.createObjectURL(blob), download: "dashboard-" + cfg.slug + ".json" });
      document.body.appendChild(a); a.click(); a.remove();
      say("Exported " + doc.widgets.length + " widgets.");
    }).catch(function (err) { say("Export failed: " + errorText(err), true); });
  });

  document.addEventListener("wso:theme", function () {
    var theme = plotTheme();
    Object.keys(state.widgets).forEach(function (id) {
      var w = state.widgets[id];
      if (w.plot) Plotly.relayout(w.plot, { font: theme.font, "xaxis.gridcolor": theme.xaxis.gridcolor, "yaxis.gridcolor": theme.yaxis.gridcolor });
    });
  });

  grid.addEventListener("click", function (ev) {
    var ack = ev.target.closest("[data-ack]");
    if (ack) { acknowledge(ack.getAttribute("data-ack"), ack); return; }
    var em = ev.target.closest("[data-emergency]");
    if (em) { declareEmergency(em.getAttribute("data-emergency"), em); return; }
    var tool = ev.target.closest("[data-tool]");
    if (tool && window.wsoEditor) window.wsoEditor.tool(tool.getAttribute("data-tool"), Number(tool.getAttribute("data-id")));
  });

  // The editor (dashboard-edit.js would be one more request; it is small, so it lives here).
  window.wsoEditor = (function () {
    if (!cfg.canEdit) return null;
    var editBtn = document.getElementById("edit-btn");
    var addBtn = document.getElementById("add-btn");
    var dialog = document.getElementById("widget-dialog");
    var form = document.getElementById("widget-form");
    var errors = document.getElementById("wf-errors");
    var editingId = null;
    var metricsLoaded = false;

    function spec(id) { return cfg.widgets.filter(function (w) { return w.id === id; })[0]; }
    function resubscribe() {
      var before = cfg.series.join(",");
      cfg.series = Array.from(new Set([].concat.apply(cfg.series, cfg.widgets.map(function (w) { return (w.queries || []).map(function (q) { return q.name; }); })))).sort();
      if (cfg.series.join(",") !== before && state.ws && state.ws.readyState === WebSocket.OPEN) {
        state.quietSubscribe = true; // the widget's own snapshot covers what came before
        state.ws.send(JSON.stringify({ op: "subscribe", series: cfg.series }));
      }
    }
    // Only the tile that changed is rebuilt and reloaded; the others keep drawing live.
    function showWidget(w) {
      var old = state.widgets[w.id] ? dropTile(w.id) : null;
      var tile = buildTile(w);
      var empty = document.getElementById("grid-empty");
      if (empty) empty.remove();
      if (old) grid.replaceChild(tile, old);
      else grid.appendChild(tile);
      resubscribe();
      if (w.kind === "alert" && !isEmergency(state.widgets[w.id])) loadAlerts();
      else loadSnapshot([w.id]);
    }
    function patch(id, body) {
      return api("/api/v1/dashboard-widgets/" + id + "/", { method: "PATCH", body: body }).then(function (w) {
        cfg.widgets = cfg.widgets.map(function (x) { return x.id === id ? w : x; });
        return w;
      });
    }
    function loadMetrics() {
      if (metricsLoaded) return;
      api("/api/v1/dashboards/known-metrics/").then(function (r) {
        metricsLoaded = true;
        var dl = document.getElementById("known-metrics");
        dl.innerHTML = "";
        r.metrics.forEach(function (m) { dl.appendChild(el("option", { value: m })); });
        document.getElementById("wf-extra").textContent = r.metrics.length + " known metrics: start typing to pick one.";
      }).catch(function () { document.getElementById("wf-extra").textContent = "Known metrics unavailable; type a metric name."; });
    }
    function showQueryFields() {
      var kind = document.getElementById("wf-kind").value;
      var q = kind === "metric" || kind === "chart";
      form.querySelectorAll(".q-only").forEach(function (n) { n.hidden = !q; });
    }
    document.getElementById("wf-kind").addEventListener("change", showQueryFields);
    function open(id) {
      editingId = id;
      var w = id ? spec(id) : { kind: "chart", title: "", queries: [{ name: "", matchers: {}, agg: "avg" }], thresholds: {}, unit: "", width: 4, height: 2 };
      var q = (w.queries && w.queries[0]) || { name: "", matchers: {}, agg: "avg" };
      var t = w.thresholds || {};
      document.getElementById("wd-title").textContent = id ? "Edit widget" : "Add widget";
      document.getElementById("wf-kind").value = w.kind;
      document.getElementById("wf-title").value = w.title;
      document.getElementById("wf-metric").value = q.name || "";
      document.getElementById("wf-matchers").value = Object.keys(q.matchers || {}).map(function (k) { return k + "=" + q.matchers[k]; }).join(", ");
      document.getElementById("wf-agg").value = q.agg || "avg";
      document.getElementById("wf-unit").value = w.unit || "";
      document.getElementById("wf-warn").value = t.warn == null ? "" : t.warn;
      document.getElementById("wf-crit").value = t.crit == null ? "" : t.crit;
      document.getElementById("wf-direction").value = t.direction || "above";
      document.getElementById("wf-width").value = w.width;
      document.getElementById("wf-height").value = w.height;
      errors.textContent = "";
      showQueryFields();
      loadMetrics();
      dialog.showModal();
      document.getElementById("wf-title").focus();
    }
    function parseMatchers(text) {
      var out = {};
      text.split(",").map(function (s) { return s.trim(); }).filter(Boolean).forEach(function (pair) {
        var i = pair.indexOf("=");
        if (i < 1) throw new Error("Labels: write name=value pairs separated by commas (got “" + pair + "”).");
        out[pair.slice(0, i).trim()] = pair.slice(i + 1).trim().replace(/^"|"$/g, "");
      });
      return out;
    }
    function num(id) { var v = document.getElementById(id).value; return v === "" ? null : Number(v); }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var kind = document.getElementById("wf-kind").value;
      var body = {
        kind: kind,
        title: document.getElementById("wf-title").value,
        width: num("wf-width"),
        height: num("wf-height"),
      };
      if (kind === "metric" || kind === "chart") {
        var old = editingId ? (spec(editingId).queries || []) : [];
        try {
          var q = { name: document.getElementById("wf-metric").value.trim(), matchers: parseMatchers(document.getElementById("wf-matchers").value), agg: document.getElementById("wf-agg").value };
          body.queries = [q].concat(old.slice(1));
        } catch (e) { errors.textContent = e.message; return; }
        body.unit = document.getElementById("wf-unit").value;
        body.thresholds = { warn: num("wf-warn"), crit: num("wf-crit"), direction: document.getElementById("wf-direction").value };
      } else {
        body.queries = [];
      }
      var req = editingId ? patch(editingId, body)
        : api("/api/v1/dashboard-widgets/", { method: "POST", body: Object.assign({ dashboard: cfg.slug }, body) }).then(function (w) { cfg.widgets.push(w); return w; });
      req.then(function (w) {
        dialog.close();
        say((editingId ? "Saved “" : "Added “") + w.title + "”.");
        showWidget(w);
      }).catch(function (err) { errors.textContent = errorText(err); });
    });
    document.getElementById("wf-cancel").addEventListener("click", function () { dialog.close(); });

    editBtn.addEventListener("click", function () {
      state.editing = !state.editing;
      editBtn.setAttribute("aria-pressed", String(state.editing));
      editBtn.textContent = state.editing ? "✓ Done" : "✎ Edit";
      addBtn.hidden = !state.editing;
      grid.classList.toggle("editing", state.editing);
    });
    addBtn.addEventListener("click", function () { open(null); });

    function reorder(id, delta) {
      var order = cfg.widgets.slice().sort(function (a, b) { return a.position - b.position || a.id - b.id; }).map(function (w) { return w.id; });
      var i = order.indexOf(id), j = i + delta;
      if (j < 0 || j >= order.length) return;
      order.splice(i, 1); order.splice(j, 0, id);
      api(base + "reorder/", { method: "POST", body: { order: order } }).then(function () {
        order.forEach(function (wid, pos) {
          spec(wid).position = pos;
          grid.appendChild(state.widgets[wid].el); // moves the node; its chart keeps drawing
        });
        var b = grid.querySelector('[data-tool="' + (delta < 0 ? "move-left" : "move-right") + '"][data-id="' + id + '"]');
        if (b) b.focus();
      }).catch(function (err) { say("Could not move: " + errorText(err), true); });
    }
    function resize(id, dw, dh) {
      var w = spec(id);
      var width = Math.max(1, Math.min(12, w.width + dw)), height = Math.max(1, Math.min(8, w.height + dh));
      if (width === w.width && height === w.height) return;
      patch(id, { width: width, height: height }).then(function (nw) {
        var tile = state.widgets[id].el;
        tile.style.setProperty("--w", nw.width);
        tile.style.setProperty("--h", nw.height);
        state.widgets[id].spec = nw;
        if (state.widgets[id].plot) Plotly.Plots.resize(state.widgets[id].plot);
      }).catch(function (err) { say("Could not resize: " + errorText(err), true); });
    }
    return {
      tool: function (name, id) {
        if (name === "edit") open(id);
        else if (name === "remove") {
          if (!window.confirm("Remove “" + spec(id).title + "” from this dashboard?")) return;
          api("/api/v1/dashboard-widgets/" + id + "/", { method: "DELETE" }).then(function () {
            cfg.widgets = cfg.widgets.filter(function (w) { return w.id !== id; });
            var gone = dropTile(id);
            if (gone) gone.remove();
            say("Widget removed.");
          }).catch(function (err) { say("Could not remove: " + errorText(err), true); });
        }
        else if (name === "move-left") reorder(id, -1);
        else if (name === "move-right") reorder(id, 1);
        else if (name === "narrower") resize(id, -1, 0);
        else if (name === "wider") resize(id, 1, 0);
        else if (name === "shorter") resize(id, 0, -1);
        else if (name === "taller") resize(id, 0, 1);
      },
    };
  })();

  buildGrid();
  // Data and socket at once: the first render no longer waits for the socket's handshake.
  state.firstSnapshot = loadSnapshot();
  connect();
})();
