/* The big screen: question and options once shown, the countdown, the scoreboard, who pressed
   first (offsets in ms) and false starts, and the answer with 解析 and article once revealed. */
(function () {
  "use strict";
  const F = window.FinalLive;
  const $ = id => document.getElementById(id);
  F.connect({ onState: render });

  function name(s, id) { const t = s.teams.find(x => x.id === id); return t ? t.name : ""; }

  function render(s) {
    const q = s.question;
    F.text("q-title", s.status === "finished" ? "决赛结束" : q ? `第 ${q.number} 题 · ${q.part_label}${q.team ? " · " + name(s, q.team) : ""}${q.value ? " · " + q.value + " 分" : ""}` : (s.tiebreak ? "加赛" : "比赛即将开始"));
    F.text("tiebreak-line", s.status === "finished" ? "" : F.tiebreakLine(s, id => name(s, id)));
    let notice = "";
    if (s.status === "finished") notice = `冠军：${s.scores.filter(r => r.rank === 1).map(r => r.name).join("、")}`;
    else if (q && s.phase === "announced") notice = F.RISK_PARTS.includes(q.part) && !q.value ? `请${name(s, q.team)}选择风险分值` : "请听主持人读题";
    else if (s.phase === "shown" && q && (q.part === "buzzer" || q.part === "tiebreak")) notice = "请等主持人说「开始」后再抢答";
    else if (s.phase === "open") notice = "开始抢答！";
    else if (s.tied.length) notice = `抢答并列：${s.tied.map(t => name(s, t)).join("、")}，请主持人裁定`;
    else if (s.answering != null) notice = `${name(s, s.answering)} 答题`;
    else if (s.result === "void") notice = "无人抢答，本题作废";
    else if (s.result === "right") notice = "回答正确";
    else if (s.result === "wrong") notice = "回答错误";
    F.text("notice", notice);
    F.text("q-stem", q && q.stem ? q.stem : "");
    const options = F.clear($("q-options"));
    const answer = q && q.answer !== undefined ? [].concat(q.answer) : [];
    if (q && q.options) q.options.forEach(([k, v]) => options.appendChild(F.item("li", `${k}. ${v}`, answer.includes(k) ? "right" : "")));
    $("reveal").hidden = !(q && q.answer !== undefined);
    document.querySelector(".screen main").classList.toggle("revealed", !$("reveal").hidden);
    F.text("q-answer", q && q.answer !== undefined ? F.answerText(q) : "");
    F.text("q-explanation", q && q.explanation ? "解析：" + q.explanation : "");
    F.text("q-source", q && q.source ? `${q.source}：${q.basis}` : "");
    const body = F.clear($("scores"));
    s.scores.forEach(row => {
      const tr = document.createElement("tr");
      if (row.team === s.answering) tr.className = "answering";
      tr.appendChild(F.item("td", String(row.rank)));
      tr.appendChild(F.item("td", row.name));
      tr.appendChild(F.item("td", String(row.score), "score"));
      body.appendChild(tr);
    });
    const presses = F.clear($("presses"));
    s.presses.order.forEach((p, i) => presses.appendChild(F.item("li",
      i === 0 ? `最先抢答：${p.name}` : `${p.name} ${p.offset_ms == null ? "" : "+" + p.offset_ms.toFixed(1) + " ms"}${p.tied ? "（并列）" : ""}`,
      i === 0 ? "first" : "")));
    F.text("false-starts", s.presses.false_starts.length ? "抢答犯规：" + s.presses.false_starts.map(p => p.name).join("、") : "");
  }
})();
