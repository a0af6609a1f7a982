// The cache page: fills every [data-stat] from /api/v1/cache/stats/ every 2 s and
// draws the hit ratio per tier over the time the page has been open.
(function () {
  "use strict";
  var chart = document.getElementById("cache-chart");
  var started = false;

  function lookup(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? o : o[k]; }, obj);
  }
  function format(value, kind) {
    if (value === null || value === undefined) return "–";
    if (kind === "pct") return (value * 100).toFixed(1) + " %";
    if (kind === "x") return value.toFixed(2) + "×";
    if (kind === "bytes") {
      if (value >= 1048576) return (value / 1048576).toFixed(1) + " MB";
      if (value >= 1024) return (value / 1024).toFixed(1) + " KB";
      return value + " B";
    }
    return typeof value === "number" ? value.toLocaleString() : String(value);
  }
  function render(stats) {
    document.querySelectorAll("[data-stat]").forEach(function (el) {
      el.textContent = format(lookup(stats, el.getAttribute("data-stat")), el.getAttribute("data-format"));
    });
    var source = document.getElementById("cache-source");
    if (source && stats.source) source.textContent = stats.source;
    plot(stats);
  }
  function plot(stats) {
    if (!window.Plotly || !chart) return;
    var now = new Date();
    var tiers = ["total", "l1", "l2"];
    var ys = tiers.map(function (t) { var r = stats.tiers[t].hit_ratio; return [r == null ? null : r * 100]; });
    if (!started) {
      started = true;
      var dark = document.documentElement.getAttribute("data-theme") === "dark";
      Plotly.newPlot(chart, tiers.map(function (t, i) {
        return { x: [now], y: ys[i], name: t.toUpperCase(), mode: "lines+markers", type: "scatter" };
      }), {
        margin: { l: 44, r: 10, t: 30, b: 40 },
        yaxis: { title: "hit %", range: [0, 100] },
        paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
        font: { color: dark ? "#ddd" : "#333" }, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" }
      }, window.wso.plotConfig({ displayModeBar: false }));
    } else {
      Plotly.extendTraces(chart, { x: tiers.map(function () { return [now]; }), y: ys }, [0, 1, 2], 300);
    }
  }
  function tick() {
    window.wso.api("/api/v1/cache/stats/").then(render).catch(function () { /* next tick */ });
  }
  var initial = document.getElementById("cache-initial");
  if (initial) render(JSON.parse(initial.textContent));
  setInterval(tick, 2000);
})();
