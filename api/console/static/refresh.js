// Every element with data-refresh="<url>" is replaced every data-every seconds (default 5) by what the
// same server answers there, without a reload and without a library; data-now="1" fills it at once.
(function () {
  "use strict";
  var parts = document.querySelectorAll("[data-refresh]");
  Array.prototype.forEach.call(parts, function (part) {
    var source = part.getAttribute("data-refresh");
    var every = Math.max(1, parseInt(part.getAttribute("data-every") || "5", 10)) * 1000;
    function refresh() {
      fetch(source, { credentials: "same-origin", cache: "no-store" })
        .then(function (answer) {
          if (answer.status === 401) { window.location.reload(); return null; }
          return answer.ok ? answer.text() : null;
        })
        .then(function (html) { if (html !== null && html !== undefined) { part.innerHTML = html; } })
        .catch(function () { /* the server is restarting: try again at the next tick */ });
    }
    if (part.getAttribute("data-now") === "1") { refresh(); }
    window.setInterval(refresh, every);
  });
}());
