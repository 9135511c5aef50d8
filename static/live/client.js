// A reusable client of the live server (/ws): authenticates with a short-lived token, subscribes
// to channels, resumes from the last sequence number after a reconnect and reconnects with
// exponential backoff. The board uses it now; the shared notes use it the same way.
//
//   const live = new LiveClient({ getToken, onState });
//   const off = live.subscribe("board:12", { onSnapshot(data, seq) {}, onEvent(event) {} });
//   live.start();
//
// getToken(channels) resolves to { token, url } (GET /api/v1/live/token?channel=...); it is
// called before every connection, so a token never has to outlive its two minutes.
// onState(state) is told "connecting", "live", "offline" or "denied" (no access: stops).

const PING_EVERY_MS = 25000;
const PONG_WITHIN_MS = 10000;

export class AccessDenied extends Error {}

export class LiveClient {
  constructor({ getToken, onState = () => {}, minDelay = 500, maxDelay = 10000 }) {
    this.getToken = getToken;
    this.onState = onState;
    this.minDelay = minDelay;
    this.maxDelay = maxDelay;
    this.channels = new Map(); // channel -> { handlers, seq, subscribed }
    this.state = "offline";
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.running = false;
    this.wake = () => {
      if (this.running && this.state === "offline") this.reconnectNow();
    };
  }

  /** Follow a channel; the handlers get its snapshot and then each event once, in order. */
  subscribe(channel, handlers, since = null) {
    const entry = { handlers, seq: since, subscribed: false };
    this.channels.set(channel, entry);
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.authed) {
      // A new channel needs a token naming it: reconnect, everyone resumes by seq.
      this.reconnectNow();
    }
    return () => {
      this.channels.delete(channel);
      this.send({ type: "unsubscribe", channel });
    };
  }

  /** The last sequence number applied on a channel (null before its snapshot). */
  seqOf(channel) {
    const entry = this.channels.get(channel);
    return entry ? entry.seq : null;
  }

  start() {
    if (this.running) return;
    this.running = true;
    window.addEventListener("online", this.wake);
    document.addEventListener("visibilitychange", this.wake);
    this.connect();
  }

  stop() {
    this.running = false;
    window.removeEventListener("online", this.wake);
    document.removeEventListener("visibilitychange", this.wake);
    clearTimeout(this.timer);
    this.stopHeartbeat();
    if (this.ws) this.ws.close(1000, "bye");
    this.ws = null;
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.onState(state);
  }

  reconnectNow() {
    clearTimeout(this.timer);
    this.attempt = 0;
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close(1000, "reconnect");
      this.ws = null;
    }
    this.connect();
  }

  async connect() {
    if (!this.running) return;
    this.setState("connecting");
    this.authed = false;
    let grant;
    try {
      grant = await this.getToken([...this.channels.keys()]);
    } catch (error) {
      if (error instanceof AccessDenied) {
        this.setState("denied");
        this.running = false;
        return;
      }
      this.retry();
      return;
    }
    if (!this.running) return;
    let ws;
    try {
      ws = new WebSocket(grant.url);
    } catch (error) {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: grant.token }));
    ws.onmessage = (message) => this.receive(JSON.parse(message.data));
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopHeartbeat();
      for (const entry of this.channels.values()) entry.subscribed = false;
      this.retry();
    };
  }

  retry() {
    if (!this.running) return;
    this.setState("offline");
    // Exponential backoff with full jitter: the first retry after a drop comes within half a
    // second (a live process that died or restarted: the proxy sends us to another one at
    // the same address), and the clients of one process spread out instead of arriving at
    // the next one all at once.
    const base = Math.min(this.maxDelay, this.minDelay * 2 ** this.attempt);
    this.attempt += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), 100 + Math.random() * (base - 100));
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  startHeartbeat() {
    this.stopHeartbeat();
    this.pingTimer = setInterval(() => {
      this.send({ type: "ping" });
      clearTimeout(this.pongTimer);
      // No answer: the connection is dead even if the browser has not noticed yet.
      this.pongTimer = setTimeout(() => this.ws && this.ws.close(4000, "no pong"), PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  stopHeartbeat() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }

  resubscribe(channel) {
    const entry = this.channels.get(channel);
    if (entry) this.send({ type: "subscribe", channel, since: entry.seq });
  }

  receive(message) {
    const entry = message.channel ? this.channels.get(message.channel) : null;
    switch (message.type) {
      case "ready":
        this.authed = true;
        this.attempt = 0;
        this.startHeartbeat();
        for (const channel of this.channels.keys()) this.resubscribe(channel);
        break;
      case "pong":
        clearTimeout(this.pongTimer);
        break;
      case "snapshot":
        if (!entry) return;
        entry.seq = message.seq;
        entry.handlers.onSnapshot?.(message.data, message.seq);
        break;
      case "event":
        if (!entry) return;
        if (entry.seq !== null && message.seq <= entry.seq) return; // seen already
        if (entry.seq !== null && message.seq > entry.seq + 1) {
          this.resubscribe(message.channel); // a gap: ask again from what we have
          return;
        }
        entry.seq = message.seq;
        entry.handlers.onEvent?.(message);
        break;
      case "subscribed":
        if (!entry) return;
        entry.subscribed = true;
        if ([...this.channels.values()].every((e) => e.subscribed)) this.setState("live");
        break;
      case "resync":
        if (entry) entry.subscribed = false;
        this.resubscribe(message.channel);
        break;
      case "error":
        if (message.code === "forbidden" && entry) {
          entry.handlers.onDenied?.();
        } else if (message.code === "token-expired" || message.code === "token-invalid") {
          this.ws?.close(4001, "new token");
        }
        break;
      default:
        break;
    }
  }
}

/** A getToken for LiveClient that asks the API (bearer token or the page's cookie). */
export function tokenFetcher(tokenUrl, headers = () => ({})) {
  return async (channels) => {
    const query = channels.map((c) => `channel=${encodeURIComponent(c)}`).join("&");
    const response = await fetch(`${tokenUrl}?${query}`, {
      headers: { Accept: "application/json", ...headers() },
      credentials: "same-origin",
    });
    if (response.status === 401 || response.status === 403 || response.status === 404) {
      throw new AccessDenied(String(response.status));
    }
    if (!response.ok) throw new Error(`token: HTTP ${response.status}`);
    return response.json();
  };
}
