// Shared page behaviour: theme toggle (remembered) and a fetch helper with CSRF.
(function () {
  "use strict";
  var root = document.documentElement;
  var saved = null;
  try { saved = localStorage.getItem("wso-theme"); } catch (e) { /* private mode */ }
  if (saved) root.setAttribute("data-theme", saved);
  var toggle = document.getElementById("theme-toggle");
  function sync() { if (toggle) toggle.setAttribute("aria-pressed", String(root.getAttribute("data-theme") === "dark")); }
  sync();
  if (toggle) toggle.addEventListener("click", function () {
    var next = root.getAttribute("data-theme") === "dark" ? "light" : "dark";
    root.setAttribute("data-theme", next);
    try { localStorage.setItem("wso-theme", next); } catch (e) { /* ignore */ }
    sync();
    document.dispatchEvent(new CustomEvent("wso:theme", { detail: next }));
  });
  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }
  window.wso = window.wso || {};
  window.wso.api = function (url, options) {
    options = options || {};
    options.headers = Object.assign({ "Accept": "application/json" }, options.headers || {});
    if (options.body && typeof options.body !== "string") {
      options.body = JSON.stringify(options.body);
      options.headers["Content-Type"] = "application/json";
    }
    if (options.method && options.method !== "GET") options.headers["X-CSRFToken"] = cookie("csrftoken");
    options.credentials = "same-origin";
    return fetch(url, options).then(function (r) {
      return r.text().then(function (t) {
        var body = t ? JSON.parse(t) : null;
        if (!r.ok) { var err = new Error("HTTP " + r.status); err.status = r.status; err.body = body; throw err; }
        return body;
      });
    });
  };
  window.wso.wsUrl = function (path) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  };
})();
