/* Quiz page: questions built from the page's JSON paper, server-authoritative countdown,
 * autosave with retries, navigator (答题卡), submit confirm.
 * An answer counts as saved only when the server answered 200 with {"ok": true}; until then it
 * is kept in localStorage and re-sent (also after a reload or a new sign-in), so a dropped
 * connection or an ended session loses nothing. A 401 (signed out in another tab, session
 * ended) keeps the queue and asks the person to sign in again; the page never says 已保存 for
 * an answer the server did not commit. Bank text reaches the page only through textContent. */
(function () {
  "use strict";
  var root = document.getElementById("quiz");
  if (!root) { return; }
  var saveUrl = root.dataset.saveUrl, clockUrl = root.dataset.clockUrl, resultUrl = root.dataset.resultUrl;
  var csrf = root.dataset.csrf, storageKey = root.dataset.storageKey;
  // 开始 answers its POST with this page: name the entry by the attempt's own address, so a
  // reload asks for it with GET (no "resubmit the form?") and Back still leads to the lobby.
  if (window.location.pathname !== root.dataset.pageUrl && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", root.dataset.pageUrl);
  }
  var deadline = Date.now() + Number(root.dataset.remaining) * 1000;
  var pending = loadPending();          // position -> payload not yet acknowledged
  var inFlight = {};                    // position -> true while a request is out
  var retryDelay = {};                  // position -> next retry delay in ms
  var finished = false;
  var savedOnce = false;                // 已保存 is shown only once something was committed
  var halted = null;                    // "signed-out" or "taken-over": the state line is fixed
  var stateEl = document.getElementById("save-state");

  function loadPending() {
    try { return JSON.parse(window.localStorage.getItem(storageKey) || "{}"); } catch (e) { return {}; }
  }
  function storePending() {
    try { window.localStorage.setItem(storageKey, JSON.stringify(pending)); } catch (e) { /* private mode */ }
  }
  function section(position) { return document.getElementById("q-" + position); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function choice(type, name, value, caption) {
    var label = el("label", "option"), input = el("input");
    input.type = type;
    input.name = name;
    input.value = value;
    label.appendChild(input);
    label.appendChild(document.createTextNode(" "));
    label.appendChild(el("span", "", caption));
    return label;
  }

  // One question as the page shows it: number and type, flag, stem (with blanks), options.
  function buildQuestion(item) {
    var p = item.position, sec = el("section", "card question");
    sec.id = "q-" + p;
    sec.dataset.position = p;
    sec.dataset.type = item.type;
    var head = el("header", "question-head"), flag = el("label", "flag"), flagBox = el("input");
    head.appendChild(el("span", "qno", "第 " + p + " 题 · " + item.label));
    flagBox.type = "checkbox";
    flagBox.setAttribute("data-flag", "");
    flag.appendChild(flagBox);
    flag.appendChild(document.createTextNode(" 标记"));
    head.appendChild(flag);
    sec.appendChild(head);
    var stem = el("p", "stem");
    item.stem_parts.forEach(function (part, i) {
      appendStemText(stem, part);
      if (item.type === "fill" && i < item.stem_parts.length - 1) {
        var blank = el("input", "blank");
        blank.type = "text";
        blank.maxLength = 200;
        blank.dataset.blank = i;
        blank.setAttribute("aria-label", "第 " + (i + 1) + " 空");
        stem.appendChild(blank);
      }
    });
    sec.appendChild(stem);
    if (item.type !== "fill") {
      var options = el("div", item.type === "judge" ? "options judge" : "options");
      if (item.type === "judge") {
        options.appendChild(choice("radio", "q" + p, "true", "正确"));
        options.appendChild(choice("radio", "q" + p, "false", "错误"));
      } else {
        item.options.forEach(function (option) {
          options.appendChild(choice(item.type === "single" ? "radio" : "checkbox", "q" + p, option[0],
                                     option[0] + ". " + option[1]));
        });
      }
      sec.appendChild(options);
    }
    var state = el("p", "item-state");
    state.setAttribute("data-item-state", "");
    sec.appendChild(state);
    return sec;
  }

  // A choice question's 「（  ）」 must never break across lines: each one is kept in a nowrap span.
  function appendStemText(parent, text) {
    text.split(/(（\s*）|\(\s*\))/).forEach(function (piece, i) {
      if (!piece) { return; }
      if (i % 2) { parent.appendChild(el("span", "paren-blank", piece)); }
      else { parent.appendChild(document.createTextNode(piece)); }
    });
  }

  function buildPaper() {
    var paper = JSON.parse(document.getElementById("paper").textContent);
    var list = document.getElementById("questions"), nav = document.getElementById("navigator");
    var legend = nav.querySelector(".legend");
    paper.forEach(function (item) {
      var cell = el("a", "nav-cell", String(item.position));
      cell.href = "#q-" + item.position;
      cell.dataset.nav = item.position;
      nav.insertBefore(cell, legend);
      var sec = buildQuestion(item);
      list.appendChild(sec);
      applyResponse(sec, item);
      updateNav(sec);
    });
  }

  function readResponse(sec) {
    var type = sec.dataset.type;
    if (type === "fill") {
      var blanks = Array.prototype.map.call(sec.querySelectorAll(".blank"), function (i) { return i.value; });
      return blanks.some(function (v) { return v.trim() !== ""; }) ? blanks : null;
    }
    var checked = Array.prototype.map.call(sec.querySelectorAll(".options input:checked"), function (i) { return i.value; });
    if (type === "multiple") { return checked.length ? checked : null; }
    if (!checked.length) { return null; }
    return type === "judge" ? checked[0] === "true" : checked[0];
  }

  function applyResponse(sec, payload) {
    var type = sec.dataset.type, value = payload.response;
    sec.querySelector("[data-flag]").checked = !!payload.flagged;
    if (type === "fill") {
      sec.querySelectorAll(".blank").forEach(function (input, i) { input.value = value ? value[i] || "" : ""; });
      return;
    }
    sec.querySelectorAll(".options input").forEach(function (input) {
      if (type === "multiple") { input.checked = !!value && value.indexOf(input.value) >= 0; }
      else if (type === "judge") { input.checked = value !== null && String(value) === input.value; }
      else { input.checked = input.value === value; }
    });
  }

  function updateNav(sec) {
    var cell = document.querySelector('[data-nav="' + sec.dataset.position + '"]');
    var response = readResponse(sec);
    cell.classList.toggle("answered", response !== null);
    cell.classList.toggle("flagged", sec.querySelector("[data-flag]").checked);
  }

  function showState() {
    if (halted) { return; }  // the banner says what happened; nothing here may say 已保存
    var waiting = Object.keys(pending).length;
    var failing = Object.keys(retryDelay).length;
    stateEl.classList.toggle("saving", waiting > 0 && !failing);
    stateEl.classList.toggle("failed", failing > 0);
    stateEl.textContent = failing ? "保存失败，重试中…" : (waiting ? "保存中…" : (savedOnce ? "已保存" : "作答后自动保存"));
  }

  function queue(sec) {
    var position = Number(sec.dataset.position);
    pending[position] = { position: position, response: readResponse(sec), flagged: sec.querySelector("[data-flag]").checked };
    storePending();
    updateNav(sec);
    send(position);
  }

  function send(position) {
    if (finished || halted || inFlight[position] || !pending[position]) { showState(); return; }
    var payload = pending[position];
    inFlight[position] = true;
    showState();
    fetch(saveUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(payload)
    }).then(readReply).then(function (reply) {
      inFlight[position] = false;
      var itemState = section(position).querySelector("[data-item-state]");
      if (reply.status === 200 && reply.body.ok === true) {
        if (pending[position] === payload) { delete pending[position]; storePending(); }
        delete retryDelay[position];
        savedOnce = true;
        itemState.textContent = "";
        if (typeof reply.body.remaining === "number") { deadline = Date.now() + reply.body.remaining * 1000; }
        if (pending[position]) { send(position); }
      } else if (reply.status === 401 || reply.status === 403 || reply.redirected || reply.body.csrf) {
        // The session has ended: the answer stays queued until the person signs in again.
        signedOut(reply.body.error);
      } else if (reply.status === 409 && reply.body.taken_over) {
        // Another device has opened this attempt: stop here, keep nothing pending.
        takenOver(reply.body.error);
      } else if (reply.status === 409) {
        // The server no longer takes answers: time is up or the attempt was submitted elsewhere.
        itemState.textContent = reply.body.error || "答题已结束";
        finish();
      } else if (reply.status === 400 || reply.status === 404) {
        delete pending[position]; storePending(); delete retryDelay[position];
        itemState.textContent = (reply.body.error || "保存失败") + "（请刷新页面）";
      } else {
        retry(position);
      }
      showState();
    }).catch(function () {
      inFlight[position] = false;
      retry(position);
      showState();
    });
  }

  // Status and JSON body of a reply; a body that is not JSON (a page) counts as no answer.
  function readReply(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      return { status: response.status, body: body || {}, redirected: response.redirected };
    });
  }

  function signedOut(message) {
    if (halted) { return; }
    halted = "signed-out";
    stateEl.classList.remove("saving");
    stateEl.classList.add("failed");
    stateEl.textContent = "未保存：请重新登录";
    var banner = document.getElementById("signed-out");
    banner.querySelector("[data-message]").textContent =
      (message || "登录已失效") + "。尚未保存的 " + Object.keys(pending).length + " 题答案保留在本设备上，重新登录后自动提交。";
    banner.hidden = false;
  }

  function retry(position) {
    var delay = Math.min((retryDelay[position] || 500) * 2, 15000);
    retryDelay[position] = delay;
    window.setTimeout(function () { send(position); }, delay);
  }

  function flushThen(callback) {
    var started = Date.now();
    (function wait() {
      var busy = Object.keys(pending).length > 0;
      if (!busy || Date.now() - started > 8000) { callback(); return; }
      Object.keys(pending).forEach(function (p) { send(Number(p)); });
      window.setTimeout(wait, 200);
    })();
  }

  function takenOver(message) {
    finished = true;
    halted = "taken-over";
    pending = {};
    storePending();
    root.classList.add("locked");
    stateEl.classList.add("failed");
    stateEl.textContent = "已在其他设备打开";
    var banner = document.getElementById("taken-over");
    banner.textContent = message || "此试卷已在另一台设备上打开，本设备已停止答题。";
    banner.hidden = false;
    document.getElementById("submit-form").hidden = true;
  }

  function finish() {
    if (finished) { return; }
    finished = true;
    root.classList.add("locked");
    window.location.assign(resultUrl);
  }

  function tick() {
    if (!isFinite(deadline)) { return; }
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    var h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
    document.getElementById("countdown").textContent =
      (h ? h + ":" : "") + (m < 10 && h ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
    document.querySelector(".timer").classList.toggle("urgent", left <= 60);
    if (left === 0 && !finished && !halted) {
      document.getElementById("countdown").textContent = "时间到";
      flushThen(finish);
    }
  }

  function syncClock() {
    fetch(clockUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(readReply)
      .then(function (reply) {
        var body = reply.body;
        if (reply.status === 401) { signedOut(body.error); return; }
        // Only a well-formed ok reply moves the clock: an error page or a database outage does
        // not (it would read as NaN and stop the auto-submit at time-up).
        if (reply.status !== 200 || body.ok !== true) { return; }
        if (body.finished) { finish(); return; }
        if (body.taken_over) { takenOver(); return; }
        if (typeof body.remaining === "number" && isFinite(body.remaining)) {
          deadline = Date.now() + body.remaining * 1000;
        }
      }).catch(function () { /* offline: keep counting locally */ });
  }

  buildPaper();
  document.querySelectorAll(".question").forEach(function (sec) {
    var position = Number(sec.dataset.position);
    if (pending[position]) { applyResponse(sec, pending[position]); updateNav(sec); send(position); }
    sec.addEventListener("change", function () { queue(sec); });
    sec.querySelectorAll(".blank").forEach(function (input) {
      var timer = null;
      input.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () { queue(sec); }, 600);
      });
    });
  });

  // 答题卡: on a phone a sheet over the page, opened at the question in view; a jump closes it
  // and lands with the question's heading below the sticky bar (scroll-margin-top in the CSS).
  var navigator = document.getElementById("navigator"), toggle = document.getElementById("toggle-nav");
  // The question the person is reading: the one under a line a third of the way down the
  // part of the screen below the sticky bar.
  function currentPosition() {
    var bar = document.querySelector(".quiz-bar").getBoundingClientRect().bottom;
    var line = bar + (window.innerHeight - bar) / 3, found = 1;
    document.querySelectorAll(".question").forEach(function (sec) {
      if (sec.getBoundingClientRect().top <= line) { found = Number(sec.dataset.position); }
    });
    return found;
  }
  function setNavOpen(open) {
    navigator.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    document.querySelectorAll(".nav-cell.current").forEach(function (c) { c.classList.remove("current"); });
    if (open) {
      var cell = navigator.querySelector('[data-nav="' + currentPosition() + '"]');
      if (cell) { cell.classList.add("current"); cell.scrollIntoView({ block: "nearest" }); cell.focus(); }
    }
  }
  toggle.addEventListener("click", function () { setNavOpen(!navigator.classList.contains("open")); });
  navigator.addEventListener("click", function (event) {
    var cell = event.target.closest("[data-nav]");
    if (!cell) { return; }
    event.preventDefault();
    setNavOpen(false);
    section(cell.dataset.nav).scrollIntoView({ block: "start" });
    var first = section(cell.dataset.nav).querySelector("input");
    if (first) { first.focus({ preventScroll: true }); }
  });
  document.getElementById("close-nav").addEventListener("click", function () { setNavOpen(false); });

  var form = document.getElementById("submit-form");
  var confirmBox = document.getElementById("confirm");
  form.addEventListener("submit", function (event) {
    if (form.dataset.confirmed) { return; }
    event.preventDefault();
    var missing = [], flagged = [];
    document.querySelectorAll(".question").forEach(function (sec) {
      if (readResponse(sec) === null) { missing.push(sec.dataset.position); }
      if (sec.querySelector("[data-flag]").checked) { flagged.push(sec.dataset.position); }
    });
    var text = missing.length
      ? "还有 " + missing.length + " 题未作答：第 " + missing.join("、") + " 题。"
      : "所有题目均已作答。";
    if (flagged.length) { text += "已标记 " + flagged.length + " 题：第 " + flagged.join("、") + " 题。"; }
    if (halted === "signed-out") { text += "登录已失效，请先重新登录，否则未保存的答案不会计分。"; }
    document.getElementById("confirm-text").textContent = text + "确定要交卷吗？";
    confirmBox.hidden = false;
  });
  document.getElementById("confirm-no").addEventListener("click", function () { confirmBox.hidden = true; });
  document.getElementById("confirm-yes").addEventListener("click", function () {
    this.disabled = true;
    this.textContent = "正在保存答案…";
    flushThen(function () {
      form.dataset.confirmed = "1";
      finished = true;
      try { window.localStorage.removeItem(storageKey); } catch (e) { /* ignore */ }
      form.submit();
    });
  });

  showState();
  tick();
  window.setInterval(tick, 1000);
  window.setInterval(syncClock, 30000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { syncClock(); } });
})();
