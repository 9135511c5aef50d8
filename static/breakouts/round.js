// The round editor: move people between groups by drag and drop, by the "Move to" list, or
// with the arrow keys (← →) on a focused person; every move is saved at once and announced.
// The groups are then fetched again as the server renders them (met-before badges and the mix
// are worked out there), and they follow the live channel when someone else changes them.
// A running round still takes moves (latecomers, people moved), but nobody goes back to "Not in
// a group"; and its facilitator can send a message, or "2 minutes left", to every group.

import { announce, api, follow, readBoot, swapPart, text } from "./common.js";

const boot = readBoot();
const slot = document.querySelector("[data-round-board-slot]");
const partUrl = `${window.location.pathname}?part=board`;
let busy = 0;
let dragging = false;
let refreshWanted = false;

function board() {
  return slot.querySelector("[data-round-board]");
}

function movable() {
  const element = board();
  return element && element.dataset.movable === "true";
}

/** The columns a person can be moved into (a running round's "Not in a group" is not one). */
function columns() {
  return [...slot.querySelectorAll(".bgroup:not([data-no-drop])")];
}

function groupName(groupId) {
  const column = columns().find((c) => c.dataset.groupId === String(groupId ?? ""));
  const heading = column && column.querySelector("h2");
  return heading ? heading.textContent.trim() : "";
}

async function refresh() {
  // Never swap the groups under a drag or a move in flight: do it right after.
  if (busy > 0 || dragging) {
    refreshWanted = true;
    return;
  }
  refreshWanted = false;
  await swapPart(slot, partUrl);
}

async function move(key, groupId, { focus = false } = {}) {
  const card = slot.querySelector(`.person[data-key="${CSS.escape(key)}"]`);
  const name = card ? card.dataset.name : key;
  const target = slot.querySelector(`[data-drop-group="${groupId ?? ""}"]`);
  if (card && target && card.parentElement !== target) {
    // Show the move at once; the server's rendering replaces it right after.
    target.querySelector(".people-empty")?.remove();
    target.appendChild(card);
    if (focus) card.focus();
  }
  busy += 1;
  let result;
  try {
    result = await api(boot, "POST", `/api/v1/breakouts/rounds/${boot.round_id}/moves`, {
      person: key,
      group_id: groupId === "" || groupId === null ? null : Number(groupId),
    });
  } catch (error) {
    result = { ok: false, data: null };
  } finally {
    busy -= 1;
  }
  await swapPart(slot, partUrl);
  if (focus) {
    const again = slot.querySelector(`.person[data-key="${CSS.escape(key)}"]`);
    if (again) again.focus();
  }
  if (result.ok) {
    announce(
      groupId === "" || groupId === null
        ? text(boot, "unplaced", { name })
        : text(boot, "moved", { name, group: groupName(groupId) }),
    );
  } else {
    const reason = (result.data && (result.data.detail || result.data.title)) || text(boot, "error");
    announce(text(boot, "move_failed", { reason }));
    showError(text(boot, "move_failed", { reason }));
  }
  if (refreshWanted) refresh();
}

function showError(message) {
  let box = document.querySelector("[data-round-error]");
  if (!box) {
    box = document.createElement("div");
    box.className = "notice danger round-error";
    box.setAttribute("role", "alert");
    box.dataset.roundError = "";
    slot.before(box);
  }
  box.textContent = message;
}

// --- drag and drop ------------------------------------------------------------------------------

slot.addEventListener("dragstart", (event) => {
  const card = event.target.closest && event.target.closest(".person[draggable='true']");
  if (!card) return;
  event.dataTransfer.setData("text/plain", card.dataset.key);
  event.dataTransfer.effectAllowed = "move";
  card.classList.add("dragging");
  dragging = true;
});

slot.addEventListener("dragend", (event) => {
  const card = event.target.closest && event.target.closest(".person");
  if (card) card.classList.remove("dragging");
  slot.querySelectorAll(".drop-target").forEach((el) => el.classList.remove("drop-target"));
  dragging = false;
  if (refreshWanted && busy === 0) refresh();
});

function dropColumn(event) {
  if (!movable()) return null;
  const column = event.target.closest && event.target.closest(".bgroup");
  return column && !column.hasAttribute("data-no-drop") ? column : null;
}

slot.addEventListener("dragover", (event) => {
  const column = dropColumn(event);
  if (!column) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "move";
  slot.querySelectorAll(".drop-target").forEach((el) => el !== column && el.classList.remove("drop-target"));
  column.classList.add("drop-target");
});

slot.addEventListener("dragleave", (event) => {
  const column = dropColumn(event);
  if (column && !column.contains(event.relatedTarget)) column.classList.remove("drop-target");
});

slot.addEventListener("drop", (event) => {
  const column = dropColumn(event);
  if (!column) return;
  event.preventDefault();
  column.classList.remove("drop-target");
  const key = event.dataTransfer.getData("text/plain");
  dragging = false;
  if (!key) return;
  const card = slot.querySelector(`.person[data-key="${CSS.escape(key)}"]`);
  if (card && card.closest(".bgroup") === column) return;
  move(key, column.dataset.groupId);
});

// --- keyboard and the "Move to" list ------------------------------------------------------------

slot.addEventListener("keydown", (event) => {
  const card = event.target;
  if (!card.classList || !card.classList.contains("person") || !movable()) return;
  if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  const all = columns();
  let here = all.indexOf(card.closest(".bgroup"));
  // Someone not yet placed in a running round: → goes into the first group, ← into the last.
  if (here < 0) here = event.key === "ArrowRight" ? -1 : all.length;
  const next = here + (event.key === "ArrowRight" ? 1 : -1);
  if (next < 0 || next >= all.length) {
    announce(text(boot, next < 0 ? "first" : "last", { name: card.dataset.name }));
    return;
  }
  move(card.dataset.key, all[next].dataset.groupId, { focus: true });
});

slot.addEventListener("submit", (event) => {
  const form = event.target.closest && event.target.closest("[data-move-form]");
  if (!form) return;
  event.preventDefault();
  const key = form.querySelector("input[name='person']").value;
  const select = form.querySelector("select[name='group_id']");
  const card = form.closest(".person");
  const current = card ? card.closest(".bgroup").dataset.groupId : null;
  if (select.value === current) return;
  const selectId = select.id;
  move(key, select.value).then(() => {
    const again = document.getElementById(selectId);
    if (again) again.focus();
  });
});

// --- a message to every group (running rounds) ----------------------------------------------------

const broadcastForm = document.querySelector("[data-broadcast-form]");
const broadcastLast = document.querySelector("[data-broadcast-last]");

function showBroadcast(sent) {
  if (!broadcastLast || !sent) return;
  const time = broadcastLast.querySelector("[data-broadcast-at]");
  time.dateTime = sent.at;
  time.textContent = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: boot.timezone || undefined,
  }).format(new Date(sent.at));
  broadcastLast.querySelector("[data-broadcast-text]").textContent =
    sent.kind === "time_left" ? text(boot, "time_left") : sent.text;
  broadcastLast.hidden = false;
}

function broadcastError(message) {
  let box = broadcastForm.querySelector("[data-broadcast-error]");
  if (!message) {
    box?.remove();
    return;
  }
  if (!box) {
    box = document.createElement("p");
    box.className = "field-error";
    box.setAttribute("role", "alert");
    box.dataset.broadcastError = "";
    broadcastForm.prepend(box);
  }
  box.textContent = message;
}

broadcastForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const kind = event.submitter && event.submitter.value === "time_left" ? "time_left" : "message";
  const textarea = broadcastForm.querySelector("textarea");
  const buttons = [...broadcastForm.querySelectorAll("button")];
  buttons.forEach((button) => (button.disabled = true));
  let result;
  try {
    result = await api(boot, "POST", `/api/v1/breakouts/rounds/${boot.round_id}/broadcasts`, {
      kind,
      text: kind === "message" ? textarea.value : "",
    });
  } catch (error) {
    result = { ok: false, data: null };
  } finally {
    buttons.forEach((button) => (button.disabled = false));
  }
  if (result.ok) {
    broadcastError("");
    if (kind === "message") textarea.value = "";
    showBroadcast(result.data);
    announce(text(boot, "broadcast_sent", { text: result.data.text }));
  } else {
    const data = result.data || {};
    const fieldErrors = (data.errors || []).map((e) => e.message);
    broadcastError(fieldErrors.join(" ") || data.detail || data.title || text(boot, "error"));
  }
});

// --- live -----------------------------------------------------------------------------------------

const statusBadge = document.querySelector("[data-round-status]");

follow(boot, (event) => {
  if (event && event.kind === "round.broadcast") {
    // Sent from this page or by another facilitator: the groups themselves did not change.
    if (event.data && event.data.id === boot.round_id) showBroadcast(event.data.broadcast);
    return;
  }
  if (event && event.data && event.data.id === boot.round_id) {
    const status = event.data.status;
    if (event.kind === "round.deleted" || (status && statusBadge && statusBadge.dataset.status && statusBadge.dataset.status !== status)) {
      window.location.reload();
      return;
    }
  } else if (event && event.data && event.data.id !== boot.round_id) {
    return; // another round of the session
  }
  refresh();
});
