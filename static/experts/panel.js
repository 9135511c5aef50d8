// The agenda tab of the side panel inside Zoom or Teams (see live/panel-token.js for how it is
// authenticated there): the server-rendered agenda part, fetched with the panel's bearer token
// (or the join-link cookie in a plain browser) and fetched again every minute, so the slot on
// now stays marked and a speaker's new material shows up.

import { panelToken } from "../live/panel-token.js";

const slot = document.querySelector("[data-agenda-slot]");
const denied = document.querySelector("[data-denied]");
const REFRESH_MS = 60 * 1000;

if (slot) {
  const bearer = panelToken(slot.dataset.session);
  const headers = { Accept: "text/html", ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}) };
  let timer = null;
  let shown = "";

  async function refresh() {
    let response;
    try {
      response = await fetch(slot.dataset.partUrl, { credentials: "same-origin", headers });
    } catch (error) {
      return; // offline for a moment: keep what is shown, try again at the next tick
    }
    slot.setAttribute("aria-busy", "false");
    if (response.status === 401 || response.status === 403 || response.status === 404) {
      slot.hidden = true;
      denied.hidden = false;
      window.clearInterval(timer);
      return;
    }
    if (!response.ok) return;
    const html = await response.text();
    // Keep the reader's place: replace only when something changed.
    if (html !== shown) {
      shown = html;
      slot.innerHTML = html;
    }
  }

  refresh();
  timer = window.setInterval(refresh, REFRESH_MS);
}
