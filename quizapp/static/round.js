// The organizer's round page: every 30 s fetch the figures (JSON) and write them into the
// numbers already on the page. The page itself is never reloaded, so a half-typed reason for
// closing early, an open <details> or a scroll position survive the refresh.
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || !box.dataset.progressUrl) return;
  var url = box.dataset.progressUrl;
  var status = document.querySelector("[data-status]");
  var updated = box.querySelector("[data-updated]");

  function put(el, value) {
    if (el && value !== undefined && el.textContent !== String(value)) el.textContent = String(value);
  }

  function apply(data) {
    Object.keys(data.totals || {}).forEach(function (key) {
      put(box.querySelector('[data-total="' + key + '"]'), data.totals[key]);
    });
    Object.keys(data.units || {}).forEach(function (unitId) {
      var row = box.querySelector('tr[data-unit="' + unitId + '"]');
      if (!row) return;
      var figures = data.units[unitId];
      Object.keys(figures).forEach(function (key) { put(row.querySelector('[data-k="' + key + '"]'), figures[key]); });
    });
    put(box.querySelector("[data-waiting]"), data.waiting);
    if (status && data.status_label) {
      put(status, data.status_label);
      status.className = "badge status-" + data.status;
    }
    var now = new Date();
    put(updated, "，" + ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2) + ":" +
        ("0" + now.getSeconds()).slice(-2) + " 已更新");
  }

  function refresh() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("application/json") < 0) throw new Error("bad reply");
        return response.json();
      })
      .then(function (data) { if (data && data.ok) apply(data); else throw new Error("bad body"); })
      .catch(function () { put(updated, "，更新失败，将再试"); });
  }

  setInterval(refresh, 30000);
})();
