// "My group" in the side panel inside Zoom or Teams (see live/panel-token.js for how it is
// authenticated there): the group part of "my small group", fetched with the panel's bearer
// token and fetched again whenever the session's breakout channel changes (a move to another
// group, a message from the facilitator). Choosing a topic goes through the JSON API with the
// same token, or in a plain browser with the join-link cookie and the page's CSRF token.

import { panelToken } from "../live/panel-token.js";
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
const denied = document.querySelector("[data-denied]");
const bearer = panelToken(boot.session_id);
const headers = () => (bearer ? { Authorization: `Bearer ${bearer}` } : {});
let refused = false;

function currentGroup() {
  const element = slot.querySelector("[data-my-group]");
  return element ? `${element.dataset.status}:${element.dataset.group}` : "";
}

async function refresh() {
  if (refused) return;
  const before = currentGroup();
  const message = broadcastShown(slot);
  const status = await swapPart(slot, boot.part_url, headers());
  slot.setAttribute("aria-busy", "false");
  if (status === 401 || status === 403 || status === 404) {
    refused = true;
    slot.hidden = true;
    denied.hidden = false;
    return;
  }
  if (announceBroadcast(slot, message)) return;
  const after = currentGroup();
  if (before && after !== before) {
    const heading = slot.querySelector("h2");
    announce(heading ? heading.textContent.trim() : text(boot, "updated"));
  }
}

slot.addEventListener("submit", async (event) => {
  const result = await pickFromSubmit(event, (method, groupId) =>
    api(boot, method, boot.pick_url.replace("{id}", encodeURIComponent(groupId)), undefined, headers()),
  );
  if (!result) return;
  await refresh();
  announce(result.ok ? text(boot, "saved") : (result.data && result.data.detail) || text(boot, "error"));
});

refresh();
follow(boot, () => refresh(), headers);
