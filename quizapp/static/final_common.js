/* The live 决赛's shared client: one Socket.IO connection to /final that reconnects by itself,
   the state the server last sent, and timers computed from the server's clock (the payload's
   `now`), so every screen shows the same remaining time, also after a server restart. */
(function () {
  "use strict";
  const root = document.getElementById("live");
  const csrf = root.dataset.csrf || "";

  function text(id, value) {
    const el = document.getElementById(id);
    if (el) el.textContent = value == null ? "" : String(value);
    return el;
  }

  function clear(el) { while (el && el.firstChild) el.removeChild(el.firstChild); return el; }

  function item(tag, value, className) {
    const el = document.createElement(tag);
    el.textContent = value;
    if (className) el.className = className;
    return el;
  }

  function answerText(question) {
    const a = question.answer;
    if (a === true) return "正确";
    if (a === false) return "错误";
    if (Array.isArray(a)) return a.map(v => Array.isArray(v) ? v[0] : v).join(question.type_label === "填空题" ? "、" : "");
    return a == null ? "" : String(a);
  }

  const PHASES = { idle: "等待", announced: "已报题", shown: "已出示题目", open: "抢答中", answering: "答题中",
                   judged: "已判定", revealed: "已公布答案" };

  function connect(options) {
    let offset = 0, latest = null;
    const status = document.getElementById("live-status");
    const auth = { csrf: csrf, final: Number(root.dataset.final) };
    if (root.dataset.screen) auth.screen = root.dataset.screen;
    const socket = io("/final", { transports: ["websocket"], auth: auth, reconnectionDelay: 300,
                                  reconnectionDelayMax: 2000, timeout: 5000 });
    function setStatus(ok, words) {
      if (!status) return;
      status.textContent = words;
      status.classList.toggle("ok", ok);
      root.dataset.connected = ok ? "1" : "0";
    }
    socket.on("connect", () => setStatus(true, "已连接"));
    socket.on("disconnect", () => setStatus(false, "连接中断，正在重连…"));
    socket.on("connect_error", () => setStatus(false, "连接中断，正在重连…"));
    function show(state) {
      offset = state.now - Date.now();
      latest = state;
      root.dataset.seq = state.seq;
      options.onState(state);
      tick();
    }
    socket.on("state", show);
    // A press sends only what it changed (the lockout, who answers, the timer, the scores). It
    // applies onto the state just before it; after a missed step the whole state is asked for.
    socket.on("delta", delta => {
      if (latest && delta.seq === latest.seq + 1) show(Object.assign({}, latest, delta));
      else if (!latest || delta.seq > latest.seq) socket.emit("sync", {});
    });
    socket.on("refused", payload => {
      text("refused", payload && payload.error ? payload.error : "操作被拒绝");
      if (options.onRefused) options.onRefused(payload);
    });
    function remaining() {
      if (!latest || !latest.timer) return null;
      const end = latest.timer.started_at + latest.timer.seconds * 1000;
      return Math.max(0, Math.ceil((end - (Date.now() + offset)) / 1000));
    }
    function tick() {
      const left = remaining();
      const el = document.getElementById("timer");
      if (el) {
        el.textContent = left == null ? "" : String(left);
        el.classList.toggle("low", left != null && left <= 5);
        el.dataset.left = left == null ? "" : String(left);
      }
      if (options.onTick) options.onTick(left, latest);
    }
    setInterval(tick, 250);
    function send(event, data) {
      text("refused", "");
      socket.emit(event, Object.assign({ csrf: csrf }, data || {}));
    }
    return { socket: socket, send: send, latest: () => latest };
  }

  const RISK_PARTS = ["risk", "tiebreak_risk"];

  /* The values of the current 风险 part (regular or 加赛) that `team` may still choose. */
  function riskValues(state, team) {
    const q = state.question;
    const book = q && q.part === "tiebreak_risk" ? state.tiebreak_risk : state.risk;
    const used = book.used[String(team)] || {};
    return book.values.map(v => ({ value: v, left: (used[String(v)] || 0) < book.uses }));
  }

  /* One line on the 加赛 under way, in words for the hall; "" when there is none. */
  function tiebreakLine(state, name) {
    if (!state.tiebreak) return "";
    const teams = state.tiebreak.map(name).join("、");
    if (state.tiebreak_mode !== "risk") return `抢答加赛：${teams}`;
    const r = state.tiebreak_round;
    if (r.outcome === "decided") return `风险题加赛结束：已分出胜负（${teams}）`;
    if (r.outcome === "exhausted") return `风险题加赛：加赛题或分值已用完，仍有队伍同分`;
    return `风险题加赛 · 第 ${r.number} 轮：${r.teams.map(name).join("、")}`;
  }

  window.FinalLive = { RISK_PARTS: RISK_PARTS, riskValues: riskValues, tiebreakLine: tiebreakLine, connect: connect, text: text, clear: clear, item: item, answerText: answerText, PHASES: PHASES, root: root };
})();
