// The alert inbox refreshes its rows without a reload (no library): every second it asks the same
// server whether the alerts changed since the change token it holds (an empty 204 when not) and takes
// the new rows when they did; every tenth poll asks for the rows whatever the token (a concurrent
// writer on PostgreSQL can commit a transition numbered below one already seen).
(function () {
  "use strict";
  var body = document.getElementById("inbox-rows");
  if (!body) { return; }
  var source = body.getAttribute("data-source");
  var version = body.getAttribute("data-version") || "";
  var INTERVAL_MS = 1000, FULL_EVERY = 10, polls = 0;
  function next() { window.setTimeout(refresh, INTERVAL_MS); }
  function refresh() {
    polls += 1;
    var since = (polls % FULL_EVERY !== 0 && version) ? "&since=" + encodeURIComponent(version) : "";
    fetch(source + since, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (answer.status === 401) { window.location.reload(); return null; }
        if (!answer.ok || answer.status === 204) { return null; }
        var token = answer.headers.get("X-Inbox-Version");
        return answer.text().then(function (html) { body.innerHTML = html; version = token || ""; });
      })
      .catch(function () { /* the server is restarting: try again at the next tick */ })
      .then(next);
  }
  next();
}());
