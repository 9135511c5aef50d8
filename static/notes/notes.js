// Shared notes, live: the page is complete without this script (every form posts and
// reloads); with it, notes, the summary and action items update in place as anyone writes,
// and saving a summary that someone else changed meanwhile opens the merge view.
//
// Updates come from the live server (static/live/client.js). If the WebSocket cannot be
// reached (a strict firewall), the page asks the API for what changed every few seconds.
// Events carry full objects, so applying one twice (live and polled) changes nothing.
// The same live connection brings the facilitator's messages to every breakout group.

import { followBroadcasts } from "../breakouts/broadcast-banner.js";
import { LiveClient, tokenFetcher } from "../live/client.js";

const POLL_MS = 4000;
const FALLBACK_AFTER_MS = 8000;

let root = document.querySelector("[data-notes-space]");
let bearer = null;

function text(name, values = {}) {
  let value = root.dataset[name] || "";
  for (const [key, replacement] of Object.entries(values)) {
    value = value.replace(`%(${key})s`, replacement);
  }
  return value;
}

function authHeaders() {
  // The side panel carries a bearer token (no cookies in Zoom or Teams); a page has its cookie
  // and proves it with the CSRF token.
  return bearer ? { Authorization: `Bearer ${bearer}` } : { "X-CSRFToken": root.dataset.csrf || "" };
}

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      "Content-Type": "application/json",
      ...authHeaders(),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
  }
  return { ok: response.ok, status: response.status, data };
}

function formatTime(iso) {
  // 24-hour clock as the pages print it (HH:mm), whatever the browser's locale prefers.
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: root.dataset.timezone };
  return new Intl.DateTimeFormat(root.dataset.language || undefined, options).format(new Date(iso));
}

function formatDate(isoDate) {
  const [year, month, day] = isoDate.split("-").map(Number);
  return `${day}.${month}.${year}`;
}

export class NotesPage {
  constructor(element, options = {}) {
    root = element;
    bearer = options.bearer || null;
    this.spaceId = Number(root.dataset.spaceId || 0);
    this.channel = root.dataset.channel;
    this.seq = Number(root.dataset.seq || 0);
    this.mePid = root.dataset.meParticipant ? Number(root.dataset.meParticipant) : null;
    this.meFacilitator = Boolean(root.dataset.meFacilitator);
    this.itemsList = root.querySelector("[data-items]");
    this.noItems = root.querySelector("[data-no-items]");
    this.actionsList = root.querySelector("[data-actions]");
    this.noActions = root.querySelector("[data-no-actions]");
    this.summaryForm = root.querySelector("[data-summary-form]");
    this.summaryDirty = false;
    this.status = document.querySelector("[data-live-status]");
    this.pollTimer = null;
    this.offlineSince = Date.now();
  }

  apiBase() {
    return root.dataset.api; // /api/v1/notes/<id>
  }

  // --- connection ---------------------------------------------------------------------------

  // The side panel's page holds no data: load the space first, then go on as a page does.
  async load() {
    const result = await api("GET", root.dataset.spaceUrl);
    if (!result.ok) {
      root.querySelector("[data-denied]")?.removeAttribute("hidden");
      root.querySelector("[data-space-body]")?.setAttribute("hidden", "");
      return false;
    }
    const space = result.data;
    root.querySelector("[data-denied]")?.setAttribute("hidden", "");
    root.querySelector("[data-space-body]")?.removeAttribute("hidden");
    this.spaceId = space.id;
    this.channel = space.channel;
    this.seq = space.seq || 0;
    this.mePid = space.viewer ? space.viewer.participant_id : null;
    this.meFacilitator = Boolean(space.viewer && space.viewer.is_facilitator);
    root.dataset.api = `${root.dataset.apiRoot}/notes/${space.id}`;
    root.dataset.timezone = space.timezone;
    const title = root.querySelector("[data-space-label]");
    if (title) title.textContent = space.label;
    if (!(space.viewer && space.viewer.can_write)) {
      for (const form of root.querySelectorAll("[data-add-item], [data-summary-editor], [data-add-action-box]")) {
        form.remove();
      }
      this.summaryForm = null;
    } else {
      this.fillOwners(space.viewer.owners || []);
    }
    this.applySnapshot(space, this.seq);
    return true;
  }

  async start() {
    if (!this.spaceId && root.dataset.spaceUrl && !(await this.load())) return;
    this.bindForms();
    const tokenUrl = root.dataset.tokenUrl;
    if (tokenUrl) {
      this.live = new LiveClient({
        getToken: tokenFetcher(tokenUrl, authHeaders),
        onState: (state) => this.onLiveState(state),
      });
      this.live.subscribe(
        this.channel,
        {
          onSnapshot: (data, seq) => this.applySnapshot(data, seq),
          onEvent: (event) => this.applyEvent(event),
        },
        this.seq,
      );
      // During a breakout round the facilitator's messages to every group show here too.
      const banner = root.querySelector("[data-broadcast-banner]");
      if (banner && root.dataset.breakoutsChannel) {
        followBroadcasts(this.live, root.dataset.breakoutsChannel, banner, () => root.dataset.timezone);
      }
      this.live.start();
    }
    // Until the live connection says it is up (and whenever it is down), poll.
    this.schedulePoll(FALLBACK_AFTER_MS);
  }

  onLiveState(state) {
    if (state === "live") {
      this.offlineSince = null;
      this.showStatus(text("textLive"), "live");
      clearTimeout(this.pollTimer);
      this.pollTimer = null;
      // Events might have arrived by polling meanwhile; the live client skips what it has.
    } else {
      if (this.offlineSince === null) this.offlineSince = Date.now();
      this.showStatus(text("textOffline"), "offline");
      if (state === "denied") this.schedulePoll(0);
      else this.schedulePoll(FALLBACK_AFTER_MS);
    }
  }

  showStatus(message, state) {
    if (!this.status) return;
    this.status.hidden = false;
    this.status.textContent = message;
    this.status.dataset.state = state;
  }

  schedulePoll(delay) {
    if (this.pollTimer !== null) return;
    this.pollTimer = setTimeout(() => this.poll(), delay);
  }

  async poll() {
    this.pollTimer = null;
    if (this.live && this.live.state === "live") return;
    try {
      const result = await api("GET", `${this.apiBase()}/events?after=${this.seq}`);
      if (result.ok) {
        const data = result.data;
        if (data.snapshot) this.applySnapshot(data.snapshot, data.seq);
        for (const event of data.events || []) this.applyEvent(event);
        if (!this.live || this.live.state !== "live") this.showStatus(text("textPolling"), "polling");
      }
    } catch (error) {
      this.showStatus(text("textOffline"), "offline");
    }
    this.schedulePoll(POLL_MS);
  }

  // --- applying state -------------------------------------------------------------------------

  applySnapshot(data, seq) {
    if (!data || data.missing) return;
    this.seq = seq;
    this.itemsList.replaceChildren(...data.items.map((item) => this.itemElement(item)));
    this.renderSummary(data.summary);
    this.actionsList.replaceChildren(...data.actions.map((action) => this.actionElement(action)));
    this.refreshEmpty();
  }

  applyEvent(event) {
    if (event.seq <= this.seq) return; // applied already (live and polling overlap)
    this.seq = event.seq;
    const data = event.data;
    switch (event.kind) {
      case "item.added":
      case "item.updated":
        this.upsertItem(data);
        break;
      case "item.deleted":
        root.querySelector(`#item-${data.id}`)?.remove();
        break;
      case "summary.saved":
        this.renderSummary(data);
        break;
      case "action.added":
      case "action.updated":
        this.upsertAction(data);
        break;
      case "action.deleted":
        root.querySelector(`#action-${data.id}`)?.remove();
        break;
      case "space.shared":
        // The tabs and badges come from the server; a reload shows them without losing input
        // only when nothing is being typed.
        if (!this.isTyping()) window.location.reload();
        break;
      default:
        break;
    }
    this.refreshEmpty();
  }

  isTyping() {
    const active = document.activeElement;
    return Boolean(active && (active.tagName === "TEXTAREA" || active.tagName === "INPUT") && active.value);
  }

  refreshEmpty() {
    if (this.noItems) this.noItems.hidden = this.itemsList.children.length > 0;
    if (this.noActions) this.noActions.hidden = this.actionsList.children.length > 0;
  }

  // --- note items -----------------------------------------------------------------------------

  mayChange(item) {
    return this.meFacilitator || (this.mePid !== null && item.author.participant_id === this.mePid);
  }

  itemElement(item) {
    const template = document.getElementById("note-item-template");
    const element = template.content.firstElementChild.cloneNode(true);
    element.id = `item-${item.id}`;
    element.dataset.itemId = String(item.id);
    element.querySelector("[data-item-html]").innerHTML = item.html; // sanitised by the server
    element.querySelector("[data-item-author]").textContent = item.author.name || text("textSomeone");
    const time = element.querySelector("time");
    time.dateTime = item.created_at;
    time.textContent = formatTime(item.created_at);
    const tools = element.querySelector("[data-item-tools]");
    if (this.mayChange(item)) {
      const edit = tools.querySelector("[data-edit-item]");
      edit.href = root.dataset.itemUrl.replace("{id}", item.id);
      edit.textContent = text("textEdit");
      const form = tools.querySelector("[data-delete-item]");
      form.action = root.dataset.itemUrl.replace("{id}", item.id).replace(/edit$/, "delete");
      form.querySelector("button").textContent = text("textDelete");
    } else {
      tools.remove();
    }
    element.dataset.body = item.body;
    return element;
  }

  upsertItem(item) {
    const element = this.itemElement(item);
    const existing = root.querySelector(`#item-${item.id}`);
    if (existing) {
      if (existing.querySelector("[data-inline-editor]")) return; // being edited here
      existing.replaceWith(element);
    } else {
      this.itemsList.append(element);
    }
  }

  // --- the summary ----------------------------------------------------------------------------

  renderSummary(summary) {
    if (!summary) return;
    const body = root.querySelector("[data-summary-html]");
    if (summary.html) body.innerHTML = summary.html; // sanitised by the server
    const meta = root.querySelector("[data-summary-meta]");
    if (meta && summary.revision) {
      const link = meta.querySelector("a");
      const parts = [root.dataset.textVersion?.replace("%(n)s", summary.revision) || `#${summary.revision}`];
      if (summary.updated_by) parts.push(summary.updated_by.name || text("textSomeone"));
      if (summary.updated_at) parts.push(formatTime(summary.updated_at));
      meta.textContent = `${parts.join(" · ")} · `;
      if (link) meta.append(link);
    }
    if (!this.summaryForm) return;
    const base = this.summaryForm.querySelector("[data-base-revision]");
    const textarea = this.summaryForm.querySelector("textarea");
    if (this.summaryDirty) {
      // Keep what is being typed; saving will detect the conflict and offer the merge.
      if (Number(base.value) !== summary.revision) this.showChangedNotice();
      return;
    }
    base.value = summary.revision;
    textarea.value = summary.text;
  }

  showChangedNotice() {
    let notice = this.summaryForm.querySelector("[data-changed-notice]");
    if (!notice) {
      notice = document.createElement("p");
      notice.className = "notice warning";
      notice.dataset.changedNotice = "";
      notice.setAttribute("role", "status");
      this.summaryForm.prepend(notice);
    }
    notice.textContent = text("textChanged");
  }

  async saveSummary(event) {
    event.preventDefault();
    const form = this.summaryForm;
    const base = form.querySelector("[data-base-revision]");
    const textarea = form.querySelector("textarea");
    const panel = form.querySelector("[data-merge-panel]");
    let result;
    try {
      result = await api("PUT", `${this.apiBase()}/summary`, {
        text: textarea.value,
        base_revision: Number(base.value),
      });
    } catch (error) {
      if (panel) panel.hidden = true;
      this.showError(form, null);
      return;
    }
    if (result.ok) {
      this.summaryDirty = false;
      form.querySelector("[data-changed-notice]")?.remove();
      this.clearError(form);
      if (panel) panel.hidden = true;
      this.renderSummary(result.data.summary);
      form.closest("details")?.removeAttribute("open");
      return;
    }
    // Only a 409 that carries both texts means someone else saved first; any other failure
    // (an expired form, no connection, no right to write) says what it was instead.
    if (result.status === 409 && result.data && typeof result.data.current_text === "string") {
      this.clearError(form);
      // Someone saved first: show both texts and put a merge of them in the box.
      panel.hidden = false;
      panel.querySelector("[data-merge-theirs]").textContent = result.data.current_text;
      panel.querySelector("[data-merge-mine]").textContent = result.data.your_text;
      textarea.value = result.data.merged_text;
      base.value = result.data.current_revision;
      form.querySelector("[data-changed-notice]")?.remove();
      panel.querySelector("[role=alert]")?.focus?.();
      textarea.focus();
      return;
    }
    if (panel) panel.hidden = true;
    this.showError(form, result);
  }

  // --- action items ---------------------------------------------------------------------------

  /** The side panel's "Who does it?" list: the session's participants, the viewer first chosen. */
  fillOwners(owners) {
    const select = root.querySelector("[data-action-owner]");
    if (!select) return;
    select.replaceChildren(
      ...owners.map((owner) => {
        const option = document.createElement("option");
        option.value = String(owner.id);
        option.textContent = owner.name;
        option.selected = owner.id === this.mePid;
        return option;
      }),
    );
  }

  async addAction(form) {
    const button = form.querySelector("button[type=submit]");
    const what = form.querySelector("[name=text]");
    const due = form.querySelector("[name=due_on]");
    const owner = form.querySelector("[name=owner_id]");
    button.disabled = true;
    try {
      const result = await api("POST", `${this.apiBase()}/actions`, {
        text: what.value,
        owner_id: Number(owner.value),
        due_on: due.value || null,
      });
      if (result.ok) {
        this.upsertAction(result.data);
        this.refreshEmpty();
        what.value = "";
        due.value = "";
        this.clearError(form);
      } else {
        this.showError(form, result);
      }
    } catch (error) {
      this.showError(form, null);
    } finally {
      button.disabled = false;
    }
  }

  actionElement(action) {
    const li = document.createElement("li");
    li.className = `action-item${action.done ? " done" : ""}`;
    li.id = `action-${action.id}`;
    li.dataset.actionId = String(action.id);
    const form = document.createElement("form");
    form.method = "post";
    form.className = "action-toggle";
    form.dataset.toggleAction = "";
    form.action = `/actions/${action.id}/done`;
    const button = document.createElement("button");
    button.type = "submit";
    button.className = "check-button";
    button.setAttribute("role", "checkbox");
    button.setAttribute("aria-checked", action.done ? "true" : "false");
    button.setAttribute("aria-label", action.text);
    button.innerHTML = '<span aria-hidden="true">✓</span>';
    form.append(button);
    const body = document.createElement("div");
    body.className = "action-text";
    const what = document.createElement("span");
    what.textContent = action.text;
    const meta = document.createElement("span");
    meta.className = "small muted";
    meta.textContent = action.owner_name + (action.due_on ? ` · ${text("textBy", { date: formatDate(action.due_on) })}` : "");
    body.append(what, document.createElement("br"), meta);
    li.append(form, body);
    li.dataset.done = action.done ? "1" : "";
    return li;
  }

  upsertAction(action) {
    const element = this.actionElement(action);
    const existing = root.querySelector(`#action-${action.id}`);
    if (existing) existing.replaceWith(element);
    else this.actionsList.append(element);
  }

  async toggleAction(form) {
    const li = form.closest("[data-action-id]");
    const done = form.querySelector("button").getAttribute("aria-checked") !== "true";
    const result = await api("PATCH", `/api/v1/actions/${li.dataset.actionId}`, { done });
    if (result.ok) this.upsertAction(result.data);
    else this.showError(li, result);
  }

  // --- forms ----------------------------------------------------------------------------------

  showError(near, result) {
    let message = text("textError");
    if (result && result.data) {
      const fieldErrors = (result.data.errors || []).map((e) => e.message);
      message = fieldErrors.join(" ") || result.data.detail || result.data.title || message;
    }
    let box = near.querySelector("[data-form-error]");
    if (!box) {
      box = document.createElement("p");
      box.className = "field-error";
      box.dataset.formError = "";
      box.setAttribute("role", "alert");
      near.prepend(box);
    }
    box.textContent = message;
  }

  clearError(near) {
    near.querySelector("[data-form-error]")?.remove();
  }

  bindForms() {
    const addForm = root.querySelector("[data-add-item]");
    addForm?.addEventListener("submit", async (event) => {
      event.preventDefault();
      const textarea = addForm.querySelector("textarea");
      const button = addForm.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const result = await api("POST", `${this.apiBase()}/items`, { body: textarea.value });
        if (result.ok) {
          this.upsertItem(result.data);
          this.refreshEmpty();
          textarea.value = "";
          this.clearError(addForm);
        } else {
          this.showError(addForm, result);
        }
      } catch (error) {
        this.showError(addForm, null);
      } finally {
        button.disabled = false;
        textarea.focus();
      }
    });

    if (this.summaryForm) {
      const textarea = this.summaryForm.querySelector("textarea");
      textarea.addEventListener("input", () => {
        this.summaryDirty = true;
      });
      this.summaryForm.addEventListener("submit", (event) => this.saveSummary(event));
    }

    root.addEventListener("submit", async (event) => {
      const form = event.target;
      if (form.matches("[data-delete-item]")) {
        event.preventDefault();
        if (!window.confirm(text("textConfirmDelete"))) return;
        const li = form.closest("[data-item-id]");
        const result = await api("DELETE", `/api/v1/notes/items/${li.dataset.itemId}`);
        if (result.ok) {
          li.remove();
          this.refreshEmpty();
        } else {
          this.showError(li, result);
        }
      } else if (form.matches("[data-toggle-action]")) {
        event.preventDefault();
        await this.toggleAction(form);
      } else if (form.matches("[data-add-action]")) {
        event.preventDefault();
        await this.addAction(form);
      }
    });

    root.addEventListener("click", (event) => {
      const link = event.target.closest("[data-edit-item]");
      if (!link) return;
      event.preventDefault();
      this.editInline(link.closest("[data-item-id]"));
    });
  }

  editInline(li) {
    if (li.querySelector("[data-inline-editor]")) return;
    const body = li.querySelector("[data-item-html]");
    const form = document.createElement("form");
    form.className = "stack";
    form.dataset.inlineEditor = "";
    const label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = `edit-${li.dataset.itemId}`;
    label.textContent = text("textEdit");
    const textarea = document.createElement("textarea");
    textarea.id = `edit-${li.dataset.itemId}`;
    textarea.rows = 3;
    textarea.maxLength = 2000;
    textarea.value = li.dataset.body || body.textContent.trim();
    const actions = document.createElement("div");
    actions.className = "actions";
    const save = document.createElement("button");
    save.type = "submit";
    save.textContent = text("textSave");
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "secondary";
    cancel.textContent = text("textCancel");
    actions.append(save, cancel);
    form.append(label, textarea, actions);
    body.hidden = true;
    body.after(form);
    textarea.focus();
    cancel.addEventListener("click", () => {
      form.remove();
      body.hidden = false;
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const result = await api("PATCH", `/api/v1/notes/items/${li.dataset.itemId}`, { body: textarea.value });
      if (result.ok) {
        form.remove();
        this.upsertItem(result.data);
      } else {
        this.showError(form, result);
      }
    });
  }
}

// The side panel's script (panel.js) starts its own, with the bearer token.
if (root && !root.hasAttribute("data-panel")) {
  new NotesPage(root).start();
}
