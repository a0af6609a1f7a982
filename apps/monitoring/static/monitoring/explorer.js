// Metric explorer: pick a metric, its labels, a range and an aggregation; draw the
// query API's answer with Plotly. State lives in the URL so a view can be shared.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("explorer-config").textContent);
  var form = document.getElementById("explorer");
  var metric = document.getElementById("metric");
  var range = document.getElementById("range");
  var agg = document.getElementById("agg");
  var step = document.getElementById("step");
  var filters = document.getElementById("label-filters");
  var statusEl = document.getElementById("status");
  var chart = document.getElementById("chart");
  var auto = document.getElementById("auto");
  var timer = null;
  var params = new URLSearchParams(location.search);

  function option(select, value, text) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    select.appendChild(o);
  }
  function say(text, isError) {
    statusEl.textContent = text;
    statusEl.classList.toggle("error", !!isError);
  }

  if (!config.names.length) option(metric, "", "(no metrics yet)");
  config.names.forEach(function (n) { option(metric, n, n); });
  metric.value = config.name;
  config.ranges.forEach(function (r) { option(range, r.key, r.label); });
  range.value = config.range;
  config.aggregations.forEach(function (a) { option(agg, a, a); });
  agg.value = config.agg;
  if (params.get("step")) step.value = params.get("step");

  function loadLabels(selected) {
    filters.textContent = "";
    if (!metric.value) return Promise.resolve();
    return window.wso.api("/api/v1/metrics/names/?name=" + encodeURIComponent(metric.value))
      .then(function (body) {
        Object.keys(body.labels).forEach(function (key) {
          var label = document.createElement("label");
          label.textContent = key;
          var select = document.createElement("select");
          select.name = "label." + key;
          select.dataset.label = key;
          option(select, "", "any");
          body.labels[key].forEach(function (v) { option(select, v, v); });
          if (selected && selected[key]) select.value = selected[key];
          label.appendChild(select);
          filters.appendChild(label);
        });
      });
  }

  function chosenLabels() {
    var out = {};
    filters.querySelectorAll("select").forEach(function (s) { if (s.value) out[s.dataset.label] = s.value; });
    return out;
  }

  function seriesName(labels) {
    var keys = Object.keys(labels).sort();
    if (!keys.length) return metric.value;
    return keys.map(function (k) { return k + "=" + labels[k]; }).join(", ");
  }

  function draw() {
    if (!metric.value) { say("No metrics stored yet."); return; }
    var seconds = config.ranges.filter(function (r) { return r.key === range.value; })[0].seconds;
    var end = Date.now() / 1000;
    var q = new URLSearchParams({ name: metric.value, start: String(end - seconds), end: String(end), agg: agg.value });
    if (step.value) q.set("step", step.value);
    var labels = chosenLabels();
    Object.keys(labels).forEach(function (k) { q.set("label." + k, labels[k]); });
    var share = new URLSearchParams({ name: metric.value, range: range.value, agg: agg.value });
    if (auto.checked) share.set("auto", "1");
    if (step.value) share.set("step", step.value);
    Object.keys(labels).forEach(function (k) { share.set("label." + k, labels[k]); });
    history.replaceState(null, "", "?" + share.toString());
    say("Loading…");
    window.wso.api("/api/v1/metrics/query/?" + q.toString()).then(function (body) {
      var dark = document.documentElement.getAttribute("data-theme") === "dark";
      var traces = body.series.map(function (s) {
        return {
          type: "scatter", mode: "lines", name: seriesName(s.labels),
          x: s.points.map(function (p) { return new Date(p[0] * 1000); }),
          y: s.points.map(function (p) { return p[1]; }),
        };
      });
      var points = body.series.reduce(function (n, s) { return n + s.points.length; }, 0);
      if (!points) {
        Plotly.purge(chart);
        say("No samples of " + metric.value + " in this range.");
        return;
      }
      Plotly.react(chart, traces, {
        margin: { t: 20, r: 20, b: 40, l: 60 },
        paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
        font: { color: dark ? "#e7eaf0" : "#1c2230" },
        xaxis: { type: "date" }, yaxis: { title: { text: agg.value + " of " + metric.value }, rangemode: "tozero" },
        legend: { orientation: "h" }, showlegend: traces.length > 1,
        modebar: { bgcolor: "rgba(0,0,0,0)", color: dark ? "#a3acbd" : "#5b6475" },
      }, window.wso.plotConfig());
      say(body.series.length + " series, " + points + " points, step " + body.step + " s from " +
        body.source + (body.thinned ? " (thinned to keep peaks)" : ""));
    }).catch(function (err) {
      say((err.body && err.body.detail) || ("Query failed: " + err.message), true);
    });
  }

  var initial = {};
  params.forEach(function (v, k) { if (k.indexOf("label.") === 0) initial[k.slice(6)] = v; });
  metric.addEventListener("change", function () { loadLabels().then(draw); });
  form.addEventListener("submit", function (e) { e.preventDefault(); draw(); });
  document.addEventListener("wso:theme", draw);
  auto.checked = params.get("auto") === "1";
  function schedule() {
    if (timer) clearInterval(timer);
    timer = auto.checked ? setInterval(draw, 10000) : null;
  }
  auto.addEventListener("change", schedule);
  schedule();
  loadLabels(initial).then(draw);
})();
