// Quota budget panel (Wedding Day dashboard): suppliers whose quota will not hold their
// coming weddings, with the numbers; admins raise the quota in one click.
(function () {
  "use strict";
  var box = document.getElementById("quota-budget");
  if (!box) return;
  var list = document.getElementById("quota-list");
  var canRaise = box.getAttribute("data-can-raise") === "true";
  var api = window.wso.api;
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (k === "text") node.textContent = attrs[k]; else node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  function load() {
    api("/api/v1/quota-budget/?hours=48").then(function (res) {
      box.hidden = !res.count;
      document.getElementById("quota-count").textContent = res.count ? "(" + res.count + ")" : "";
      list.replaceChildren.apply(list, res.results.map(function (q) {
        var when = new Date(q.peak_starts_at);
        var item = el("li", { "data-supplier": q.supplier }, [
          el("strong", { text: q.supplier_name }), ": ",
          el("span", { class: "numbers", text: q.expected + " expected vs quota " + q.max_connections + " (" + q.overlapping + " overlapping wedding(s), from " +
            when.toISOString().slice(0, 16).replace("T", " ") + " UTC, in " + q.hours_ahead + " h)" }),
          el("div", { class: "muted small", text: q.weddings.map(function (w) { return w.couple_name + " at " + w.venue + ": " + w.expected_connections; }).join(" · ") }),
        ]);
        if (canRaise) {
          var b = el("button", { type: "button", class: "btn-secondary", "data-raise": q.supplier, text: "Raise quota to " + q.suggested_max });
          b.addEventListener("click", function () {
            b.disabled = true;
            api("/api/v1/suppliers/" + q.supplier + "/", { method: "PATCH", body: { max_connections: q.suggested_max } })
              .then(load, function (err) { b.disabled = false; b.textContent = "Not raised: " + ((err.body && JSON.stringify(err.body)) || err.message); });
          });
          item.appendChild(b);
        }
        return item;
      }));
    }, function () { /* the panel stays as it was */ });
  }
  load();
  setInterval(load, 60000);
})();
