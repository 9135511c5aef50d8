// The shared notes in the side panel inside Zoom or Teams (see live/panel-token.js for how it
// is authenticated there).
import { panelToken } from "../live/panel-token.js";
import { NotesPage } from "./notes.js";

const root = document.querySelector("[data-notes-space][data-panel]");
if (root) {
  const bearer = panelToken(root.dataset.sessionId);
  new NotesPage(root, { bearer }).start();
}
