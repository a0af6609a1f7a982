// The open-incident banner on every page: refreshed on incident frames from the page's
// /ws/ops/ socket ("wso:ops" events), and every 15 s on pages that have none.
(function () {
  "use strict";
  var banner = document.getElementById("incident-banner");
  if (!banner) return;
  var list = document.getElementById("incident-banner-list");
  var count = document.getElementById("incident-banner-count");
  function load() {
    window.wso.api("/api/v1/incidents/?status=open&page_size=3").then(function (res) {
      banner.hidden = !res.count;
      count.textContent = String(res.count);
      list.replaceChildren();
      res.results.forEach(function (i, n) {
        if (n) list.appendChild(document.createTextNode(" · "));
        var a = document.createElement("a");
        a.href = "/alerts/incidents/#incident-" + i.id;
        a.textContent = "#" + i.id + " " + i.title + (i.wedding_name ? " — " + i.wedding_name : "");
        list.appendChild(a);
      });
    }, function () { /* keep what the server rendered */ });
  }
  var timer = null;
  document.addEventListener("wso:ops", function (ev) {
    if (ev.detail && ev.detail.op === "incident") { clearTimeout(timer); timer = setTimeout(load, 100); }
  });
  setInterval(load, 15000);
})();
