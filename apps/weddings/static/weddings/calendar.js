// Draws the Insights charts: the figures are built server-side (Python Plotly) and arrive
// as JSON in <script type="application/json" id="calendar-charts">.
(function () {
  "use strict";
  var node = document.getElementById("calendar-charts");
  if (!node || !window.Plotly) return;
  var charts = JSON.parse(node.textContent);
  var config = window.wso.plotConfig({ displayModeBar: false });
  function fontColour() {
    return document.documentElement.getAttribute("data-theme") === "dark" ? "#e6e6e6" : "#222";
  }
  function draw() {
    charts.forEach(function (chart) {
      var el = document.getElementById("chart-" + chart.id);
      if (!el) return;
      var layout = Object.assign({}, chart.figure.layout, { font: { color: fontColour() } });
      window.Plotly.react(el, chart.figure.data, layout, config);
      el.setAttribute("data-drawn", "true");
    });
  }
  draw();
  document.addEventListener("wso:theme", draw);
})();
