// The alert inbox refreshes its rows every 2 s from the same server (no reload, no library).
(function () {
  "use strict";
  var body = document.getElementById("inbox-rows");
  if (!body) { return; }
  var source = body.getAttribute("data-source");
  function refresh() {
    fetch(source, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (answer.status === 401) { window.location.reload(); return null; }
        return answer.ok ? answer.text() : null;
      })
      .then(function (html) { if (html !== null && html !== undefined) { body.innerHTML = html; } })
      .catch(function () { /* the server is restarting: try again at the next tick */ });
  }
  window.setInterval(refresh, 2000);
}());
