// The side panel inside Zoom or Teams: third-party cookies are blocked there, so the
// integration opens /panel/sessions/<id>#token=<bearer token>. The token is kept for this tab
// only (sessionStorage) and taken out of the address so it is not shown or shared by accident.
// Without a token the page falls back to the join-link cookie (a participant's own browser).
import { BoardApp, readBoot } from "../board/board.js";

function bearerToken(sessionId) {
  const key = `kollega.panel.${sessionId}`;
  const params = new URLSearchParams(window.location.hash.slice(1));
  const fromHash = params.get("token");
  if (fromHash) {
    try {
      window.sessionStorage.setItem(key, fromHash);
    } catch (error) {
      // Storage can be off in an embedded browser; the token still works for this page view.
    }
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
    return fromHash;
  }
  try {
    return window.sessionStorage.getItem(key);
  } catch (error) {
    return null;
  }
}

const root = document.querySelector("[data-board]");
if (root) {
  const boot = readBoot();
  const app = new BoardApp(root, boot, { mode: "panel", bearer: bearerToken(boot.session_id) });
  app.start();
}
