/* Practice set page: one question at a time; 提交 sends the answer, and only the server's reply
 * brings the correct answer, 解析 and the article, shown at once under the question; 下一题
 * moves on; after the last one, a summary. The page's JSON holds no answer key for questions
 * not yet answered. A 401 (signed out) keeps the typed answer and asks to sign in again.
 * Bank text reaches the page only through textContent. */
(function () {
  "use strict";
  var root = document.getElementById("practice");
  if (!root) { return; }
  var items = JSON.parse(document.getElementById("practice-items").textContent);
  var answerUrl = root.dataset.answerUrl, csrf = root.dataset.csrf;
  var stage = document.getElementById("practice-stage"), progress = document.getElementById("practice-progress");
  var signedOut = document.getElementById("signed-out");
  var current = 0, sending = false;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
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

  function rightCount() {
    return items.filter(function (i) { return i.feedback && i.feedback.correct; }).length;
  }
  function answeredCount() {
    return items.filter(function (i) { return i.feedback; }).length;
  }
  function showProgress() {
    progress.textContent = "第 " + Math.min(current + 1, items.length) + " / " + items.length + " 题 · 已答 " +
      answeredCount() + " 题，答对 " + rightCount() + " 题";
  }

  function buildQuestion(item) {
    var sec = el("section", "card question practice-question");
    sec.id = "pq-" + item.position;
    sec.dataset.type = item.type;
    sec.appendChild(el("header", "question-head", "第 " + item.position + " 题 · " + item.label));
    var stem = el("p", "stem");
    item.stem_parts.forEach(function (part, i) {
      appendStemText(stem, part);
      if (item.type === "fill" && i < item.stem_parts.length - 1) {
        var blank = el("input", "blank");
        blank.type = "text";
        blank.maxLength = 200;
        blank.setAttribute("aria-label", "第 " + (i + 1) + " 空");
        stem.appendChild(blank);
      }
    });
    sec.appendChild(stem);
    if (item.type !== "fill") {
      var options = el("div", "options");
      if (item.type === "judge") {
        options.appendChild(choice("radio", "pq" + item.position, "true", "正确"));
        options.appendChild(choice("radio", "pq" + item.position, "false", "错误"));
      } else {
        item.options.forEach(function (option) {
          options.appendChild(choice(item.type === "single" ? "radio" : "checkbox", "pq" + item.position,
                                     option[0], option[0] + ". " + option[1]));
        });
      }
      sec.appendChild(options);
    }
    var error = el("p", "item-state");
    error.setAttribute("role", "alert");
    sec.appendChild(error);
    var submit = el("button", "primary wide", "提交");
    submit.type = "button";
    submit.setAttribute("data-submit", "");
    submit.addEventListener("click", function () { send(item, sec); });
    sec.appendChild(submit);
    return sec;
  }

  // A choice question's 「（  ）」 never breaks across lines: each is kept in a nowrap span.
  function appendStemText(parent, text) {
    text.split(/(（\s*）|\(\s*\))/).forEach(function (piece, i) {
      if (!piece) { return; }
      if (i % 2) { parent.appendChild(el("span", "paren-blank", piece)); }
      else { parent.appendChild(document.createTextNode(piece)); }
    });
  }

  function readResponse(sec) {
    var type = sec.dataset.type;
    if (type === "fill") {
      var blanks = Array.prototype.map.call(sec.querySelectorAll(".blank"), function (i) { return i.value; });
      return blanks.some(function (v) { return v.trim() !== ""; }) ? blanks : null;
    }
    var checked = Array.prototype.map.call(sec.querySelectorAll(".options input:checked"), function (i) { return i.value; });
    if (!checked.length) { return null; }
    if (type === "multiple") { return checked; }
    return type === "judge" ? checked[0] === "true" : checked[0];
  }

  function applyResponse(sec, value) {
    if (sec.dataset.type === "fill") {
      sec.querySelectorAll(".blank").forEach(function (input, i) { input.value = value ? value[i] || "" : ""; });
    } else {
      sec.querySelectorAll(".options input").forEach(function (input) {
        if (sec.dataset.type === "multiple") { input.checked = !!value && value.indexOf(input.value) >= 0; }
        else { input.checked = value !== null && value !== undefined && String(value) === input.value; }
      });
    }
    sec.querySelectorAll("input").forEach(function (input) { input.disabled = true; });
  }

  function bookNote(fb) {
    if (fb.in_book) {
      return fb.correct ? "错题本：再在之后的练习中答对 " + (2 - fb.box) + " 次即移出" : "已加入错题本";
    }
    return fb.box === 2 ? "已从错题本移出" : "";
  }

  function showFeedback(sec, item) {
    var fb = item.feedback, box = el("div", "feedback " + (fb.correct ? "right" : "wrong"));
    box.setAttribute("data-feedback", "");
    box.setAttribute("role", "status");
    box.appendChild(el("p", "verdict", fb.correct ? "✓ 回答正确" : "✗ 回答错误"));
    var facts = el("dl", "facts");
    [["您的答案", fb.given], ["正确答案", fb.answer], ["解析", fb.explanation], ["出处", fb.citation]].forEach(function (pair) {
      facts.appendChild(el("dt", "", pair[0]));
      facts.appendChild(el("dd", pair[0] === "正确答案" ? "answer" : "", pair[1]));
    });
    box.appendChild(facts);
    if (fb.text) {
      var source = el("details", "article");
      source.open = true;
      source.appendChild(el("summary", "", "原文：" + fb.citation + (fb.chapter ? "（" + fb.chapter + "）" : "")));
      fb.text.split("\n").forEach(function (line) { source.appendChild(el("p", "", line)); });
      box.appendChild(source);
    } else if (fb.basis) {
      box.appendChild(el("p", "citation", "依据：" + fb.basis));
    }
    var note = bookNote(fb);
    if (note) { box.appendChild(el("p", "book-note", note)); }
    var next = el("button", "primary wide", current + 1 < items.length ? "下一题" : "查看本组结果");
    next.type = "button";
    next.setAttribute("data-next", "");
    next.addEventListener("click", function () { current += 1; render(); });
    box.appendChild(next);
    var old = sec.querySelector("[data-submit]");
    if (old) { old.remove(); }
    sec.appendChild(box);
    applyResponse(sec, fb.response);
  }

  function send(item, sec) {
    var response = readResponse(sec), error = sec.querySelector(".item-state");
    if (response === null) { error.textContent = "请先作答再提交"; return; }
    if (sending) { return; }
    sending = true;
    error.textContent = "提交中…";
    fetch(answerUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify({ position: item.position, response: response })
    }).then(function (reply) {
      return reply.json().catch(function () { return {}; }).then(function (body) { return { status: reply.status, body: body }; });
    }).then(function (reply) {
      sending = false;
      if (reply.status === 200 && reply.body.ok) {
        error.textContent = "";
        item.feedback = reply.body;
        showFeedback(sec, item);
        showProgress();
      } else if (reply.status === 401 || reply.status === 403 || reply.body.csrf) {
        error.textContent = "";
        signedOut.hidden = false;
        signedOut.querySelector("[data-message]").textContent = reply.body.error || "登录已失效，请重新登录";
      } else {
        error.textContent = reply.body.error || "提交失败，请重试";
      }
    }).catch(function () {
      sending = false;
      error.textContent = "网络连接失败，请检查网络后重新提交";
    });
  }

  function summary() {
    var box = el("section", "card practice-summary");
    box.id = "practice-summary";
    box.appendChild(el("h2", "", "本组练习完成"));
    box.appendChild(el("p", "big-score", "答对 " + rightCount() + " / " + items.length + " 题"));
    var list = el("ol", "summary-list");
    items.forEach(function (item) {
      var li = el("li", item.feedback && item.feedback.correct ? "right" : "wrong");
      li.textContent = (item.feedback && item.feedback.correct ? "✓ " : "✗ ") + item.stem_parts.join("____");
      list.appendChild(li);
    });
    box.appendChild(list);
    var links = document.getElementById("practice-links");
    links.hidden = false;
    box.appendChild(links);
    return box;
  }

  function render() {
    while (current < items.length && items[current].feedback && current < firstOpen()) { current += 1; }
    stage.textContent = "";
    if (current >= items.length) {
      stage.appendChild(summary());
    } else {
      var item = items[current], sec = buildQuestion(item);
      stage.appendChild(sec);
      if (item.feedback) { showFeedback(sec, item); }
      window.scrollTo(0, 0);
    }
    showProgress();
  }

  // Reopening a set lands on its first unanswered question (answered ones were seen already).
  function firstOpen() {
    for (var i = 0; i < items.length; i += 1) { if (!items[i].feedback) { return i; } }
    return items.length;
  }

  render();
}());
