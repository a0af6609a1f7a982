// A tile bound to an alert rule keeps the rule's window of samples and aggregates it the way
// the rule does (apps/alerts/evaluation.py), so the number on the tile is the number the
// rule compares with its threshold. window.wso.ruleWindow.{push, value}.
(function () {
  "use strict";
  function percentile(values, q) {
    var v = values.slice().sort(function (a, b) { return a - b; });
    if (v.length === 1) return v[0];
    var pos = (v.length - 1) * q, lo = Math.floor(pos), hi = Math.min(lo + 1, v.length - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - lo);
  }
  function aggregate(points, how) {
    if (how === "count") return points.length;
    if (!points.length) return null;
    var values = points.map(function (p) { return p[1]; });
    if (how === "last") return values[values.length - 1];
    if (how === "avg") return values.reduce(function (a, b) { return a + b; }, 0) / values.length;
    if (how === "min") return Math.min.apply(null, values);
    if (how === "max") return Math.max.apply(null, values);
    if (how === "p95") return percentile(values, 0.95);
    if (how === "rate") {
      if (points.length < 2) return null;
      var inc = 0;
      for (var i = 1; i < values.length; i++) inc += values[i] >= values[i - 1] ? values[i] - values[i - 1] : values[i];
      var span = points[points.length - 1][0] - points[0][0];
      return span > 0 ? inc / span : null;
    }
    return null;
  }
  function trim(rule, now) {
    var start = now - rule.window_seconds;
    while (rule.samples.length && rule.samples[0][0] < start) rule.samples.shift();
  }
  function key(labels) {
    return Object.keys(labels).sort().map(function (k) { return k + "=" + labels[k]; }).join(",");
  }
  window.wso = window.wso || {};
  window.wso.ruleWindow = {
    push: function (rule, ts, value, labels) {
      if (rule.labels && labels && key(labels) !== key(rule.labels)) return; // another series
      var last = rule.samples[rule.samples.length - 1];
      if (last && last[0] >= ts) return;
      rule.samples.push([ts, value]);
    },
    value: function (rule) {
      trim(rule, Date.now() / 1000);
      return aggregate(rule.samples, rule.aggregation);
    },
    aggregate: aggregate,
  };
})();
