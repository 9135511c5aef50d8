// The contact form: choosing a person whose offers and needs fit one's own ticks the suggested
// kind (customer or business partner) and says why, unless the kind was already changed by hand.
const hint = document.getElementById("kind-suggestion");
const form = hint && hint.closest("form");
const select = form && form.querySelector("select[name='person_id']");
if (hint && form && select) {
  const kinds = JSON.parse(hint.dataset.suggestedKinds || "{}");
  let touched = false;
  form.querySelectorAll("input[name='kind']").forEach((radio) => {
    radio.addEventListener("change", (event) => {
      if (event.isTrusted) touched = true;
    });
  });
  const apply = () => {
    const kind = kinds[select.value];
    hint.textContent = "";
    if (!kind) return;
    const radio = form.querySelector(`input[name='kind'][value='${kind}']`);
    if (!radio) return;
    if (!touched) radio.checked = true;
    const label = radio.closest("label");
    const name = label ? label.textContent.trim() : kind;
    hint.textContent = hint.dataset.template.replace("{kind}", name);
  };
  select.addEventListener("change", apply);
  apply();
}
