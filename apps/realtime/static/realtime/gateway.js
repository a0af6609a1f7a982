// Gateway page: refresh the health report every 2 s (no inline script: strict CSP).
(function () {
  "use strict";
  var cards = document.getElementById("gw-cards");
  if (!cards) return;
  var url = cards.dataset.healthUrl;
  function dash(v) { return v === null || v === undefined ? "–" : String(v); }
  function setKey(key, text) {
    var el = cards.querySelector('[data-key="' + key + '"]');
    if (el) el.textContent = text;
  }
  function rows(tbody, list, empty, cols) {
    tbody.replaceChildren();
    if (!list.length) {
      var tr = document.createElement("tr"), td = document.createElement("td");
      td.colSpan = cols; td.className = "empty"; td.textContent = empty;
      tr.appendChild(td); tbody.appendChild(tr); return;
    }
    list.forEach(function (cells) {
      var tr = document.createElement("tr");
      cells.forEach(function (c) { var td = document.createElement("td"); td.textContent = dash(c); tr.appendChild(td); });
      tbody.appendChild(tr);
    });
  }
  function render(r) {
    ["connections", "subscriptions", "messages_in_per_s", "messages_out_per_s",
     "quota_rejections", "replays_served", "outbox_pending"].forEach(function (k) { setKey(k, dash(r[k])); });
    setKey("latency", dash(r.latency_ms.p50) + " / " + dash(r.latency_ms.p95) + " / " + dash(r.latency_ms.p99));
    var b = cards.querySelector('[data-key="breaker"]');
    var badge = document.createElement("span");
    badge.className = "badge " + (r.breaker_open ? "badge-firing" : "badge-resolved");
    badge.textContent = r.breaker_open ? "open" : "closed";
    b.replaceChildren(badge);
    rows(document.querySelector("#gw-suppliers tbody"),
         (r.suppliers || []).map(function (x) { return [(x.name || "unknown supplier") + " #" + x.id, x.connections, x.max_connections]; }),
         "No supplier connected.", 3);
    rows(document.querySelector("#gw-procs tbody"),
         r.per_process.map(function (p) { return [p.proc, p.connections, p.subscriptions, p.deliveries_per_s]; }),
         "No gateway process has reported yet.", 4);
    document.getElementById("gw-updated").textContent = "Updated " + window.wso.time.fmt(new Date());
  }
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (r) { if (r) render(r); })
      .catch(function () {})
      .finally(function () { setTimeout(tick, 2000); });
  }
  setTimeout(tick, 2000);
})();
