/* The host console: the run sheet, the current question with its answer key, a button for
   every step (enabled as the server's `allowed` list says), presses, scores, adjustments. */
(function () {
  "use strict";
  const F = window.FinalLive;
  const $ = id => document.getElementById(id);
  let state = null;
  const live = F.connect({ onState: render });

  function teamName(id) {
    const team = state && state.teams.find(t => t.id === id);
    return team ? team.name : "";
  }

  function render(s) {
    state = s;
    const sheet = F.clear($("sheet"));
    const current = s.question ? s.question.number : null;
    s.sheet.forEach(row => {
      const li = F.item("li", `${row.number}. ${row.part_label}${row.team ? "·" + teamName(row.team) : ""} ${row.stem.slice(0, 24)}`);
      if (row.done) li.className = "done";
      if (row.number === current) li.className = "current";
      sheet.appendChild(li);
    });
    const q = s.question;
    F.text("q-title", s.status === "finished" ? "决赛已结束" : q ? `第 ${q.number} 题 · ${q.part_label}${q.team ? " · " + teamName(q.team) : ""}${q.value ? " · " + q.value + " 分" : ""}` : (s.status === "ready" ? "尚未开始" : "请进入下一题"));
    F.text("phase", F.PHASES[s.phase] || "");
    F.text("q-stem", s.key ? s.key.stem : "");
    const options = F.clear($("q-options"));
    if (s.key) s.key.options.forEach(([key, value]) => options.appendChild(F.item("li", `${key}. ${value}`)));
    F.text("q-answer", s.key ? F.answerText(s.key) : "");
    F.text("q-explanation", s.key ? "解析：" + s.key.explanation : "");
    F.text("q-source", s.key ? `出处：${s.key.source}　${s.key.basis}` : "");
    document.querySelectorAll("#steps button").forEach(b => { b.disabled = !s.allowed.includes(b.dataset.kind); });
    renderRisk(s); renderTiebreak(s); renderSettle(s); renderPresses(s); renderScores(s);
  }

  function renderRisk(s) {
    const box = $("risk-choice");
    const show = s.phase === "announced" && s.question && F.RISK_PARTS.includes(s.question.part) && !s.question.value;
    box.hidden = !show;
    const values = F.clear($("risk-values"));
    if (!show) return;
    F.riskValues(s, s.question.team).forEach(({ value, left }) => {
      const b = F.item("button", `${value} 分`);
      b.type = "button";
      b.disabled = !left;
      b.addEventListener("click", () => act("choose", { team: s.question.team, value: value }));
      values.appendChild(b);
    });
  }

  function renderTiebreak(s) {
    F.text("tiebreak-status", F.tiebreakLine(s, teamName));
  }

  function renderSettle(s) {
    $("settle").hidden = !s.tied.length;
    const box = F.clear($("settle-teams"));
    s.tied.forEach(t => {
      const b = F.item("button", teamName(t));
      b.type = "button";
      b.addEventListener("click", () => act("settle", { team: t }));
      box.appendChild(b);
    });
  }

  function renderPresses(s) {
    const list = F.clear($("presses"));
    s.presses.order.forEach((p, i) => {
      const offset = i === 0 ? "最先" : (p.offset_ms == null ? "重启后" : `+${p.offset_ms.toFixed(1)} ms`);
      list.appendChild(F.item("li", `${p.name}　${offset}${p.tied ? "（并列）" : ""}${s.answering === p.team ? "　← 答题中" : ""}`, p.tied ? "tie" : ""));
    });
    F.text("false-starts", s.presses.false_starts.length ? "抢答犯规：" + s.presses.false_starts.map(p => p.name).join("、") : "");
    const answers = Object.entries(s.answers || {}).map(([t, a]) => `${teamName(Number(t))}：${Array.isArray(a) ? a.join("") : a === true ? "正确" : a === false ? "错误" : a}`);
    F.text("device-answers", answers.length ? "设备作答：" + answers.join("；") : "");
  }

  function renderScores(s) {
    const body = F.clear($("scores"));
    s.scores.forEach(row => {
      const tr = document.createElement("tr");
      tr.appendChild(F.item("td", `第${row.rank}名`));
      tr.appendChild(F.item("td", row.name));
      tr.appendChild(F.item("td", String(row.score)));
      tr.dataset.team = row.team;
      body.appendChild(tr);
    });
    const select = $("adjust-team");
    if (select.options.length !== s.teams.length) {
      F.clear(select);
      s.teams.forEach(t => { const o = F.item("option", t.name); o.value = t.id; select.appendChild(o); });
      const boxes = F.clear($("tiebreak-teams"));
      s.teams.forEach(t => {
        const label = document.createElement("label");
        const input = document.createElement("input");
        input.type = "checkbox"; input.value = t.id; input.name = "tiebreak";
        label.appendChild(input); label.appendChild(document.createTextNode(" " + t.name + " "));
        boxes.appendChild(label);
      });
    }
    const ledger = F.clear($("ledger"));
    s.ledger.slice().reverse().forEach(e => ledger.appendChild(F.item("li", `${teamName(e.team)} ${e.delta > 0 ? "+" : ""}${e.delta}（${e.why}）`)));
  }

  function act(kind, data) { live.send("act", { kind: kind, data: data || {} }); }

  document.querySelectorAll("#steps button").forEach(button => button.addEventListener("click", () => {
    const data = button.dataset.kind === "judge" ? { correct: button.dataset.correct === "true" } : {};
    if (button.dataset.kind === "open" && state) data.slot = state.next_slot;
    act(button.dataset.kind, data);
  }));
  $("adjust").addEventListener("click", () => {
    const reason = $("adjust-reason").value.trim();
    const delta = parseInt($("adjust-delta").value, 10);
    if (!reason) { F.text("refused", "调整分数必须填写理由"); return; }
    if (!delta) { F.text("refused", "请填写非零的调整分值"); return; }
    act("adjust", { team: Number($("adjust-team").value), delta: delta, reason: reason });
    $("adjust-reason").value = "";
  });
  $("tiebreak").addEventListener("click", () => {
    const teams = Array.from(document.querySelectorAll("#tiebreak-teams input:checked")).map(i => Number(i.value));
    const mode = document.querySelector("input[name=tiebreak-mode]:checked");
    act("tiebreak", { teams: teams, mode: mode ? mode.value : "buzzer" });
  });
})();
