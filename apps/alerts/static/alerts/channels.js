// Notification channels: "Send test" posts one test notice and shows how it went.
(function () {
  "use strict";
  document.querySelectorAll("[data-test-channel]").forEach(function (button) {
    button.addEventListener("click", function () {
      var result = button.parentNode.querySelector(".result");
      button.disabled = true;
      result.textContent = "sending…";
      window.wso.api("/api/v1/notification-channels/" + button.getAttribute("data-test-channel") + "/test/", { method: "POST" })
        .then(function (n) {
          result.className = "result " + (n.status === "sent" ? "ok" : "error");
          result.textContent = n.status === "sent" ? "✓ sent" : "✗ " + n.status + ": " + (n.error || "");
        }, function (err) {
          result.className = "result error";
          result.textContent = "✗ " + ((err.body && err.body.detail) || err.message);
        }).then(function () { button.disabled = false; });
    });
  });
})();
