// The side panel's bearer token. Inside Zoom or Teams third-party cookies are blocked, so the
// integration opens a panel page as ...#token=<bearer token>. The token is kept for this tab
// (sessionStorage, one key per session, shared by the board and notes panels so moving between
// them keeps it) and taken out of the address so it is not shown or shared by accident.
// Without a token the pages fall back to the join-link cookie (a participant's own browser).

export function panelToken(sessionId) {
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
