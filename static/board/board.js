// The topic board: draws the state, sends writes over HTTP and follows the live channel.
// One module for both the full board (mode "full") and the side panel (mode "panel").

import { AccessDenied, LiveClient, tokenFetcher } from "../live/client.js";
import { morph } from "./morph.js";
import { BoardStore, ordered } from "./state.js";

function format(text, values = {}) {
  return text.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}

/** "1 vote" / "2 votes": the page gives each phrase's forms by CLDR plural category. */
function plural(forms, n, lang) {
  const category = new Intl.PluralRules(lang).select(n);
  return format(forms[category] || forms.other, { n });
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

  /** Send a write; `path` may be a function of the pending change (for its request id). */
  async write(change, method, path, body) {
    const pending = change ? this.store.addPending(change) : null;
    this.showError("");
    try {
      const result = await this.request(method, typeof path === "function" ? path(pending) : path, body);
      if (result && result.vote && result.vote.count !== undefined) this.store.applyOwnVote(result.vote);
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

  vote(topicId, delta) {
    const method = delta > 0 ? "POST" : "DELETE";
    return this.write({ type: "vote", topicId, delta }, method, (pending) => `/topics/${topicId}/vote?request_id=${pending.requestId}`);
  }

  move(topicId, column) {
    return this.write({ type: "move", topicId, column }, "POST", `/topics/${topicId}/move`, { column });
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
    const active = document.activeElement;
    const inside = active && active !== this.content && this.content.contains(active);
    const focusKey = inside ? active.dataset.key : null;
    const focusTopic = inside ? active.closest("[data-topic-id]")?.dataset.topicId : null;
    const topics = this.store.view();
    const parts = this.mode === "panel" ? this.renderPanel(topics) : this.renderFull(topics);
    // The live nodes are patched, not replaced: focus and typing survive every live event.
    const next = el("div", { class: "board-content", "data-seq": this.store.seq }, parts.filter((part) => part));
    morph(this.content, next);
    const slot = this.content.querySelector("[data-key=propose-slot]");
    if (slot && this.form.parentNode !== slot) slot.append(this.form);
    if (focusKey) this.keepFocus(focusKey, focusTopic);
    this.tick();
    if (this.liveState === "offline") this.setLiveState("offline");
  }

  /** After a redraw: focus stays on the control it was on, or goes to its neighbour when the
   *  control was disabled (a vote button at the cap) or went away (the topic moved). */
  keepFocus(key, topicId) {
    const usable = (node) => node && !node.disabled && node.isConnected;
    const target = this.content.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (usable(target)) {
      if (document.activeElement !== target) target.focus();
      return;
    }
    const candidates = [];
    if (target) {
      for (let node = target.nextElementSibling; node; node = node.nextElementSibling) candidates.push(node);
      for (let node = target.previousElementSibling; node; node = node.previousElementSibling) candidates.push(node);
    }
    const item = topicId ? this.content.querySelector(`[data-topic-id="${CSS.escape(topicId)}"]`) : null;
    if (item) candidates.push(...item.querySelectorAll("button, select, input, a[href]"));
    const neighbour = candidates.find((node) => usable(node) && node.matches("button, select, input, a[href]"));
    // Nothing left to press on the topic (it went to done): keep the place in the list.
    if (neighbour) neighbour.focus();
    else if (item) item.focus();
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
      el("p", { class: "small" }, el("a", { href: this.boot.full_board_url, target: "_blank", rel: "noopener", "data-key": "full-board", text: this.t.full_board })),
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
    // The topic being discussed is in the card at the top (with its tools), not in a column
    // of its own: one "Discussing now" on the page.
    return [
      this.currentCard(byColumn("discussing")[0]),
      this.store.me.facilitator ? this.facilitatorTools() : null,
      this.votesLine(topics),
      el(
        "div",
        { class: "board-columns" },
        column("to_discuss", queue, this.proposeBlock()),
        column("done", byColumn("done")),
      ),
    ];
  }

  proposeBlock() {
    if (this.store.board.proposing_locked && !this.store.me.facilitator) {
      return el("p", { class: "notice", text: this.t.locked });
    }
    // The form itself is one node kept for good (render() puts it into the slot), so what
    // someone is typing survives the redraws.
    return el(
      "details",
      { class: "propose", "data-key": "propose", open: this.mode === "full" || this.proposeOpen, ontoggle: (event) => (this.proposeOpen = event.target.open) },
      el("summary", { text: this.t.propose }),
      el("div", { "data-key": "propose-slot", "data-morph-keep": true }),
    );
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
    const card = el("section", { class: "current card", "aria-labelledby": "current-h", "data-key": "current" });
    card.append(el("h2", { id: "current-h", class: "current-label", text: this.t.discussing }));
    if (!topic) {
      // "yet" only while nothing has been discussed; after a topic is done, "right now".
      const some = [...this.store.topics.values()].some((t) => t.column === "done" || t.moved_at);
      card.append(el("p", { class: "muted", text: some ? this.t.nothing_discussed_now : this.t.nothing_discussed }));
    } else {
      card.append(el("p", { class: "current-title", text: topic.title }));
      if (topic.description) card.append(el("p", { class: "small", text: topic.description }));
      if (this.mode === "full" && this.store.me.facilitator && topic.id > 0) {
        const tools = this.topicTools(topic);
        tools.dataset.topicId = topic.id;
        card.append(tools);
      }
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
    const mine = this.store.me.poll_round === poll.round ? this.store.me.poll_answer : null;
    const answer = (value) => {
      // Only this person's own answer is known here (the server sends counts to everyone).
      const before = { poll_answer: this.store.me.poll_answer, poll_round: this.store.me.poll_round };
      Object.assign(this.store.me, { poll_answer: value, poll_round: poll.round });
      this.write(null, "POST", this.boardPath("/poll"), { answer: value }).then((result) => {
        if (!result) Object.assign(this.store.me, before);
        this.render();
      });
    };
    return el(
      "div",
      { class: "poll", role: "group", "aria-labelledby": "poll-h" },
      el("p", { id: "poll-h", class: "poll-question", text: this.t.keep_going }),
      el(
        "div",
        { class: "poll-buttons" },
        el("button", { type: "button", class: mine === "up" ? "" : "secondary", "aria-pressed": String(mine === "up"), "data-key": "poll-up", onclick: () => answer("up") }, el("span", { "aria-hidden": "true", text: "👍 " }), this.t.thumbs_up),
        el("button", { type: "button", class: mine === "down" ? "" : "secondary", "aria-pressed": String(mine === "down"), "data-key": "poll-down", onclick: () => answer("down") }, el("span", { "aria-hidden": "true", text: "👎 " }), this.t.thumbs_down),
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
      { class: "timer-controls", "data-key": "timer-controls" },
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
    // (Listeners read the board when they run: the nodes outlive this drawing.)
    const board = this.store.board;
    const budget = el("input", { id: "vote-budget", type: "number", min: 1, max: 20, value: board.vote_budget, class: "minutes" });
    const cap = el("input", { id: "vote-cap", type: "number", min: 1, max: 20, value: board.votes_per_topic, class: "minutes" });
    return el(
      "div",
      { class: "facilitator-tools actions", "data-key": "facilitator-tools" },
      el("button", {
        type: "button",
        class: "secondary",
        "data-key": "lock",
        "aria-pressed": String(board.proposing_locked),
        onclick: () => this.write(null, "PATCH", this.boardPath(), { proposing_locked: !this.store.board.proposing_locked }),
        text: board.proposing_locked ? this.t.unlock : this.t.lock,
      }),
      el(
        "form",
        {
          class: "settings-form",
          "data-key": "settings-form",
          onsubmit: (event) => {
            event.preventDefault();
            this.write(null, "PATCH", this.boardPath(), { vote_budget: Number(budget.value), votes_per_topic: Number(cap.value) });
          },
        },
        el("label", { for: "vote-budget", text: this.t.budget }),
        budget,
        el("label", { for: "vote-cap", text: this.t.cap }),
        cap,
        el("button", { type: "submit", class: "secondary", "data-key": "settings-save", text: this.t.save }),
      ),
    );
  }

  topicItem(topic) {
    const mine = this.store.myVotes(topic);
    const open = topic.column === "to_discuss";
    const temp = topic.id < 0;
    const left = this.store.votesLeft(this.store.view());
    const canVote = open && !temp && mine < this.store.board.votes_per_topic && left > 0;
    const own = topic.author_key && topic.author_key === this.store.me.key;
    const byline = topic.author ? format(this.t.by, { name: topic.author }) : this.t.anonymous_author;
    const lang = this.store.me.language || document.documentElement.lang;
    const item = el(
      "li",
      // (tabindex -1: focus can rest on the topic when it has no control left to hold it.)
      { class: `topic${topic.pending ? " pending" : ""}`, "data-topic-id": topic.id, "data-key": `topic-${topic.id}`, tabindex: -1 },
      el(
        "div",
        { class: "topic-text" },
        el("span", { class: "topic-title", text: topic.title }),
        el("span", { class: "topic-meta small muted" }, byline, own ? ` · ${this.t.mine}` : ""),
      ),
      el(
        "div",
        { class: "topic-votes" },
        // The figure is for the eye; a screen reader reads the phrase ("1 vote") instead.
        el("span", { class: "vote-count", "aria-hidden": "true", text: String(topic.votes) }),
        el("span", { class: "visually-hidden", text: plural(this.t.votes_count, topic.votes, lang) }),
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
                onclick: () => this.vote(topic.id, -1),
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
                  onclick: () => this.vote(topic.id, 1),
                },
                `+ ${this.t.vote}`,
              ),
            )
          : null,
        mine ? el("span", { class: "my-votes small", text: format(this.t.your_votes, { n: mine }) }) : null,
      ),
    );
    if (this.store.me.facilitator && !temp) item.append(this.topicTools(topic));
    return item;
  }

  topicTools(topic) {
    // Every control has a key of its own: a redraw keeps the node and its listener.
    const id = topic.id;
    const moves = [];
    if (topic.column !== "discussing") moves.push(["discussing", this.t.move_discussing]);
    if (topic.column !== "done") moves.push(["done", this.t.move_done]);
    if (topic.column !== "to_discuss") moves.push(["to_discuss", this.t.move_back]);
    const tools = el(
      "div",
      { class: "topic-tools" },
      moves.map(([column, label]) =>
        el("button", { type: "button", class: "secondary small-button", "data-key": `move-${column}-${id}`, onclick: () => this.move(id, column), text: label }),
      ),
    );
    const others = [...this.store.view().values()].filter((t) => t.id !== id && t.id > 0);
    if (this.mode === "full" && others.length) {
      const select = el(
        "select",
        { "aria-label": format(this.t.merge_label, topic), class: "merge-select", "data-key": `merge-into-${id}` },
        el("option", { value: "", text: this.t.merge_into }),
        others.map((t) => el("option", { value: t.id, text: t.title })),
      );
      tools.append(
        select,
        el("button", {
          type: "button",
          class: "secondary small-button",
          "data-key": `merge-${id}`,
          onclick: (event) => {
            const into = Number(event.currentTarget.previousElementSibling.value);
            if (into) this.write({ type: "remove", topicId: id }, "POST", `/topics/${id}/merge`, { into });
          },
          text: this.t.merge,
        }),
      );
    }
    tools.append(
      el("button", {
        type: "button",
        class: "danger small-button",
        "data-key": `remove-${id}`,
        onclick: () => this.write({ type: "remove", topicId: id }, "DELETE", `/topics/${id}`),
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
