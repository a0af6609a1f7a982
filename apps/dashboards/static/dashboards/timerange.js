// The dashboard's time window as Grafana spells it in the URL: ?from=now-24h&to=now
// (relative: follows the clock) or ?from=<epoch ms>&to=<epoch ms> (absolute). The server
// parses the same spellings (apps/dashboards/timerange.py) for the data API.
(function () {
  "use strict";
  var UNIT = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

  // One bound -> {t: unix seconds, rel: moves with the clock}; null when unreadable.
  function bound(raw, nowS) {
    raw = String(raw || "").trim();
    var m = /^now(?:-(\d{1,6})([smhdw]))?$/.exec(raw);
    if (m) return { t: nowS - (m[1] ? Number(m[1]) * UNIT[m[2]] : 0), rel: true };
    if (/^\d+$/.test(raw)) return { t: Number(raw) / 1000, rel: false };
    var d = new Date(raw);
    return isNaN(d.getTime()) ? null : { t: d.getTime() / 1000, rel: false };
  }

  // {start, end, relative, preset}: preset is the button's key ("24h") when one matches.
  function parse(from, to, presets) {
    var now = Date.now() / 1000;
    var a = bound(from, now), b = bound(to, now);
    if (!a || !b || !(b.t > a.t)) return null;
    var relative = a.rel && b.rel && String(to).trim() === "now";
    var preset = null;
    if (relative) {
      Object.keys(presets || {}).forEach(function (k) { if (String(from).trim() === "now-" + k) preset = k; });
    }
    return { start: a.t, end: b.t, relative: relative, preset: preset, span: b.t - a.t };
  }

  // The data API's query for a window (presets keep their short form).
  function apiQuery(from, to, presets) {
    var w = parse(from, to, presets);
    if (!w) return "";
    if (w.preset) return "range=" + w.preset;
    if (w.relative) return "from=" + encodeURIComponent(from) + "&to=now";
    return "start=" + w.start + "&end=" + w.end;
  }

  // Puts the window in the address bar (a new history entry: Back returns to the last one).
  function write(from, to) {
    var params = new URLSearchParams(location.search);
    if (params.get("from") === from && params.get("to") === to) return;
    params.set("from", from);
    params.set("to", to);
    history.pushState({ from: from, to: to }, "", location.pathname + "?" + params.toString() + location.hash);
  }

  function read() {
    var params = new URLSearchParams(location.search);
    return { from: params.get("from"), to: params.get("to") };
  }

  window.wsoTimeRange = { parse: parse, apiQuery: apiQuery, write: write, read: read };
})();

// Plotly draws epoch milliseconds in the viewer's zone: the charts follow the time policy
// as they are; the hover names the zone ("14:05:09 CET") and the toolbar says which it is.
(function () {
  "use strict";
  var ZONE = (new Intl.DateTimeFormat("en-GB", { timeZoneName: "short" }).formatToParts(new Date())
    .filter(function (p) { return p.type === "timeZoneName"; })[0] || { value: "" }).value;
  function shift(x) { return x; }
  function toViewerZone(fig) {
    var xa = fig.layout.xaxis = fig.layout.xaxis || {};
    xa.hoverformat = "%d %b %H:%M:%S " + ZONE;
    return fig;
  }
  window.wsoChartTime = { shift: shift, toViewerZone: toViewerZone, zone: ZONE };
})();
