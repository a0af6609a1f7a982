// Dashboard list: create an empty dashboard, or import one from an exported JSON file.
(function () {
  "use strict";
  var status = document.getElementById("list-status");
  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("is-error", !!isError);
  }
  function errorText(err) {
    if (!err.body) return err.message;
    return Object.keys(err.body).map(function (k) {
      var v = err.body[k];
      return (k === "detail" ? "" : k + ": ") + (Array.isArray(v) ? v.join(" ") : v);
    }).join("; ");
  }
  document.getElementById("new-dashboard").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var name = document.getElementById("new-name").value.trim();
    window.wso.api("/api/v1/dashboards/", { method: "POST", body: { name: name } })
      .then(function (d) { location.href = d.url; })
      .catch(function (err) { say("Could not create: " + errorText(err), true); });
  });
  var file = document.getElementById("import-file");
  file.addEventListener("change", function () {
    var f = file.files[0];
    if (!f) return;
    f.text().then(function (text) {
      var doc;
      try { doc = JSON.parse(text); } catch (e) { throw { message: f.name + " is not valid JSON (" + e.message + ")." }; }
      return window.wso.api("/api/v1/dashboards/import/", { method: "POST", body: doc });
    }).then(function (d) {
      say("Imported as “" + d.slug + "”. Opening…");
      location.href = d.url;
    }).catch(function (err) {
      say("Import refused, nothing was saved. " + errorText(err), true);
    }).then(function () { file.value = ""; });
  });
})();
