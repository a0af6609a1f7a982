// Dashboard versions (list, restore) and delete, from the dashboard's toolbar.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("dashboard-config").textContent);
  var api = window.wso.api;
  var base = "/api/v1/dashboards/" + encodeURIComponent(cfg.slug) + "/";
  function errorText(err) {
    if (err && err.body && typeof err.body === "object") {
      return Object.keys(err.body).map(function (k) { return (k === "detail" ? "" : k + ": ") + err.body[k]; }).join("; ");
    }
    return String((err && err.message) || err);
  }
  function cell(content) {
    var td = document.createElement("td");
    if (typeof content === "string") td.textContent = content; else td.appendChild(content);
    return td;
  }

  var dialog = document.getElementById("versions-dialog");
  var openBtn = document.getElementById("versions-btn");
  var errors = document.getElementById("ver-errors");
  function load() {
    var body = document.querySelector("#versions-table tbody");
    return api(base + "versions/").then(function (rows) {
      body.replaceChildren();
      if (!rows.length) {
        var tr = document.createElement("tr");
        var td = cell("No change recorded yet: the first change keeps this layout as version 1.");
        td.colSpan = 6; td.className = "empty";
        tr.appendChild(td); body.appendChild(tr);
        return;
      }
      rows.forEach(function (v, i) {
        var tr = document.createElement("tr");
        tr.setAttribute("data-version", v.number);
        tr.appendChild(cell("v" + v.number + (i === 0 ? " (current)" : "")));
        tr.appendChild(cell(window.wso.timeEl(v.created_at)));
        tr.appendChild(cell(v.author || "—"));
        tr.appendChild(cell(v.note || "—"));
        tr.appendChild(cell(String(v.widget_count)));
        var b = document.createElement("button");
        b.type = "button"; b.className = "btn-secondary"; b.textContent = "Restore";
        b.setAttribute("data-restore", v.number);
        b.disabled = i === 0;
        tr.appendChild(cell(b));
        body.appendChild(tr);
      });
    }).catch(function (err) { errors.textContent = "Versions unavailable: " + errorText(err); });
  }
  if (openBtn) {
    openBtn.addEventListener("click", function () { errors.textContent = ""; dialog.showModal(); load(); });
    document.getElementById("ver-close").addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("click", function (ev) {
      var b = ev.target.closest("[data-restore]");
      if (!b) return;
      var n = b.getAttribute("data-restore");
      if (!window.confirm("Restore version " + n + " of “" + cfg.name + "”? Everyone watching it sees that layout.")) return;
      b.disabled = true;
      api(base + "versions/" + n + "/restore/", { method: "POST", body: {} }).then(function () {
        location.reload(); // widget ids change with a restore: draw it afresh, same window
      }).catch(function (err) { b.disabled = false; errors.textContent = "Not restored: " + errorText(err); });
    });
  }

  var del = document.getElementById("delete-btn");
  if (del) del.addEventListener("click", function () {
    if (!window.confirm("Delete “" + cfg.name + "” and all its versions? This cannot be undone.")) return;
    api(base, { method: "DELETE" }).then(function () { location.href = "/dashboards/"; })
      .catch(function (err) {
        var s = document.getElementById("dash-status");
        s.textContent = "Not deleted: " + errorText(err);
        s.classList.add("is-error");
      });
  });
})();
