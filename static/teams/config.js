// The configurable tab's configuration page: Teams shows it when Kollega is added to a
// meeting; saving points the tab (side panel, stage, chat and details tabs) at /tab.

const root = document.querySelector("[data-teams-config]");
if (root) {
  configure(root);
}

async function configure(root) {
  const teams = window.microsoftTeams;
  const status = root.querySelector("[data-status]");
  if (!teams || window.parent === window) {
    status.textContent = root.dataset.textNoTeams;
    return;
  }
  try {
    await teams.app.initialize();
  } catch (error) {
    status.textContent = root.dataset.textNoTeams;
    return;
  }
  teams.pages.config.registerOnSaveHandler(async (saveEvent) => {
    try {
      await teams.pages.config.setConfig({
        entityId: "kollega-board",
        contentUrl: root.dataset.tabUrl,
        websiteUrl: root.dataset.tabUrl,
        suggestedDisplayName: root.dataset.tabName,
      });
      saveEvent.notifySuccess();
    } catch (error) {
      saveEvent.notifyFailure(String(error && error.message ? error.message : error));
    }
  });
  await teams.pages.config.setValidityState(true);
  root.dataset.state = "ready";
}
