// The board's state on the client: what the server confirmed (snapshot + events in seq order)
// plus the person's own changes still on their way (optimistic). A pending change is dropped
// once the server's sequence has reached the seq its request answered with, or when it fails.
// A vote's event often comes over the live channel before the HTTP reply: the vote request
// carries a random `request_id` that its event echoes, so the event that already counts the
// vote settles it at once (else the board would show the vote twice until the reply).

export const COLUMNS = ["to_discuss", "discussing", "done"];

let nextTempId = -1;

/** A random id for one request: it tells the other people on the board nothing. */
export function newRequestId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class BoardStore {
  constructor(onChange) {
    this.onChange = onChange;
    this.board = null;
    this.me = null;
    this.topics = new Map();
    this.mine = new Map(); // topic id -> this person's votes (the server tells nobody else's)
    this.seq = 0;
    this.pending = [];
    this.serverOffset = 0; // server clock minus ours, for the countdown
  }

  loadSnapshot(data, seq) {
    this.board = data.board;
    // The person's own poll answer is for the poll round of this snapshot.
    this.me = { ...data.me, poll_round: data.board.poll ? data.board.poll.round : null };
    this.topics = new Map(data.topics.map((t) => [t.id, t]));
    this.mine = new Map(Object.entries(data.me.votes || {}).map(([id, n]) => [Number(id), n]));
    this.seq = seq;
    if (data.server_time) this.serverOffset = Date.parse(data.server_time) - Date.now();
    this.settle();
  }

  /** Apply one event from the live channel (events carry new state, never differences). */
  applyEvent(event) {
    const data = event.data || {};
    if (data.board) this.board = data.board;
    for (const topic of data.topics || []) this.topics.set(topic.id, topic);
    for (const id of data.removed || []) this.topics.delete(id);
    if (data.vote) this.applyVote(data.vote);
    this.seq = event.seq;
    this.settle();
  }

  /** A vote event: the topic's new total (events never say who voted). */
  applyVote(vote) {
    const topic = this.topics.get(vote.topic_id);
    const own = vote.request_id && this.pending.find((p) => p.requestId === vote.request_id);
    if (own) {
      this.pending = this.pending.filter((p) => p !== own); // this event counts it
      if (own.seq === null) {
        // Before the reply: the event is our own vote, so our count moves with it (the
        // reply then says the same count).
        const count = Math.max((this.mine.get(vote.topic_id) || 0) + own.delta, 0);
        this.applyOwnVote({ topic_id: vote.topic_id, count });
      }
    }
    if (!topic) return;
    this.topics.set(topic.id, { ...topic, votes: vote.votes });
  }

  /** The answer to this person's own vote: their count on the topic now. */
  applyOwnVote(vote) {
    if (vote.count > 0) this.mine.set(vote.topic_id, vote.count);
    else this.mine.delete(vote.topic_id);
  }

  settle() {
    this.pending = this.pending.filter((p) => p.seq === null || p.seq > this.seq);
    this.onChange();
  }

  /** Show a change before the server confirms it; returns its handle. */
  addPending(change) {
    const pending = { ...change, seq: null, tempId: nextTempId-- };
    if (change.type === "vote") pending.requestId = newRequestId();
    this.pending.push(pending);
    this.onChange();
    return pending;
  }

  /** The server accepted the change as event `seq`: keep it until that event is applied. */
  confirm(pending, seq) {
    pending.seq = seq;
    this.settle();
  }

  /** The server refused: drop the change, the confirmed state stands. */
  fail(pending) {
    this.pending = this.pending.filter((p) => p !== pending);
    this.onChange();
  }

  now() {
    return Date.now() + this.serverOffset;
  }

  /** Topics with the pending changes laid over the confirmed ones. */
  view() {
    const topics = new Map();
    for (const [id, topic] of this.topics) {
      topics.set(id, { ...topic, mine: this.mine.get(id) || 0, pending: false });
    }
    const key = this.me ? this.me.key : "";
    for (const change of this.pending) {
      const topic = topics.get(change.topicId);
      if (change.type === "vote" && topic) {
        // Once answered, the person's own count already holds the change (applyOwnVote);
        // the total waits for the event.
        if (change.seq === null) topic.mine = Math.max(topic.mine + change.delta, 0);
        topic.votes = Math.max(topic.votes + change.delta, 0);
        topic.pending = true;
      } else if (change.type === "move" && topic) {
        if (change.column === "discussing") {
          for (const other of topics.values()) {
            if (other.column === "discussing" && other.id !== topic.id) other.column = "done";
          }
        }
        topic.column = change.column;
        topic.pending = true;
      } else if (change.type === "remove" && topic) {
        topics.delete(change.topicId);
      } else if (change.type === "propose") {
        topics.set(change.tempId, {
          id: change.tempId,
          title: change.title,
          description: change.description || "",
          column: "to_discuss",
          votes: 0,
          mine: 0,
          author: change.anonymous ? null : this.me?.name || null,
          author_key: change.anonymous ? null : key,
          created_at: new Date(this.now()).toISOString(),
          moved_at: null,
          pending: true,
        });
      }
    }
    return topics;
  }

  myVotes(topic) {
    return topic.mine !== undefined ? topic.mine : this.mine.get(topic.id) || 0;
  }

  /** Votes left: the budget less the person's votes on topics not done. */
  votesLeft(topics) {
    if (!this.board) return 0;
    let used = 0;
    for (const topic of topics.values()) {
      if (topic.column !== "done") used += this.myVotes(topic);
    }
    return Math.max(this.board.vote_budget - used, 0);
  }
}

/** Most votes first, then the older topic (the server's rules.order_topics). */
export function ordered(topics) {
  return [...topics].sort(
    (a, b) =>
      b.votes - a.votes ||
      Date.parse(a.created_at) - Date.parse(b.created_at) ||
      Math.abs(a.id) - Math.abs(b.id),
  );
}
