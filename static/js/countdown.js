// Counts down to the time in [data-countdown] and reloads when it is reached, so the
// participant's join link forwards them to the room without them doing anything.
const element = document.querySelector("[data-countdown]");

function pad(value) {
  return String(value).padStart(2, "0");
}

if (element) {
  const target = Date.parse(element.dataset.countdown);
  // "1 day" / "2 days": the page gives both forms; Intl.PluralRules picks one (as the board).
  const rules = new Intl.PluralRules(document.documentElement.lang || undefined);
  const dayForms = { one: element.dataset.daysOne, other: element.dataset.daysOther || "%(n)s d" };
  const daysText = (n) => (dayForms[rules.select(n)] || dayForms.other).replace("%(n)s", String(n));
  const tick = () => {
    const left = Math.max(0, Math.round((target - Date.now()) / 1000));
    if (left === 0) {
      element.textContent = element.dataset.openText || "";
      window.setTimeout(() => window.location.reload(), 1500);
      return;
    }
    const days = Math.floor(left / 86400);
    const hours = Math.floor((left % 86400) / 3600);
    const minutes = Math.floor((left % 3600) / 60);
    const seconds = left % 60;
    const clock = `${pad(hours)}:${pad(minutes)}:${pad(seconds)}`;
    element.textContent = days > 0 ? `${daysText(days)} ${clock}` : clock;
    window.setTimeout(tick, 1000 - (Date.now() % 1000));
  };
  tick();
}

// Show the start in the reader's own time zone too when it differs from the programme's.
for (const time of document.querySelectorAll("time[data-local-time]")) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || zone === time.dataset.zone) continue;
  const when = new Date(time.getAttribute("datetime"));
  const local = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    weekday: "long", day: "numeric", month: "numeric", hour: "2-digit", minute: "2-digit",
  }).format(when);
  const note = document.createElement("p");
  note.className = "small muted";
  note.textContent = `${time.dataset.localLabel || ""} ${local} (${zone.replace("_", " ")})`.trim();
  time.closest("p").after(note);
}
