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
  // Import asks for the name first: two dashboards of one name cannot be told apart.
  var file = document.getElementById("import-file");
  var dialog = document.getElementById("import-dialog");
  var nameBox = document.getElementById("import-name");
  var errors = document.getElementById("import-errors");
  var pending = null;
  function taken(name) {
    return Array.prototype.some.call(document.querySelectorAll("#dashboard-table tbody td:first-child > a"), function (a) {
      return a.textContent.trim().toLowerCase() === name.trim().toLowerCase();
    });
  }
  file.addEventListener("change", function () {
    var f = file.files[0];
    if (!f) return;
    f.text().then(function (text) {
      try { pending = JSON.parse(text); } catch (e) { throw { message: f.name + " is not valid JSON (" + e.message + ")." }; }
      var name = (pending && typeof pending.name === "string" && pending.name) || f.name.replace(/\.json$/i, "");
      nameBox.value = taken(name) ? name + " (imported)" : name;
      document.getElementById("import-what").textContent = f.name + ": " + ((pending && pending.widgets) || []).length + " widgets.";
      errors.textContent = "";
      dialog.showModal();
      nameBox.select();
    }).catch(function (err) {
      say("Import refused, nothing was saved. " + errorText(err), true);
    }).then(function () { file.value = ""; });
  });
  document.getElementById("import-cancel").addEventListener("click", function () { dialog.close(); pending = null; });
  document.getElementById("import-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var doc = Object.assign({}, pending, { name: nameBox.value.trim() });
    window.wso.api("/api/v1/dashboards/import/", { method: "POST", body: doc }).then(function (d) {
      dialog.close();
      say("Imported as “" + doc.name + "”. Opening…");
      location.href = d.url;
    }).catch(function (err) {
      if (err.body && err.body.name && Object.keys(err.body).length === 1) { errors.textContent = errorText(err); nameBox.focus(); return; }
      dialog.close();
      say("Import refused, nothing was saved. " + errorText(err), true);
    });
  });
})();
