// Wedding status page: keeps the page current over one WebSocket (/ws/status/<token>/),
// polling summary.json when sockets are blocked. Every value from the server is written
// with textContent, never as HTML, so nothing in a name or an update can run.
(function () {
  "use strict";
  var ICONS = {operational: "✓", degraded_performance: "◐", partial_outage: "▲",
    major_outage: "✕", under_maintenance: "⚙"};
  var LABELS = {operational: "Operational", degraded_performance: "Degraded performance",
    partial_outage: "Partial outage", major_outage: "Major outage",
    under_maintenance: "Under maintenance"};
  var INDICATOR = {none: "operational", minor: "degraded_performance", major: "partial_outage",
    critical: "major_outage", maintenance: "under_maintenance"};
  var WORDS = {investigating: "Investigating", identified: "Identified", monitoring: "Monitoring",
    resolved: "Resolved", scheduled: "Scheduled", in_progress: "In progress",
    verifying: "Verifying", completed: "Completed"};
  var cfg = JSON.parse(document.getElementById("status-config").textContent);
  var base = location.pathname.replace(/[^/]*$/, "");  // .../status/<token>/
  var token = base.split("/").filter(Boolean).pop();
  var tz = null, lastText = "";
  // Captured now: document.currentScript is null inside later callbacks.
  var scriptSrc = (document.currentScript || {}).src || location.href;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function hhmm(iso) {
    if (!iso) return "";
    try {
      return new Intl.DateTimeFormat("en-GB", {hour: "2-digit", minute: "2-digit",
        hour12: false, timeZone: tz}).format(new Date(iso));
    } catch (e) { return iso.slice(11, 16); }
  }
  function replace(id, nodes, empty) {
    var box = document.getElementById(id);
    box.textContent = "";
    if (!nodes.length && empty) box.appendChild(el("p", "none", empty));
    nodes.forEach(function (n) { box.appendChild(n); });
  }
  function render(s) {
    tz = s.page.time_zone;
    var state = INDICATOR[s.status.indicator] || "operational";
    var overall = document.getElementById("overall");
    overall.className = "overall st-" + state;
    overall.querySelector(".icon").textContent = ICONS[state];
    document.getElementById("overall-text").textContent = s.status.description;
    replace("components", s.components.map(function (c) {
      var li = el("li", "comp st-" + c.status);
      li.setAttribute("data-id", c.id);
      var icon = el("span", "icon", ICONS[c.status]);
      icon.setAttribute("aria-hidden", "true");
      li.appendChild(icon);
      li.appendChild(el("span", "name", c.name));
      li.appendChild(el("span", "state", LABELS[c.status] || c.status));
      li.appendChild(el("span", "desc", c.description));
      return li;
    }));
    replace("incidents", s.incidents.map(function (i) { return article(i, false); }),
      "No incidents touching this wedding.");
    replace("maintenances", s.scheduled_maintenances.map(function (m) { return article(m, true); }),
      "No maintenance planned on the day.");
  }
  function article(item, maint) {
    var a = el("article", maint ? "incident maint" : "incident");
    a.setAttribute("data-id", item.id);
    a.appendChild(el("h3", null, item.name));
    var meta = el("p", "meta");
    meta.appendChild(el("span", "badge", WORDS[item.status] || item.status));
    meta.appendChild(document.createTextNode(maint
      ? " " + hhmm(item.scheduled_for) + "–" + hhmm(item.scheduled_until)
      : " since " + hhmm(item.started_at || item.created_at)));
    a.appendChild(meta);
    if (!maint) {
      var ol = el("ol", "timeline");
      item.incident_updates.forEach(function (u) {
        var li = el("li");
        li.appendChild(el("span", "t", hhmm(u.display_at)));
        li.appendChild(document.createTextNode(" "));
        li.appendChild(el("strong", null, WORDS[u.status] || u.status));
        li.appendChild(document.createTextNode(" — " + u.body));
        ol.appendChild(li);
      });
      a.appendChild(ol);
    }
    return a;
  }
  function stamp(how) {
    var now = new Date(), text;
    try {  // the venue's clock, like every other time on the page
      text = new Intl.DateTimeFormat("en-GB", {hour: "2-digit", minute: "2-digit",
        second: "2-digit", hour12: false, timeZone: tz || undefined}).format(now);
    } catch (e) { text = now.toTimeString().slice(0, 8); }
    document.getElementById("live").textContent = how + " · updated " + text;
  }
  function apply(summary, how) {
    var text = JSON.stringify(summary);
    if (text !== lastText) { lastText = text; render(summary); }
    stamp(how);
  }

  var polling = null, failures = 0;
  function poll() {
    if (polling) return;
    var tick = function () {
      fetch(base + "summary.json", {cache: "no-store", credentials: "omit"})
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (s) { apply(s, "Checking every " + cfg.poll + " s"); })
        .catch(function () { stamp("Offline, retrying"); });
    };
    tick();
    polling = setInterval(tick, cfg.poll * 1000);
  }
  // One reconnect implementation in the browser: the client SDK's core (clients/js,
  // served at /static/wedsync-realtime/), as the ops dashboards use it; loaded on the first
  // close, so the page's first render does not wait for it.
  var reconnect = null;
  function reconnectCore() {
    reconnect = reconnect || import(new URL("../wedsync-realtime/backoff.js", scriptSrc).href)
      .then(function (m) {
        return {backoff: new m.Backoff({minMs: 1000, maxMs: 30000}), closeAction: m.closeAction,
          restartHint: m.restartHint};
      }, function () {  // the module did not load: still come back, slowly
        return {backoff: {next: function () { return 15000; }, longest: function () { return 30000; },
          within: function (lo, hi) { return hi; }, reset: function () {}},
          closeAction: function () { return "retry"; }, restartHint: function () { return null; }};
      });
    return reconnect;
  }
  function connect() {
    if (!("WebSocket" in window)) return poll();
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws, opened = false;
    try { ws = new WebSocket(proto + location.host + "/ws/status/" + token + "/"); }
    catch (e) { return poll(); }
    ws.onopen = function () {
      opened = true; failures = 0;
      if (reconnect) reconnect.then(function (core) { core.backoff.reset(); });
    };
    ws.onmessage = function (ev) {
      var frame;
      try { frame = JSON.parse(ev.data); } catch (e) { return; }
      if (frame.op === "summary") {
        if (polling) { clearInterval(polling); polling = null; }
        apply(frame.summary, "Live");
      }
    };
    ws.onclose = function (ev) {
      if (ev.code === 4404) { stamp("This link is no longer valid"); return; }
      failures += 1;
      // Blocked or flaky: poll meanwhile, and try the socket again after the SDK's backoff
      // (a server restart's 1012 carries the window to come back in: 2,000 viewers of one
      // page spread over it instead of arriving at once).
      poll();
      if (!opened && failures >= 3) return;  // a proxy that refuses sockets: stay on polling
      reconnectCore().then(function (core) {
        var action = core.closeAction(ev.code);
        if (action === "stop") return;  // refused for good: polling goes on
        var hint = action === "restart" ? core.restartHint(ev.reason) : null;
        var delay = hint ? core.backoff.within(hint[0], hint[1])
          : action === "slow" ? core.backoff.longest() : core.backoff.next();
        setTimeout(connect, delay);
      });
    };
  }
  connect();
})();
