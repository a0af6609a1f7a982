// The scaling page's chart: forecast vs actual vs capacity, data from json_script.
(function () {
  "use strict";
  var node = document.getElementById("scaling-chart-data");
  var target = document.getElementById("scaling-chart");
  if (!node || !target || !window.Plotly) return;
  var data = JSON.parse(node.textContent);
  var dark = document.documentElement.getAttribute("data-theme") === "dark";
  var traces = [
    { name: "Forecast", x: data.forecast.x, y: data.forecast.y, mode: "lines",
      line: { shape: "hv", dash: "dot", color: "#7b5cd6" } },
    { name: "Weddings part", x: data.forecast.x, y: data.forecast.weddings, mode: "lines",
      line: { shape: "hv", width: 1, color: "#e28bbd" }, fill: "tozeroy" },
    { name: "Actual", x: data.actual.x, y: data.actual.y, mode: "lines",
      line: { color: "#1f8a70" } },
    { name: "Capacity", x: data.capacity.x, y: data.capacity.y, mode: "lines",
      line: { shape: "hv", color: "#d9534f", width: 2 } },
    { name: "Target (75 %)", x: data.capacity.x, y: data.capacity.target, mode: "lines",
      line: { shape: "hv", color: "#d9534f", width: 1, dash: "dash" } }
  ];
  var layout = {
    margin: { t: 10, r: 10, b: 40, l: 60 },
    yaxis: { title: { text: "connections" }, rangemode: "tozero" },
    xaxis: { type: "date" },
    legend: { orientation: "h" },
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    font: { color: dark ? "#ddd" : "#222" },
    shapes: [{ type: "line", xref: "x", yref: "paper", x0: new Date().toISOString(),
               x1: new Date().toISOString(), y0: 0, y1: 1, line: { color: "#888", dash: "dot" } }]
  };
  window.Plotly.newPlot(target, traces, layout, window.wso.plotConfig());
})();
