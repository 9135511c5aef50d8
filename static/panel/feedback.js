// The end of the side panel: rate the session with one tap (1-5), then an optional comment.
// It stays hidden until the API says the session can be rated (it is on, or has been held),
// and for facilitators (the API answers them 404). The same identity as the board: the
// panel's bearer token, or the join-link cookie with the CSRF header.

export function startFeedback(root, boot, bearer) {
  const url = `${boot.api_root}/sessions/${boot.session_id}/feedback`;
  const strings = JSON.parse(root.dataset.strings || "{}");
  const buttons = [...root.querySelectorAll("[data-rate]")];
  const form = root.querySelector("[data-comment]");
  const comment = form.querySelector("textarea");
  const status = root.querySelector("[data-feedback-status]");
  let rating = null;

  const headers = (json) => {
    const result = { Accept: "application/json" };
    if (json) result["Content-Type"] = "application/json";
    if (bearer) result.Authorization = `Bearer ${bearer}`;
    else if (boot.csrf) result["X-CSRFToken"] = boot.csrf;
    return result;
  };

  const show = (data) => {
    rating = data.rating;
    for (const button of buttons) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.rate) === rating));
    }
    form.hidden = rating === null;
    if (document.activeElement !== comment) comment.value = data.comment || "";
  };

  const send = async (body, message) => {
    try {
      const response = await fetch(url, {
        method: "PUT",
        headers: headers(true),
        body: JSON.stringify(body),
        credentials: bearer ? "omit" : "same-origin",
      });
      if (!response.ok) throw new Error(String(response.status));
      show(await response.json());
      status.textContent = message;
    } catch (error) {
      status.textContent = strings.error || "";
    }
  };

  for (const button of buttons) {
    button.addEventListener("click", () =>
      send({ rating: Number(button.dataset.rate), comment: comment.value }, strings.saved || ""),
    );
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (rating !== null) send({ rating, comment: comment.value }, strings.comment_saved || "");
  });

  fetch(url, { headers: headers(false), credentials: bearer ? "omit" : "same-origin" })
    .then((response) => (response.ok ? response.json() : null))
    .then((data) => {
      if (!data || !data.open) return;
      show(data);
      root.hidden = false;
    })
    .catch(() => {});
}
