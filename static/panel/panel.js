// The topic board in the side panel inside Zoom or Teams (see live/panel-token.js for how it
// is authenticated there), and the session's rating at the end of the panel.
import { BoardApp, readBoot } from "../board/board.js";
import { panelToken } from "../live/panel-token.js";
import { startFeedback } from "./feedback.js";

const root = document.querySelector("[data-board]");
if (root) {
  const boot = readBoot();
  const bearer = panelToken(boot.session_id);
  const app = new BoardApp(root, boot, { mode: "panel", bearer });
  app.start();
  const feedback = document.querySelector("[data-feedback]");
  if (feedback) startFeedback(feedback, boot, bearer);
}
