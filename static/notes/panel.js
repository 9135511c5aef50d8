// The shared notes in the side panel inside Zoom or Teams. Third-party cookies are blocked
// there, so the integration opens /panel/sessions/<id>/notes#token=<bearer token>; the token is
// kept for this tab only (sessionStorage) and taken out of the address so it is not shown or
// shared by accident. Without a token the page uses the join-link cookie (one's own browser).
import { NotesPage } from "./notes.js";

function bearerToken(key) {
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

const root = document.querySelector("[data-notes-space][data-panel]");
if (root) {
  const bearer = bearerToken(`kollega.notes.${root.dataset.sessionId}`);
  new NotesPage(root, { bearer }).start();
}
