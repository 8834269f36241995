// The round form: as the organizer edits the paper (scope, difficulty, counts, points), ask
// the server how many questions the banks hold for each type and show 「可用 N 道，需要 M 道」
// beside each count, and the paper's total score as set. The server refuses to open a round
// whose rules cannot be drawn either way; this only tells the organizer early.
(function () {
  "use strict";
  var form = document.querySelector("form[data-availability-url]");
  if (!form) return;
  var types = ["single", "multiple", "judge", "fill"];
  var timer = null;
  var token = form.querySelector('input[name="csrf_token"]');

  function value(name) {
    var el = form.elements[name];
    return el ? el.value : "";
  }

  function count(type) {
    var n = parseInt(value("count_" + type), 10);
    return isNaN(n) || n < 0 ? 0 : n;
  }

  function showTotal() {
    var total = 0, questions = 0;
    types.forEach(function (type) {
      var points = parseFloat(value("points_" + type));
      questions += count(type);
      total += count(type) * (isNaN(points) ? 0 : points);
    });
    var out = document.getElementById("paper-total");
    if (out) out.textContent = "试卷共 " + questions + " 题，总分 " + (Math.round(total * 10) / 10) + " 分";
  }

  function showAvailability(sections) {
    var byType = {};
    sections.forEach(function (s) { byType[s.type] = s; });
    types.forEach(function (type) {
      var out = document.getElementById("avail-" + type);
      if (!out) return;
      var s = byType[type];
      if (!s) { out.textContent = ""; out.className = "avail"; return; }
      out.textContent = "可用 " + s.available + " 道，需要 " + s.need + " 道" + (s.short ? "（不足，不能开放）" : "");
      out.className = "avail" + (s.short ? " short" : " ok");
    });
  }

  function ticked(name) {
    var box = form.querySelector('[name="' + name + '"]');
    return !!(box && box.checked);
  }

  // The versions rule's messages (a superseded version chosen without the box, two versions mixed).
  function showVersions(problems) {
    var list = document.getElementById("version-problems");
    if (!list) return;
    list.textContent = "";
    problems.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      list.appendChild(item);
    });
  }

  function check() {
    var counts = {};
    types.forEach(function (type) { counts[type] = count(type); });
    fetch(form.dataset.availabilityUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token ? token.value : "" },
      body: JSON.stringify({ doc: value("doc"), difficulty: value("difficulty"), counts: counts,
                             allow_superseded: ticked("allow_superseded"), allow_mixed_versions: ticked("allow_mixed_versions") })
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (!response.ok || type.indexOf("application/json") < 0) throw new Error("bad reply");
      return response.json();
    }).then(function (data) {
      if (data && data.ok) { showAvailability(data.sections || []); showVersions(data.versions || []); }
      else throw new Error("bad body");
    }).catch(function () {
      types.forEach(function (type) {
        var out = document.getElementById("avail-" + type);
        if (out) { out.textContent = "暂时无法检查可用题目"; out.className = "avail"; }
      });
    });
  }

  function changed(event) {
    showTotal();
    var name = event && event.target ? event.target.name || "" : "";
    if (event && name.indexOf("count_") !== 0 && name !== "doc" && name !== "difficulty"
        && name !== "allow_superseded" && name !== "allow_mixed_versions") return;
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  showTotal();
  check();
})();
