// "My small group" on a participant's phone: follows the session's breakout channel, so the
// group appears when the facilitator starts the round (or moves the person to another group),
// topic places update as others choose, and the facilitator's messages to every group appear
// above it; choosing a topic is saved without leaving the page (the forms still work without it).

import {
  announce,
  announceBroadcast,
  api,
  broadcastShown,
  follow,
  pickFromSubmit,
  readBoot,
  swapPart,
  text,
} from "./common.js";

const boot = readBoot();
const slot = document.querySelector("[data-my-group-slot]");
const partUrl = `${window.location.pathname}?part=group`;

function currentGroup() {
  const element = slot.querySelector("[data-my-group]");
  return element ? `${element.dataset.status}:${element.dataset.group}` : "";
}

async function refresh() {
  const before = currentGroup();
  const message = broadcastShown(slot);
  await swapPart(slot, partUrl);
  if (announceBroadcast(slot, message)) return;
  const after = currentGroup();
  if (after !== before) {
    const heading = slot.querySelector("h2");
    announce(heading ? heading.textContent.trim() : text(boot, "updated"));
  }
}

function showError(message) {
  let box = document.querySelector("[data-pick-error]");
  if (!box) {
    box = document.createElement("div");
    box.className = "notice danger";
    box.setAttribute("role", "alert");
    box.dataset.pickError = "";
    slot.before(box);
  }
  box.textContent = message;
  box.hidden = false;
}

slot.addEventListener("submit", async (event) => {
  const result = await pickFromSubmit(event, (method, groupId) =>
    api(boot, method, `/api/v1/breakouts/groups/${encodeURIComponent(groupId)}/pick`),
  );
  if (!result) return;
  const box = document.querySelector("[data-pick-error]");
  if (result.ok) {
    if (box) box.hidden = true;
  } else {
    showError((result.data && (result.data.detail || result.data.title)) || text(boot, "error"));
  }
  await swapPart(slot, partUrl);
  announce(result.ok ? text(boot, "saved") : (result.data && result.data.detail) || text(boot, "error"));
});

follow(boot, () => refresh());
