// A background job's page: every second, read the job's progress (JSON) and move the bar and
// the message; when the job has finished, reload once so the page shows the result (the
// download link, the problems of a roster, the button to run it again) rendered by the server.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || !box.dataset.statusUrl || box.dataset.finished === "1") return;
  var bar = box.querySelector("[data-job-bar]");
  var count = box.querySelector("[data-job-count]");
  var message = box.querySelector("[data-job-message]");
  var badge = box.querySelector("[data-job-status]");
  var failures = 0;

  function put(el, text) {
    if (el && el.textContent !== text) el.textContent = text;
  }

  function apply(data) {
    if (bar) { bar.value = data.percent; bar.textContent = data.percent + "%"; }
    put(count, data.total ? data.done + "/" + data.total + "（" + data.percent + "%）" : "");
    put(message, data.message || "");
    if (badge) { put(badge, data.status_label); badge.className = "badge status-" + data.status; }
  }

  function poll() {
    fetch(box.dataset.statusUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("application/json") < 0) throw new Error("bad reply");
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        apply(data);
        if (data.finished || data.stale) { window.location.reload(); return; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        failures += 1;
        put(message, "暂时无法获取进度，正在重试…");
        window.setTimeout(poll, Math.min(10000, 1000 * failures));
      });
  }

  window.setTimeout(poll, 500);
})();
