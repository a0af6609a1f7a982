// Page furniture shared by every page: the time policy, the phone layout, Plotly's config.
//
// Time policy: every timestamp says which zone it is in. A wedding's times are shown in
// its venue's zone (the server renders them; UTC on hover). Everything else is shown in
// the viewer's own zone, named ("14:05:09 CET"), 24-hour, with UTC on hover.
(function () {
  "use strict";
  var wso = window.wso = window.wso || {};

  // ---------- time ----------
  var USER_ZONE = (Intl.DateTimeFormat().resolvedOptions().timeZone) || "UTC";
  var formats = {};
  function formatter(zone, withDate, withSeconds) {
    var key = zone + (withDate ? "d" : "") + (withSeconds ? "s" : "");
    if (!formats[key]) {
      var opts = { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" };
      if (withSeconds) opts.second = "2-digit";
      if (withDate) { opts.year = "numeric"; opts.month = "short"; opts.day = "numeric"; }
      formats[key] = new Intl.DateTimeFormat("en-GB", opts);
    }
    return formats[key];
  }
  function toDate(value) {
    if (value instanceof Date) return value;
    if (typeof value === "number") return new Date(value < 1e12 ? value * 1000 : value); // unix s or ms
    return new Date(value);
  }
  function sameDay(a, b, zone) {
    var f = formatter(zone, true, false);
    return f.format(a).slice(0, 11) === f.format(b).slice(0, 11);
  }
  // "14:05:09 CET", with the date in front when it is not today in that zone.
  function fmtTime(value, opts) {
    opts = opts || {};
    var d = toDate(value);
    if (isNaN(d.getTime())) return "—";
    var zone = opts.zone || USER_ZONE;
    var withDate = opts.date === true || (opts.date !== false && !sameDay(d, new Date(), zone));
    return formatter(zone, withDate, opts.seconds !== false).format(d).replace(",", "");
  }
  function utcTitle(value) {
    var d = toDate(value);
    return isNaN(d.getTime()) ? "" : d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }
  // <time datetime="ISO" data-zone="user|Area/City"> gets its text and UTC title here.
  function stampTimes(root) {
    (root.querySelectorAll ? root.querySelectorAll("time[data-zone]") : []).forEach(function (t) {
      var iso = t.getAttribute("datetime");
      if (!iso) return;
      var zone = t.getAttribute("data-zone");
      t.textContent = fmtTime(iso, {
        zone: zone === "user" ? USER_ZONE : zone,
        seconds: t.getAttribute("data-seconds") !== "0",
        date: t.hasAttribute("data-date") ? true : undefined,
      });
      t.title = utcTitle(iso);
    });
  }
  wso.time = { zone: USER_ZONE, fmt: fmtTime, utc: utcTitle, stamp: stampTimes };
  // A <time> element with the policy applied, for scripts that build the DOM.
  wso.timeEl = function (value, opts) {
    var t = document.createElement("time");
    var d = toDate(value);
    if (!isNaN(d.getTime())) t.setAttribute("datetime", d.toISOString());
    t.textContent = fmtTime(value, opts);
    t.title = utcTitle(value);
    return t;
  };

  // ---------- Plotly: nothing leaves this machine ----------
  // plotly.js 4 shows "Share chart..." (an upload to Plotly's cloud) unless told not to.
  wso.plotConfig = function (extra) {
    return Object.assign({
      displaylogo: false,
      showSendToCloud: false,
      showEditInChartStudio: false,
      showLink: false,
      plotlyServerURL: "",
      responsive: true,
      modeBarButtonsToRemove: ["sendDataToCloud", "sendChartToCloud", "editInChartStudio", "lasso2d", "select2d"],
    }, extra || {});
  };

  // ---------- phone layout ----------
  // Tables become one card per row below 760 px: each cell is labelled by its column.
  function labelTable(table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
    if (!heads.length) return;
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      Array.prototype.forEach.call(tr.children, function (td, i) {
        if (!td.hasAttribute("data-label") && heads[i] && !td.hasAttribute("colspan")) td.setAttribute("data-label", heads[i]);
      });
    });
  }
  function labelTables(root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll("table.table").forEach(labelTable);
  }

  function init() {
    var toggle = document.getElementById("nav-toggle");
    var bar = document.querySelector(".topbar");
    if (toggle && bar) {
      toggle.addEventListener("click", function () {
        var open = !bar.classList.contains("is-open");
        bar.classList.toggle("is-open", open);
        toggle.setAttribute("aria-expanded", String(open));
      });
    }
    labelTables(document);
    stampTimes(document);
    // Pages fill tables and times from the API later: label those as they arrive.
    var pending = false;
    new MutationObserver(function () {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () {
        pending = false;
        labelTables(document.getElementById("main") || document);
      });
    }).observe(document.getElementById("main") || document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
