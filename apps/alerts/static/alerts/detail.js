// Alert detail page: the metric around the episode with the threshold, acknowledge and
// unacknowledge with a comment, reload when this alert changes (frames from /ws/ops/).
(function () {
  "use strict";
  var api = window.wso.api;
  var cfg = JSON.parse(document.getElementById("alert-chart").textContent);
  var box = document.getElementById("alert-detail");
  var errorEl = document.getElementById("alert-error");

  function showError(err) {
    var body = (err && err.body) || {};
    errorEl.textContent = body.detail || Object.keys(body).map(function (k) { return k + ": " + body[k]; }).join(" · ") || String(err);
    errorEl.hidden = false;
  }

  function drawGraph() {
    var node = document.getElementById("alert-graph");
    var now = Date.now() / 1000;
    var start = (cfg.started_at || now - 3600) - Math.max(1800, cfg.window_seconds * 3);
    var end = Math.min(now, (cfg.resolved_at || now) + 900);
    var params = new URLSearchParams({ name: cfg.metric, start: String(start), end: String(end), agg: "avg" });
    Object.keys(cfg.labels || {}).forEach(function (k) { params.append("label." + k, cfg.labels[k]); });
    api("/api/v1/metrics/query/?" + params.toString()).then(function (res) {
      var exact = (res.series || []).filter(function (s) {
        var keys = Object.keys(s.labels || {});
        return keys.length === Object.keys(cfg.labels || {}).length;
      });
      var series = exact.length ? exact : res.series || [];
      node.innerHTML = "";
      if (!series.length || !window.Plotly) { node.textContent = "No samples of " + cfg.metric + " in this window."; return; }
      var traces = series.map(function (s) {
        return { x: s.points.map(function (p) { return new Date(p[0] * 1000); }), y: s.points.map(function (p) { return p[1]; }),
          type: "scatter", mode: "lines", name: cfg.metric };
      });
      var shapes = [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: cfg.threshold, y1: cfg.threshold, line: { color: "#c0392b", dash: "dash" } }];
      var annotations = [{ xref: "paper", x: 1, y: cfg.threshold, xanchor: "right", yanchor: "bottom", showarrow: false,
        text: "threshold " + cfg.threshold + (cfg.unit ? " " + cfg.unit : ""), font: { color: "#c0392b", size: 11 } }];
      if (cfg.started_at) {
        shapes.push({ type: "rect", xref: "x", yref: "paper", x0: new Date(cfg.started_at * 1000), x1: new Date((cfg.resolved_at || now) * 1000),
          y0: 0, y1: 1, fillcolor: "rgba(255,120,80,.12)", line: { width: 0 } });
      }
      window.Plotly.newPlot(node, traces, {
        margin: { l: 50, r: 10, t: 10, b: 40 }, height: 260, showlegend: false, shapes: shapes, annotations: annotations,
        yaxis: { title: { text: cfg.unit || "" } }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      }, { displayModeBar: false, displaylogo: false, showLink: false, showSendToCloud: false, responsive: true });
      node.setAttribute("data-drawn", "true");
    }, function (err) { node.textContent = "Could not load the metric: " + (err.message || err); });
  }

  var form = document.getElementById("ack-form");
  if (form) form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var action = form.querySelector("button[data-action]").getAttribute("data-action");
    api("/api/v1/alerts/" + cfg.alert + "/" + action + "/", { method: "POST", body: { comment: form.comment.value } })
      .then(function () { location.reload(); }, showError);
  });

  document.addEventListener("wso:ops", function (ev) {
    var frame = ev.detail || {};
    if (frame.op === "alert" && frame.alert && frame.alert.id === cfg.alert &&
        (frame.alert.state !== box.getAttribute("data-state") || String(frame.alert.acknowledged) !== box.getAttribute("data-acknowledged"))) {
      location.reload();
    }
  });
  drawGraph();
})();
