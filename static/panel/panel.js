// The topic board in the side panel inside Zoom or Teams (see live/panel-token.js for how it
// is authenticated there).
import { BoardApp, readBoot } from "../board/board.js";
import { panelToken } from "../live/panel-token.js";

const root = document.querySelector("[data-board]");
if (root) {
  const boot = readBoot();
  const app = new BoardApp(root, boot, { mode: "panel", bearer: panelToken(boot.session_id) });
  app.start();
}
