// Silences page: build a silence from real labels with a live preview of the alerts it
// mutes, start and end times; maintenance windows created and edited here (admins).
(function () {
  "use strict";
  var api = window.wso.api;
  var M = window.wso.matchers;
  var el = M.el;
  var DAYS = ["", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localInput(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function stamp(iso) {
    var d = new Date(iso);
    return localInput(d).replace("T", " ") + " " + zone;
  }
  function labelList(obj) {
    var keys = Object.keys(obj || {}).sort();
    if (!keys.length) return el("span", { className: "muted", text: "every alert" });
    return el("span", { className: "labels" }, keys.map(function (k) { return el("code", { text: k + "=" + obj[k] }); }));
  }
  function errorText(err) {
    var body = (err && err.body) || {};
    return Object.keys(body).map(function (k) { return (k === "detail" ? "" : k + ": ") + [].concat(body[k]).join(" "); }).join(" · ") || String(err);
  }
  function show(id, err) {
    var node = document.getElementById(id);
    if (!err) { node.hidden = true; node.textContent = ""; return; }
    node.textContent = errorText(err); node.hidden = false;
  }

  var form = document.getElementById("silence-form");
  var preview = document.getElementById("silence-preview");
  var tbody = document.querySelector("#silences tbody");
  var mwBody = document.querySelector("#maintenance tbody");
  var mwForm = document.getElementById("mw-form");
  form.querySelector("[data-testid=tz-note]").textContent = "Times in your time zone, " + zone + ".";

  var silenceBuilder = null;
  var mwBuilder = null;
  var previewTimer = null;
  var previewSeq = 0;

  function runPreview() {
    var matchers = silenceBuilder.get();
    if (!Object.keys(matchers).length) {
      preview.replaceChildren(el("p", { className: "muted", text: "Add a matcher to see which alerts it would mute." }));
      return;
    }
    var seq = ++previewSeq;
    api("/api/v1/silences/preview/", { method: "POST", body: { matchers: matchers } }).then(function (res) {
      if (seq !== previewSeq) return;
      var head = el("p", { "data-testid": "preview-count" }, [el("strong", { text: res.count === 1 ? "1 active alert" : res.count + " active alerts" }), " would be muted now:"]);
      var list = el("ul", { className: "preview-list" }, res.results.map(function (a) {
        return el("li", { "data-alert": a.id }, [el("a", { href: "/alerts/" + a.id + "/", text: a.rule_name }), " ", labelList(a.labels)]);
      }));
      preview.replaceChildren(head, list);
    }, function (err) {
      if (seq !== previewSeq) return;
      preview.replaceChildren(el("p", { className: "error", text: "Preview: " + errorText(err) }));
    });
  }
  function schedulePreview() { clearTimeout(previewTimer); previewTimer = setTimeout(runPreview, 200); }

  function resetTimes() {
    var now = new Date();
    form.starts_at.value = localInput(now);
    form.ends_at.value = localInput(new Date(now.getTime() + 3600 * 1000));
  }

  function loadSilences() {
    api("/api/v1/silences/?page_size=100").then(function (res) {
      var rows = res.results.map(function (s) {
        var cell = el("td");
        if (new Date(s.ends_at) > new Date()) {
          var b = el("button", { type: "button", className: "btn-secondary", text: s.active ? "Expire" : "Cancel" });
          b.addEventListener("click", function () { api("/api/v1/silences/" + s.id + "/", { method: "DELETE" }).then(loadSilences); });
          cell.appendChild(b);
        } else cell.appendChild(el("span", { className: "muted", text: "expired" }));
        return el("tr", { "data-silence": s.id }, [el("td", {}, [labelList(s.matchers)]), el("td", { text: stamp(s.starts_at) }),
          el("td", { text: stamp(s.ends_at) }), el("td", { text: s.created_by || "—" }), el("td", { text: s.reason }), cell]);
      });
      if (!rows.length) rows = [el("tr", {}, [el("td", { colspan: "6", className: "empty", text: "No silences." })])];
      tbody.replaceChildren.apply(tbody, rows);
    });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var matchers = silenceBuilder.get();
    var data = {
      matchers: matchers,
      starts_at: new Date(form.starts_at.value).toISOString(),
      ends_at: new Date(form.ends_at.value).toISOString(),
      reason: form.reason.value,
    };
    api("/api/v1/silences/", { method: "POST", body: data }).then(function () {
      show("silence-error", null);
      form.reason.value = "";
      silenceBuilder.clear();
      resetTimes();
      runPreview();
      loadSilences();
    }, function (e) { show("silence-error", e); });
  });

  // --- maintenance windows -----------------------------------------------------------
  function describe(w) {
    var on = w.weekdays.length ? w.weekdays.map(function (d) { return DAYS[d]; }).join(", ") : "every day";
    return on + " " + w.start_time.slice(0, 5) + " for " + w.duration_minutes + " min (" + w.timezone + ")";
  }
  function editWindow(w) {
    mwForm.id.value = w.id;
    mwForm.name.value = w.name;
    mwForm.timezone.value = w.timezone;
    mwForm.start_time.value = w.start_time.slice(0, 5);
    mwForm.duration_minutes.value = w.duration_minutes;
    mwForm.valid_from.value = w.valid_from || "";
    mwForm.valid_until.value = w.valid_until || "";
    mwForm.enabled.checked = w.enabled;
    mwForm.querySelectorAll("input[name=weekday]").forEach(function (c) { c.checked = w.weekdays.indexOf(Number(c.value)) >= 0; });
    mwBuilder.set(w.matchers);
    document.getElementById("mw-form-h").textContent = "Edit “" + w.name + "”";
    mwForm.scrollIntoView({ block: "start" });
  }
  function resetWindow() {
    mwForm.reset();
    mwForm.id.value = "";
    mwBuilder.clear();
    document.getElementById("mw-form-h").textContent = "New maintenance window";
    show("mw-error", null);
  }
  function loadWindows() {
    api("/api/v1/maintenance-windows/?page_size=100").then(function (res) {
      var rows = res.results.map(function (w) {
        var actions = el("td");
        if (mwForm) {
          var edit = el("button", { type: "button", className: "btn-secondary", text: "Edit" });
          edit.addEventListener("click", function () { editWindow(w); });
          var del = el("button", { type: "button", className: "btn-secondary", text: "Delete" });
          del.addEventListener("click", function () {
            if (!window.confirm("Delete maintenance window “" + w.name + "”?")) return;
            api("/api/v1/maintenance-windows/" + w.id + "/", { method: "DELETE" }).then(loadWindows, function (e) { show("mw-error", e); });
          });
          actions.appendChild(edit); actions.appendChild(del);
        }
        return el("tr", { "data-window": w.id }, [el("td", { text: w.name }), el("td", { text: describe(w) + (w.enabled ? "" : " — disabled") }),
          el("td", {}, [labelList(w.matchers)]), el("td", {}, [w.active ? el("span", { className: "badge badge-open", text: "open" }) : el("span", { className: "muted", text: "closed" })]), actions]);
      });
      if (!rows.length) rows = [el("tr", {}, [el("td", { colspan: "5", className: "empty", text: "No maintenance windows." })])];
      mwBody.replaceChildren.apply(mwBody, rows);
    });
  }
  if (mwForm) {
    var tzList = document.getElementById("tz-list");
    (Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : ["UTC"]).concat(["UTC"]).forEach(function (z) { tzList.appendChild(el("option", { value: z })); });
    mwForm.venue.addEventListener("change", function () {
      var opt = mwForm.venue.selectedOptions[0];
      if (!opt || !opt.value) return;
      mwForm.timezone.value = opt.getAttribute("data-timezone");
      var current = mwBuilder.get();
      current.venue = opt.value;
      mwBuilder.set(current);
    });
    document.getElementById("mw-reset").addEventListener("click", resetWindow);
    mwForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var data = {
        name: mwForm.name.value,
        timezone: mwForm.timezone.value,
        start_time: mwForm.start_time.value,
        duration_minutes: Number(mwForm.duration_minutes.value),
        weekdays: Array.prototype.filter.call(mwForm.querySelectorAll("input[name=weekday]"), function (c) { return c.checked; }).map(function (c) { return Number(c.value); }),
        valid_from: mwForm.valid_from.value || null,
        valid_until: mwForm.valid_until.value || null,
        enabled: mwForm.enabled.checked,
        matchers: mwBuilder.get(),
      };
      var id = mwForm.id.value;
      api("/api/v1/maintenance-windows/" + (id ? id + "/" : ""), { method: id ? "PUT" : "POST", body: data })
        .then(function () { resetWindow(); loadWindows(); }, function (e) { show("mw-error", e); });
    });
  }

  M.load().then(function (cat) {
    silenceBuilder = M.builder(document.getElementById("silence-matchers"), cat, schedulePreview);
    var params = new URLSearchParams(location.search);
    var pre = {};
    params.forEach(function (v, k) { if (k.indexOf("m.") === 0) pre[k.slice(2)] = v; });
    if (Object.keys(pre).length) silenceBuilder.set(pre); else silenceBuilder.addRow("venue", "");
    runPreview();
    if (mwForm) {
      mwBuilder = M.builder(document.getElementById("mw-matchers"), cat, function () {});
      (cat.venues || []).forEach(function (v) {
        mwForm.venue.appendChild(el("option", { value: M.venueValue ? M.venueValue(cat, v) : v.name, text: v.name + " (" + v.timezone + ")", "data-timezone": v.timezone }));
      });
    }
  });
  resetTimes();
  loadSilences();
  loadWindows();
})();
