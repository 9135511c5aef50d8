// Kollega's Zoom App home page: configures the Zoom Apps SDK and opens the board's side panel.
//
// The SDK comes from https://appssdk.zoom.us as Zoom documents it (a classic script that
// defines `zoomSdk`); the page's CSP allows that origin (NOTES §5.2). Outside Zoom the SDK is
// missing and the page still works: the "open" state simply follows its link.

const CONFIG_TIMEOUT_MS = 2000;
const CAPABILITIES = ["getAppContext", "authorize", "onAuthorized", "getUserContext"];

const root = document.querySelector("[data-zoom-app]");
if (root) {
  start(root);
}

function withTimeout(promise, ms) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(null), ms))]);
}

// NOTES §5.5: config() must run before any other SDK call; it rejects outside the Zoom client.
async function configure() {
  const sdk = window.zoomSdk;
  if (!sdk || typeof sdk.config !== "function") {
    return null;
  }
  try {
    const answer = await withTimeout(sdk.config({ capabilities: CAPABILITIES }), CONFIG_TIMEOUT_MS);
    return answer ? sdk : null;
  } catch (error) {
    return null;
  }
}

function say(root, text) {
  const status = root.querySelector("[data-status]");
  if (status) {
    status.textContent = text;
  }
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
    credentials: "omit", // the panel has no cookies: the Zoom context vouches for it
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(data.detail || data.title || String(response.status));
  }
  return data;
}

async function freshContext(sdk) {
  // NOTES §5.1: a context lives about two minutes, so ask for one each time.
  const { context } = await sdk.getAppContext();
  return context;
}

function identify(root, sdkReady) {
  const button = root.querySelector("[data-identify]");
  if (!button) {
    return;
  }
  button.addEventListener("click", async () => {
    button.disabled = true;
    say(root, root.dataset.textWorking);
    const sdk = await sdkReady;
    if (!sdk) {
      say(root, root.dataset.textNoSdk);
      button.disabled = false;
      return;
    }
    try {
      const start = await postJson(root.dataset.authorizeUrl, { context: await freshContext(sdk) });
      // NOTES §5.4: in-client OAuth answers through the onAuthorized event.
      sdk.addEventListener("onAuthorized", async (event) => {
        try {
          const done = await postJson(root.dataset.authorizedUrl, {
            context: await freshContext(sdk),
            code: event.code,
            state: event.state,
            redirectUri: event.redirectUri || "",
          });
          window.location.replace(done.panel_url);
        } catch (error) {
          say(root, `${root.dataset.textFailed} (${error.message})`);
          button.disabled = false;
        }
      });
      await sdk.authorize({ codeChallenge: start.codeChallenge, state: start.state });
    } catch (error) {
      say(root, `${root.dataset.textFailed} (${error.message})`);
      button.disabled = false;
    }
  });
}

function start(root) {
  const sdkReady = configure();
  if (root.dataset.state === "open" && root.dataset.panelUrl) {
    // Configure first so the SDK knows the app (breakout moves keep the page), then go.
    sdkReady.then(() => window.location.replace(root.dataset.panelUrl));
    return;
  }
  if (root.dataset.state === "identify") {
    identify(root, sdkReady);
  }
}
