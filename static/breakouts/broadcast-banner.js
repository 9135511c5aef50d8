// The facilitator's latest message to every group of a running round ("Back at 10:30", "2
// minutes left"), as a banner on pages other than "my small group" (which shows it in its own
// part): the shared notes, on the phone and in the side panel. It follows the session's
// breakout channel on the live client the page already has, so it costs no connection of its
// own. The banner element carries the texts in the page's language:
//   data-text-from            "From the facilitator"
//   data-text-minutes-one     "%(num)s minute left"   (and -other: "%(num)s minutes left")
// and is a polite live region, so a new message is read aloud once.

function minutesLeft(banner, minutes) {
  const lang = document.documentElement.lang || undefined;
  const form = new Intl.PluralRules(lang).select(minutes) === "one" ? "One" : "Other";
  return (banner.dataset[`textMinutes${form}`] || "%(num)s").replace("%(num)s", String(minutes));
}

function timeOf(iso, timezone) {
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (timezone) options.timeZone = timezone;
  return new Intl.DateTimeFormat(document.documentElement.lang || undefined, options).format(new Date(iso));
}

/** Show `broadcast` (as the channel carries it) in `banner`, or hide the banner for null. */
export function showBroadcast(banner, broadcast, timezone) {
  const shown = banner.dataset.at || "";
  if (!broadcast) {
    banner.hidden = true;
    banner.replaceChildren();
    delete banner.dataset.at;
    return;
  }
  if (shown === broadcast.at) return; // the same message again (a snapshot after a reconnect)
  const from = document.createElement("p");
  from.className = "broadcast-from small";
  from.textContent = `${banner.dataset.textFrom || ""} · ${timeOf(broadcast.at, timezone)}`;
  const said = document.createElement("p");
  said.className = "broadcast-text";
  said.textContent = broadcast.kind === "time_left" ? minutesLeft(banner, broadcast.minutes) : broadcast.text;
  banner.classList.toggle("time-left", broadcast.kind === "time_left");
  banner.dataset.at = broadcast.at;
  banner.replaceChildren(from, said);
  banner.hidden = false;
}

/**
 * Follow `channel` ("breakouts:<session>") on `live` (a LiveClient not started yet, or one that
 * will reconnect for it) and keep `banner` showing the running round's latest message.
 */
export function followBroadcasts(live, channel, banner, timezone = () => undefined) {
  const rounds = new Map(); // round id -> { status, broadcast }
  const render = () => {
    const running = [...rounds.values()].filter((r) => r.status === "started" && r.broadcast);
    showBroadcast(banner, running.length ? running[running.length - 1].broadcast : null, timezone());
  };
  live.subscribe(channel, {
    onSnapshot: (data) => {
      rounds.clear();
      for (const round of (data && data.rounds) || []) rounds.set(round.id, round);
      render();
    },
    onEvent: (event) => {
      const data = event.data || {};
      if (event.kind === "round.deleted") {
        rounds.delete(data.id);
      } else if (event.kind === "round.broadcast") {
        const round = rounds.get(data.id) || { id: data.id, status: "started" };
        rounds.set(data.id, { ...round, broadcast: data.broadcast });
      } else if (data.id !== undefined) {
        rounds.set(data.id, data);
      }
      render();
    },
  });
}
