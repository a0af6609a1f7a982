// "Weddings at risk": ranked live weddings with their reasons, refreshed within a moment of
// any alert or incident frame on /ws/ops/ (the page's own socket, shared through "wso:ops"
// events; pages without one, e.g. Overview, open it here).
(function () {
  "use strict";
  var box = document.getElementById("at-risk");
  if (!box) return;
  var list = document.getElementById("at-risk-list");
  var count = document.getElementById("at-risk-count");
  var api = window.wso.api;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k]; else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  function venueTime(iso, tz) {
    var d = new Date(iso);
    try {
      return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: tz, timeZoneName: "short" }).format(d);
    } catch (e) { return d.toISOString().slice(11, 16) + " UTC"; }
  }
  function render(rows) {
    box.classList.toggle("is-quiet", !rows.length);
    count.textContent = rows.length ? "(" + rows.length + ")" : "";
    if (!rows.length) {
      list.replaceChildren(el("li", { class: "muted", "data-testid": "no-risk", text: "✓ No live wedding is touched by an incident, an alert or a degraded venue." }));
      return;
    }
    list.replaceChildren.apply(list, rows.slice(0, 25).map(function (w) {
      var reasons = el("ul", { class: "reasons" }, w.reasons.slice(0, 4).map(function (r) {
        var text = r.url ? el("a", { href: r.url, text: r.text }) : el("span", { text: r.text });
        return el("li", { class: "sev-" + r.severity }, [text]);
      }));
      if (w.reasons.length > 4) reasons.appendChild(el("li", { class: "muted", text: (w.reasons.length - 4) + " more reason(s)" }));
      return el("li", { "data-wedding": w.id, class: "risk-" + w.reasons[0].severity }, [
        el("span", { class: "couple", text: w.couple_name }), " ",
        el("span", { class: "where" }, [" at " + w.venue_name + " · from ",
          el("time", { datetime: w.starts_at, title: new Date(w.starts_at).toISOString().slice(0, 16).replace("T", " ") + " UTC", text: venueTime(w.starts_at, w.venue_timezone) })]),
        reasons,
      ]);
    }));
    if (rows.length > 25) list.appendChild(el("li", { class: "muted", text: "and " + (rows.length - 25) + " more" }));
  }
  var seq = 0;
  function load() {
    var mine = ++seq;
    return api("/api/v1/weddings-at-risk/").then(function (res) { if (mine === seq) render(res.results); }, function () {
      if (mine === seq) list.replaceChildren(el("li", { class: "error", text: "Could not load the weddings at risk." }));
    });
  }
  var timer = null;
  function soon() { clearTimeout(timer); timer = setTimeout(load, 150); }
  document.addEventListener("wso:ops", function (ev) {
    var op = ev.detail && ev.detail.op;
    if (op === "alert" || op === "incident" || op === "hello") soon();
  });
  if (box.getAttribute("data-own-socket") === "true") {
    var retry = 0;
    (function connect() {
      var ws = new WebSocket(window.wso.wsUrl("/ws/ops/"));
      ws.onopen = function () { retry = 0; };
      ws.onmessage = function (msg) {
        var frame; try { frame = JSON.parse(msg.data); } catch (e) { return; }
        document.dispatchEvent(new CustomEvent("wso:ops", { detail: frame }));
      };
      ws.onclose = function (ev) { if (ev.code !== 4403) setTimeout(connect, Math.min(10000, 1000 * Math.pow(2, retry++))); };
    })();
  }
  load();
  setInterval(load, 30000); // degraded venues and weddings going live change without a frame
})();
