"""The live server: WebSocket clients subscribe to channels and receive their events in order.

Protocol (JSON text frames on `/ws`):

- client: `{"type": "auth", "token": ...}` first (a token from `GET /api/v1/live/token`);
  server: `{"type": "ready", "channels": [...]}` or `{"type": "error", "code": ...}` and close.
- client: `{"type": "subscribe", "channel": "board:12", "since": <last seq seen or null>}`;
  server: `{"type": "snapshot", "channel", "seq", "data"}` or the missed
  `{"type": "event", "channel", "seq", "kind", "data"}` frames, then
  `{"type": "subscribed", "channel", "seq"}`; from then on every event of the channel once,
  in order. `{"type": "resync", "channel"}` asks the client to subscribe again with its seq.
- client: `{"type": "unsubscribe", "channel"}`.

Writes never come this way: they go over HTTP and reach us through the bus after commit.
Access is checked again for every connection now and then (`ACCESS_CHECK_SECONDS`): a
connection whose join link was revoked, or whose account was deactivated or signed out
everywhere, gets `{"type": "error", "code": "access-revoked"}` and is closed with code 4403
(the client's next token request then tells it why); one that may no longer watch a channel
(moved to another breakout group, say) gets that channel's `forbidden` error and no more of
its events.

The package: `tokens` (live tokens and their HTTP endpoint, the `api` blueprint), `server`
(`LiveServer`), `start` (running it beside the web app or on its own). Other packages import
from here.
"""

from companion.core.live.server import (
    ACCESS_CHECK_SECONDS,
    AUTH_TIMEOUT_SECONDS,
    CHECK_SECONDS,
    LiveServer,
)
from companion.core.live.start import (
    GC_FULL_EVERY,
    SHARED_SWITCH_INTERVAL,
    run_live,
    settle_heap,
    start_live_in_thread,
)
from companion.core.live.tokens import (
    LIVE_TOKEN_SECONDS,
    MAX_CHANNELS,
    LiveTokenOut,
    api,
    issue_live_token,
    live_origin,
    live_public_url,
    lost_access,
)

__all__ = [
    "ACCESS_CHECK_SECONDS",
    "AUTH_TIMEOUT_SECONDS",
    "CHECK_SECONDS",
    "GC_FULL_EVERY",
    "LIVE_TOKEN_SECONDS",
    "MAX_CHANNELS",
    "SHARED_SWITCH_INTERVAL",
    "LiveServer",
    "LiveTokenOut",
    "api",
    "issue_live_token",
    "live_origin",
    "live_public_url",
    "lost_access",
    "run_live",
    "settle_heap",
    "start_live_in_thread",
]
