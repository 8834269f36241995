/* A team's buzzer: the big 抢答 button (a press before 开始 is a false start, as on a real
   buzzer), the team's score, the 风险题 value and, when the final says so, 必答 answers. */
(function () {
  "use strict";
  const F = window.FinalLive;
  const $ = id => document.getElementById(id);
  const me = Number(F.root.dataset.team);
  let state = null;
  const live = F.connect({ onState: render });

  function render(s) {
    state = s;
    const mine = s.scores.find(r => r.team === me);
    F.text("my-score", mine ? mine.score : "—");
    F.text("my-rank", mine ? `第 ${mine.rank} 名` : "");
    const q = s.question;
    const buzzerPart = q && (q.part === "buzzer" || q.part === "tiebreak");
    const inTiebreak = !s.tiebreak || s.tiebreak.includes(me);
    const riskTiebreak = s.tiebreak && s.tiebreak_mode === "risk";
    const pressed = s.presses.order.some(p => p.team === me) || s.locked.includes(me);
    $("press").disabled = !(buzzerPart && inTiebreak && !pressed && ["shown", "open", "answering"].includes(s.phase));
    let line = "等待主持人出题";
    if (s.status === "ready") line = "等待决赛开始";
    else if (s.status === "finished") line = "决赛已结束";
    else if (s.locked.includes(me)) line = "抢答犯规：本题已取消抢答资格";
    else if (s.answering === me) line = q && q.value ? `请本队作答（风险分值 ${q.value} 分）` : "请本队作答";
    else if (s.tied.includes(me)) line = "抢答并列，等待主持人裁定";
    else if ((buzzerPart || riskTiebreak) && !inTiebreak) line = "本轮加赛不含本队";
    else if (q && q.part === "tiebreak_risk" && q.team === me && s.phase === "announced") line = "加赛风险题：请本队选择分值";
    else if (riskTiebreak && !s.tiebreak_round.outcome && !s.tiebreak_round.teams.includes(me)) line = "本轮加赛本队轮空（已与其他队伍分出先后）";
    else if (q && q.part === "tiebreak_risk" && s.phase === "announced") line = "加赛风险题：其他队伍选择分值中";
    else if (s.phase === "open") line = "请抢答！";
    else if (q && s.phase === "announced") line = `第 ${q.number} 题 · ${q.part_label}`;
    else if (s.answering != null) line = "其他队伍答题中";
    F.text("status-line", line);
    renderRisk(s, q);
    renderQuestion(s, q);
  }

  function renderRisk(s, q) {
    const show = q && F.RISK_PARTS.includes(q.part) && q.team === me && s.phase === "announced" && !q.value;
    $("risk-choice").hidden = !show;
    const box = F.clear($("risk-values"));
    if (!show) return;
    F.riskValues(s, me).forEach(({ value, left }) => {
      const b = F.item("button", `${value} 分`);
      b.type = "button";
      b.disabled = !left;
      b.addEventListener("click", () => live.send("choose", { team: me, value: value }));
      box.appendChild(b);
    });
  }

  function renderQuestion(s, q) {
    const shown = q && q.stem;
    $("q-box").hidden = !shown;
    F.text("q-stem", shown ? q.stem : "");
    const options = F.clear($("q-options"));
    if (shown) q.options.forEach(([k, v]) => options.appendChild(F.item("li", `${k}. ${v}`)));
    const form = $("answer-form");
    const canAnswer = s.on_device && q && q.part === "required" && s.answering === me && s.phase === "shown" && !s.answered.includes(me);
    form.hidden = !canAnswer;
    if (!canAnswer) return;
    const box = F.clear($("answer-choices"));
    const choices = q.type_label === "判断题" ? [["正确", true], ["错误", false]] : q.options.map(([k]) => [k, k]);
    $("answer-text").hidden = choices.length > 0;
    choices.forEach(([label, value]) => {
      const b = F.item("button", label);
      b.type = "button";
      b.addEventListener("click", () => live.send("answer", { team: me, response: value }));
      box.appendChild(b);
    });
  }

  $("press").addEventListener("click", () => {
    $("press").disabled = true;  // one press per question; the server decides the order
    live.send("press", { team: me });
  });
  $("answer-form").addEventListener("submit", event => {
    event.preventDefault();
    const value = $("answer-text").value.trim();
    if (value) live.send("answer", { team: me, response: value });
  });
})();
