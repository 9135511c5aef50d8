// The topic board: draws the state, sends writes over HTTP and follows the live channel.
// One module for both the full board (mode "full") and the side panel (mode "panel").

import { AccessDenied, LiveClient, tokenFetcher } from "../live/client.js";
import { BoardStore, ordered } from "./state.js";

function format(text, values = {}) {
  return text.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

export class BoardApp {
  constructor(root, boot, { mode = "full", bearer = null } = {}) {
    this.root = root;
    this.boot = boot;
    this.t = boot.strings;
    this.mode = mode;
    this.bearer = bearer;
    this.store = new BoardStore(() => this.render());
    this.stateLabel = document.querySelector("[data-live-state]");
    this.announcer = document.querySelector("[data-announce]");
    this.error = "";
    this.liveState = "connecting";
    this.timeWasUp = false;
    this.content = el("div", { class: "board-content" });
    this.form = this.proposeForm();
    this.errorBox = el("p", { class: "board-error", role: "alert", hidden: true });
    root.replaceChildren(this.errorBox, this.content);
    root.removeAttribute("aria-busy");
  }

  headers(json = false) {
    const headers = { Accept: "application/json" };
    if (json) headers["Content-Type"] = "application/json";
    if (this.bearer) headers.Authorization = `Bearer ${this.bearer}`;
    else if (this.boot.csrf) headers["X-CSRFToken"] = this.boot.csrf;
    return headers;
  }

  async request(method, path, body) {
    const response = await fetch(`${this.boot.api_root}${path}`, {
      method,
      headers: this.headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: this.bearer ? "omit" : "same-origin",
    });
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
    if (!response.ok) {
      const failure = new Error((data && (data.detail || data.title)) || this.t.error);
      failure.status = response.status;
      throw failure;
    }
    return data;
  }

  async start() {
    let snapshot;
    try {
      snapshot = await this.request("GET", this.boot.api.replace(this.boot.api_root, ""));
    } catch (error) {
      this.showError(error.status === 401 || error.status === 404 ? this.t.no_access : this.t.error);
      this.setLiveState("denied");
      return;
    }
    this.store.loadSnapshot(snapshot, snapshot.seq);
    this.channel = snapshot.board.channel;
    this.live = new LiveClient({
      getToken: tokenFetcher(this.boot.token_url, () => this.headers()),
      onState: (state) => this.setLiveState(state),
    });
    this.live.subscribe(
      this.channel,
      {
        onSnapshot: (data, seq) => this.store.loadSnapshot(data, seq),
        onEvent: (event) => {
          this.announce(event);
          this.store.applyEvent(event);
        },
      },
      snapshot.seq,
    );
    this.live.start();
    // Count down once a second without redrawing the rest.
    setInterval(() => this.tick(), 1000);
  }

  setLiveState(state) {
    this.liveState = state;
    if (!this.stateLabel) return;
    const offline = this.store.pending.length ? this.t.offline_pending : this.t.offline;
    const labels = {
      connecting: this.t.connecting,
      live: this.t.live,
      offline,
      denied: this.t.no_access,
    };
    this.stateLabel.textContent = labels[state] || state;
    this.stateLabel.dataset.state = state;
  }

  showError(message) {
    this.errorBox.textContent = message;
    this.errorBox.hidden = !message;
  }

  announce(event) {
    if (!this.announcer) return;
    const topic = (event.data.topics || [])[0];
    let text = "";
    if (event.kind === "topic.proposed" && topic) text = format(this.t.announce_proposed, topic);
    else if (event.kind === "topic.moved" && topic && topic.column === "discussing") {
      text = format(this.t.announce_moved, topic);
    } else if (event.kind === "timer.started") text = this.t.announce_timer;
    else if (event.kind === "topics.merged") text = this.t.announce_merged;
    else if (event.kind === "board.updated" && event.data.board) {
      const was = this.store.board && this.store.board.proposing_locked;
      if (was !== event.data.board.proposing_locked) {
        text = event.data.board.proposing_locked ? this.t.announce_locked : this.t.announce_unlocked;
      }
    }
    if (text) this.announcer.textContent = text;
  }

  // -- writes ---------------------------------------------------------------------------------

  async write(change, method, path, body) {
    const pending = change ? this.store.addPending(change) : null;
    this.showError("");
    try {
      const result = await this.request(method, path, body);
      if (pending) this.store.confirm(pending, result.seq);
      if (result.seq > this.store.seq && this.liveState !== "live") {
        // Offline: the response is the freshest news we have; the channel catches up later.
        this.live?.reconnectNow();
      }
      return result;
    } catch (error) {
      if (pending) this.store.fail(pending);
      this.showError(error.message);
      return null;
    }
  }

  vote(topic, delta) {
    const path = `/topics/${topic.id}/vote`;
    return this.write({ type: "vote", topicId: topic.id, delta }, delta > 0 ? "POST" : "DELETE", path);
  }

  move(topic, column) {
    return this.write({ type: "move", topicId: topic.id, column }, "POST", `/topics/${topic.id}/move`, {
      column,
    });
  }

  boardPath(suffix = "") {
    return `/boards/${this.store.board.id}${suffix}`;
  }

  // -- drawing --------------------------------------------------------------------------------

  proposeForm() {
    const title = el("input", {
      id: "topic-title",
      name: "title",
      type: "text",
      maxlength: 120,
      required: true,
      autocomplete: "off",
    });
    const description = el("textarea", { id: "topic-description", name: "description", rows: 2, maxlength: 500 });
    const anonymous = el("input", { id: "topic-anonymous", type: "checkbox", name: "anonymous" });
    const form = el(
      "form",
      {
        class: "propose-form",
        onsubmit: async (event) => {
          event.preventDefault();
          const text = title.value.trim();
          if (!text) {
            title.focus();
            return;
          }
          const body = { title: text, description: description.value.trim(), anonymous: anonymous.checked };
          title.value = "";
          description.value = "";
          anonymous.checked = false;
          const result = await this.write({ type: "propose", ...body }, "POST", this.boardPath("/topics"), body);
          if (!result) title.value = text;
          title.focus();
        },
      },
      el("div", { class: "field" }, el("label", { for: "topic-title", text: this.t.title }), title),
      el("div", { class: "field" }, el("label", { for: "topic-description", text: this.t.description }), description),
      el(
        "div",
        { class: "field checkbox-field" },
        el("label", { for: "topic-anonymous" }, anonymous, el("span", { text: this.t.anonymous })),
      ),
      el("button", { type: "submit", text: this.t.send }),
    );
    return form;
  }

  render() {
    if (!this.store.board) return;
    const focused = document.activeElement && document.activeElement.dataset.key;
    const topics = this.store.view();
    const parts = this.mode === "panel" ? this.renderPanel(topics) : this.renderFull(topics);
    this.content.replaceChildren(...parts.filter((part) => part));  // (null would show as "null")
    if (focused) {
      const again = this.content.querySelector(`[data-key="${CSS.escape(focused)}"]`);
      if (again && !again.disabled) again.focus();
    }
    this.tick();
    if (this.liveState === "offline") this.setLiveState("offline");
  }

  renderPanel(topics) {
    const list = [...topics.values()];
    const current = list.find((t) => t.column === "discussing");
    const queue = ordered(list.filter((t) => t.column === "to_discuss"));
    const done = list.filter((t) => t.column === "done");
    return [
      this.currentCard(current),
      this.votesLine(topics),
      el(
        "section",
        { class: "topic-queue", "aria-labelledby": "queue-h" },
        el("h2", { id: "queue-h", text: `${this.t.to_discuss} (${queue.length})` }),
        queue.length
          ? el("ol", { class: "topics" }, queue.map((t) => this.topicItem(t)))
          : el("p", { class: "muted", text: this.t.no_topics }),
      ),
      this.proposeBlock(),
      done.length
        ? el(
            "details",
            { class: "done-list" },
            el("summary", { text: `${this.t.done} (${done.length})` }),
            el("ol", { class: "topics" }, done.map((t) => this.topicItem(t))),
          )
        : null,
      el("p", { class: "small" }, el("a", { href: this.boot.full_board_url, target: "_blank", rel: "noopener", text: this.t.full_board })),
    ];
  }

  renderFull(topics) {
    const list = [...topics.values()];
    const byColumn = (column) => list.filter((t) => t.column === column);
    const queue = ordered(byColumn("to_discuss"));
    const column = (name, items, extra = null) =>
      el(
        "section",
        { class: `board-column column-${name}`, "aria-labelledby": `col-${name}` },
        el("h2", { id: `col-${name}`, text: `${this.t[name]} (${items.length})` }),
        extra,
        items.length ? el("ol", { class: "topics" }, items.map((t) => this.topicItem(t, queue))) : null,
      );
    return [
      this.currentCard(byColumn("discussing")[0]),
      this.store.me.facilitator ? this.facilitatorTools() : null,
      this.votesLine(topics),
      el(
        "div",
        { class: "board-columns" },
        column("to_discuss", queue, this.proposeBlock()),
        column("discussing", byColumn("discussing")),
        column("done", byColumn("done")),
      ),
    ];
  }

  proposeBlock() {
    if (this.store.board.proposing_locked && !this.store.me.facilitator) {
      return el("p", { class: "notice", text: this.t.locked });
    }
    const details = el("details", { class: "propose", open: this.mode === "full" || this.proposeOpen }, el("summary", { text: this.t.propose }), this.form);
    details.addEventListener("toggle", () => {
      this.proposeOpen = details.open;
    });
    return details;
  }

  votesLine(topics) {
    const left = this.store.votesLeft(topics);
    return el(
      "p",
      { class: "votes-left", "data-votes-left": left },
      format(this.t.votes_left, { n: left, total: this.store.board.vote_budget }),
      " ",
      el("span", { class: "dots", "aria-hidden": "true" }, "●".repeat(left) + "○".repeat(Math.max(this.store.board.vote_budget - left, 0))),
    );
  }

  currentCard(topic) {
    const board = this.store.board;
    const card = el("section", { class: "current card", "aria-labelledby": "current-h" });
    card.append(el("h2", { id: "current-h", class: "current-label", text: this.t.discussing }));
    if (!topic) {
      card.append(el("p", { class: "muted", text: this.t.nothing_discussed }));
    } else {
      card.append(el("p", { class: "current-title", text: topic.title }));
      if (topic.description) card.append(el("p", { class: "small", text: topic.description }));
    }
    if (board.timer) {
      card.append(el("p", { class: "timer", "data-timer": board.timer.ends_at, "aria-live": "off" }));
      const timeUp = Date.parse(board.timer.ends_at) <= this.store.now();
      if (timeUp && board.poll) card.append(this.pollBlock(board.poll));
    }
    if (this.store.me.facilitator) card.append(this.timerControls());
    return card;
  }

  pollBlock(poll) {
    const mine = poll.answers[this.store.me.key];
    const answer = (value) =>
      this.write(null, "POST", this.boardPath("/poll"), { answer: value });
    return el(
      "div",
      { class: "poll", role: "group", "aria-labelledby": "poll-h" },
      el("p", { id: "poll-h", class: "poll-question", text: this.t.keep_going }),
      el(
        "div",
        { class: "poll-buttons" },
        el("button", { type: "button", class: mine === "up" ? "" : "secondary", "aria-pressed": String(mine === "up"), "data-key": "poll-up", onclick: () => answer("up") }, "👍 ", this.t.thumbs_up),
        el("button", { type: "button", class: mine === "down" ? "" : "secondary", "aria-pressed": String(mine === "down"), "data-key": "poll-down", onclick: () => answer("down") }, "👎 ", this.t.thumbs_down),
      ),
      el("p", { class: "small", text: format(this.t.poll_result, poll) }),
    );
  }

  timerControls() {
    const board = this.store.board;
    const minutes = el("input", { id: "timer-minutes", type: "number", min: 1, max: 120, value: this.timerMinutes || 5, class: "minutes" });
    minutes.addEventListener("change", () => {
      this.timerMinutes = Number(minutes.value) || 5;
    });
    const send = (action) =>
      this.write(null, "POST", this.boardPath("/timer"), { action, minutes: Number(minutes.value) || 5 });
    return el(
      "div",
      { class: "timer-controls" },
      el("label", { for: "timer-minutes", text: this.t.minutes }),
      minutes,
      el("button", { type: "button", class: "secondary", "data-key": "timer-start", onclick: () => send("start"), text: this.t.start_timer }),
      board.timer
        ? el("button", { type: "button", class: "secondary", "data-key": "timer-extend", onclick: () => send("extend"), text: format(this.t.extend, { n: Number(minutes.value) || 5 }) })
        : null,
      board.timer ? el("button", { type: "button", class: "danger", "data-key": "timer-stop", onclick: () => send("stop"), text: this.t.stop_timer }) : null,
    );
  }

  facilitatorTools() {
    const board = this.store.board;
    const budget = el("input", { id: "vote-budget", type: "number", min: 1, max: 20, value: board.vote_budget, class: "minutes" });
    const cap = el("input", { id: "vote-cap", type: "number", min: 1, max: 20, value: board.votes_per_topic, class: "minutes" });
    return el(
      "div",
      { class: "facilitator-tools actions" },
      el("button", {
        type: "button",
        class: "secondary",
        "data-key": "lock",
        "aria-pressed": String(board.proposing_locked),
        onclick: () => this.write(null, "PATCH", this.boardPath(), { proposing_locked: !board.proposing_locked }),
        text: board.proposing_locked ? this.t.unlock : this.t.lock,
      }),
      el(
        "form",
        {
          class: "settings-form",
          onsubmit: (event) => {
            event.preventDefault();
            this.write(null, "PATCH", this.boardPath(), { vote_budget: Number(budget.value), votes_per_topic: Number(cap.value) });
          },
        },
        el("label", { for: "vote-budget", text: this.t.budget }),
        budget,
        el("label", { for: "vote-cap", text: this.t.cap }),
        cap,
        el("button", { type: "submit", class: "secondary", text: this.t.save }),
      ),
    );
  }

  topicItem(topic, queue = []) {
    const mine = this.store.myVotes(topic);
    const open = topic.column === "to_discuss";
    const temp = topic.id < 0;
    const left = this.store.votesLeft(this.store.view());
    const canVote = open && !temp && mine < this.store.board.votes_per_topic && left > 0;
    const own = topic.author_key && topic.author_key === this.store.me.key;
    const byline = topic.author ? format(this.t.by, { name: topic.author }) : this.t.anonymous_author;
    const item = el(
      "li",
      { class: `topic${topic.pending ? " pending" : ""}`, "data-topic-id": topic.id },
      el(
        "div",
        { class: "topic-text" },
        el("span", { class: "topic-title", text: topic.title }),
        el("span", { class: "topic-meta small muted" }, byline, own ? ` · ${this.t.mine}` : ""),
      ),
      el(
        "div",
        { class: "topic-votes" },
        el("span", { class: "vote-count", "aria-label": format(this.t.votes_count, { n: topic.votes }) }, String(topic.votes)),
        open
          ? el(
              "span",
              { class: "vote-buttons" },
              el("button", {
                type: "button",
                class: "secondary vote-down",
                "data-key": `unvote-${topic.id}`,
                "aria-label": format(this.t.unvote, topic),
                disabled: temp || mine === 0,
                onclick: () => this.vote(topic, -1),
                text: "−",
              }),
              el(
                "button",
                {
                  type: "button",
                  class: "vote-up",
                  "data-key": `vote-${topic.id}`,
                  "aria-label": format(this.t.vote_for, topic),
                  disabled: !canVote,
                  onclick: () => this.vote(topic, 1),
                },
                `+ ${this.t.vote}`,
              ),
            )
          : null,
        mine ? el("span", { class: "my-votes small", text: format(this.t.your_votes, { n: mine }) }) : null,
      ),
    );
    if (this.store.me.facilitator && !temp) item.append(this.topicTools(topic, queue));
    return item;
  }

  topicTools(topic, queue) {
    const moves = [];
    if (topic.column !== "discussing") moves.push(["discussing", this.t.move_discussing]);
    if (topic.column !== "done") moves.push(["done", this.t.move_done]);
    if (topic.column !== "to_discuss") moves.push(["to_discuss", this.t.move_back]);
    const tools = el(
      "div",
      { class: "topic-tools" },
      moves.map(([column, label]) =>
        el("button", { type: "button", class: "secondary small-button", "data-key": `move-${column}-${topic.id}`, onclick: () => this.move(topic, column), text: label }),
      ),
    );
    const others = [...this.store.view().values()].filter((t) => t.id !== topic.id && t.id > 0);
    if (this.mode === "full" && others.length) {
      const select = el(
        "select",
        { "aria-label": `${this.t.merge_into} ${topic.title}`, class: "merge-select" },
        el("option", { value: "", text: this.t.merge_into }),
        others.map((t) => el("option", { value: t.id, text: t.title })),
      );
      tools.append(
        select,
        el("button", {
          type: "button",
          class: "secondary small-button",
          onclick: () => {
            if (select.value) {
              this.write({ type: "remove", topicId: topic.id }, "POST", `/topics/${topic.id}/merge`, { into: Number(select.value) });
            }
          },
          text: this.t.merge,
        }),
      );
    }
    tools.append(
      el("button", {
        type: "button",
        class: "danger small-button",
        onclick: () => this.write({ type: "remove", topicId: topic.id }, "DELETE", `/topics/${topic.id}`),
        text: this.t.remove,
      }),
    );
    return tools;
  }

  tick() {
    for (const node of this.content.querySelectorAll("[data-timer]")) {
      const left = Math.max(0, Math.round((Date.parse(node.dataset.timer) - this.store.now()) / 1000));
      const minutes = Math.floor(left / 60);
      const seconds = String(left % 60).padStart(2, "0");
      node.textContent = left > 0 ? `${this.t.timer}: ${minutes}:${seconds}` : this.t.time_up;
      node.classList.toggle("time-up", left === 0);
      if (left === 0 && !this.timeWasUp) {
        this.timeWasUp = true;
        if (this.announcer) this.announcer.textContent = this.t.announce_time_up;
        this.render(); // show the poll
        return;
      }
      if (left > 0) this.timeWasUp = false;
    }
  }
}

export function readBoot() {
  return JSON.parse(document.getElementById("board-boot").textContent);
}

export { AccessDenied };
