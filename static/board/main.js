// The full board page (facilitator's screen): cookie session, CSRF header on writes.
import { BoardApp, readBoot } from "./board.js";

const root = document.querySelector("[data-board]");
if (root) {
  const app = new BoardApp(root, readBoot(), { mode: "full" });
  app.start();
}
