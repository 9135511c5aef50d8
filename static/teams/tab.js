// Kollega's Teams meeting app tab (side panel and meeting stage): signs in with Teams SSO and
// opens the session's board, notes and my-group panel in a frame below a slim bar.
//
// TeamsJS (static/vendor/teams-js, served from Kollega) defines `microsoftTeams`. The context
// it gives is only a hint (NOTES §4.2): the server trusts the SSO token and checks that the
// context names the same user. Outside Teams the page explains where the board is instead.

const INIT_TIMEOUT_MS = 5000;
const TIMED_OUT = "timed out";

const root = document.querySelector("[data-teams-tab]");
if (root) {
  start(root);
}

function withTimeout(promise, ms) {
  return Promise.race([
    promise,
    new Promise((_resolve, reject) => setTimeout(() => reject(new Error(TIMED_OUT)), ms)),
  ]);
}

function say(text) {
  root.querySelector("[data-status]").textContent = text;
}

function show(state, heading, detail) {
  root.dataset.state = state;
  if (heading !== undefined) {
    root.querySelector("[data-heading]").textContent = heading;
  }
  root.querySelector("[data-detail]").textContent = detail || "";
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
    credentials: "omit", // third-party cookies are blocked in Teams: the SSO token vouches
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.detail || data.title || String(response.status));
    error.title = data.title || "";
    throw error;
  }
  return data;
}

function openPanel(teams, context, answer) {
  const frame = root.querySelector("[data-panel]");
  const bar = root.querySelector("[data-bar]");
  root.querySelector("[data-title]").textContent = answer.session_title;
  root.querySelector("[data-message]").hidden = true;
  bar.hidden = false;
  frame.src = answer.panel_url;
  frame.hidden = false;
  root.dataset.state = "open";
  say("");
  const frameContext = context.page && context.page.frameContext;
  if (answer.facilitator && frameContext === "sidePanel") {
    offerStage(teams);
  }
}

// NOTES §4.2: sharing to the stage is allowed from the side panel; the stage loads the tab's
// own address, where every viewer signs in with their own SSO token.
function offerStage(teams) {
  const button = root.querySelector("[data-share]");
  if (!teams.meeting || typeof teams.meeting.shareAppContentToStage !== "function") {
    return;
  }
  teams.meeting.getAppContentStageSharingCapabilities((error, capabilities) => {
    if (error || !capabilities || !capabilities.doesAppHaveSharePermission) {
      return;
    }
    button.hidden = false;
  });
  button.addEventListener("click", () => {
    button.disabled = true;
    teams.meeting.shareAppContentToStage((error) => {
      button.disabled = false;
      say(error ? root.dataset.textShareFailed : root.dataset.textShared);
    }, root.dataset.stageUrl);
  });
}

async function start(root) {
  const teams = window.microsoftTeams;
  if (!teams || window.parent === window) {
    show("outside", undefined, root.dataset.textNoTeams);
    return;
  }
  say(root.dataset.textWorking);
  let context;
  try {
    await withTimeout(teams.app.initialize(), INIT_TIMEOUT_MS);
    context = await teams.app.getContext();
  } catch (error) {
    show("outside", undefined, root.dataset.textNoTeams);
    say("");
    return;
  }
  let token;
  try {
    token = await teams.authentication.getAuthToken();
  } catch (error) {
    // Anonymous guests get no token (NOTES §6: no SSO for them).
    show("guest", root.dataset.textWho, root.dataset.textGuest);
    say("");
    return;
  }
  try {
    const answer = await postJson(root.dataset.openUrl, {
      token,
      chat_id: (context.chat && context.chat.id) || "",
      meeting_id: (context.meeting && context.meeting.id) || "",
      user_id: (context.user && context.user.id) || "",
      tenant_id: (context.user && context.user.tenant && context.user.tenant.id) || "",
    });
    if (answer.state === "open") {
      openPanel(teams, context, answer);
      return;
    }
    show("identify", root.dataset.textWho, answer.session_title);
    root.querySelector("[data-identify]").hidden = false;
    say("");
  } catch (error) {
    show("error", error.title || root.dataset.textFailed, error.message);
    say("");
  }
}
