// Shared by the breakout pages: boot data, texts, the JSON API, the live channel (with a
// polling fallback) and swapping a server-rendered part of the page in place.

import { LiveClient, tokenFetcher } from "../live/client.js";

export function readBoot() {
  const element = document.getElementById("breakouts-boot");
  return element ? JSON.parse(element.textContent) : {};
}

/** A text from the boot's strings with %(name)s placeholders filled. */
export function text(boot, key, values = {}) {
  let value = (boot.strings && boot.strings[key]) || key;
  for (const [name, replacement] of Object.entries(values)) {
    value = value.replace(`%(${name})s`, replacement);
  }
  return value;
}

export async function api(boot, method, url, body, extraHeaders = {}) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      "Content-Type": "application/json",
      "X-CSRFToken": boot.csrf || "",
      ...extraHeaders,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
  }
  return { ok: response.ok, status: response.status, data };
}

/**
 * A topic choice submitted in `slot` ("Choose" or "Take back"), sent to the JSON API instead of
 * reloading the page: `send(method, groupId)` makes the request; returns its result, or null
 * when the submit was not a choice.
 */
export async function pickFromSubmit(event, send) {
  const form = event.target.closest && event.target.closest("[data-pick-form]");
  if (!form) return null;
  event.preventDefault();
  const leave = event.submitter && event.submitter.value === "leave";
  const groupId = form.querySelector("input[name='group_id']").value;
  return send(leave ? "DELETE" : "POST", groupId);
}

/** Tell screen readers (the page's polite live region). */
export function announce(message) {
  const region = document.querySelector("[data-announce]");
  if (!region) return;
  // Clearing first makes the same sentence be read again.
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = message;
  }, 50);
}

/** Which facilitator's message `slot` shows now ("" for none). */
export function broadcastShown(slot) {
  const banner = slot.querySelector("[data-broadcast]");
  return banner ? banner.dataset.at || "" : "";
}

/**
 * After `slot` was fetched again: read a new message of the facilitator's aloud (it is shown
 * above the group). Returns whether there was one.
 */
export function announceBroadcast(slot, before) {
  const now = broadcastShown(slot);
  if (!now || now === before) return false;
  const banner = slot.querySelector("[data-broadcast]");
  const from = banner.querySelector(".broadcast-from");
  const said = banner.querySelector("[data-broadcast-text]");
  announce(`${from ? from.textContent.trim() : ""}: ${said ? said.textContent.trim() : ""}`);
  return true;
}

/**
 * Replace the inside of `slot` with the page part the server renders at `url`, keeping the
 * focus on the element with the same id (or data-key) if it is still there. Returns the HTTP
 * status (the slot is left as it was unless it is 2xx).
 */
export async function swapPart(slot, url, extraHeaders = {}) {
  const response = await fetch(url, {
    credentials: "same-origin",
    headers: { Accept: "text/html", ...extraHeaders },
  });
  if (!response.ok) return response.status;
  const html = await response.text();
  const focused = document.activeElement;
  const focusId = focused && slot.contains(focused) ? focused.id : "";
  slot.innerHTML = html;
  if (focusId) {
    const again = document.getElementById(focusId);
    if (again) again.focus({ preventScroll: true });
  }
  return response.status;
}

const POLL_MS = 8000;

/**
 * Follow the session's breakout channel: `onChange(event)` after every event (and after the
 * snapshot); when the live server cannot be reached, poll with `onChange(null)`. `headers`
 * gives what the token request sends besides the cookie (the side panel's bearer token).
 */
export function follow(boot, onChange, headers = () => ({})) {
  const state = document.querySelector("[data-live-state]");
  let pollTimer = null;
  const setState = (name) => {
    if (state) {
      state.dataset.state = name === "denied" ? "offline" : name;
      state.textContent = text(boot, name === "live" ? "live" : name === "connecting" ? "connecting" : "offline");
    }
    if (name === "live") {
      window.clearInterval(pollTimer);
      pollTimer = null;
    } else if (!pollTimer) {
      pollTimer = window.setInterval(() => onChange(null), POLL_MS);
    }
  };
  if (!boot.channel || !boot.token_url || !("WebSocket" in window)) {
    setState("offline");
    return;
  }
  const live = new LiveClient({ getToken: tokenFetcher(boot.token_url, headers), onState: setState });
  let first = true;
  live.subscribe(
    boot.channel,
    {
      onSnapshot: () => {
        // The page was rendered at `boot.seq`; a snapshot after that means we missed events
        // (a page that rendered nothing itself, `seq` null, fetches again to be sure).
        if (!first || boot.seq === null) onChange(null);
        first = false;
      },
      onEvent: (event) => onChange(event),
    },
    boot.seq,
  );
  live.start();
}
