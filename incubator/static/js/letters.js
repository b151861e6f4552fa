// The decision letter editor: insert a placeholder where the cursor is, and refresh the sample letter
// while typing (the server renders it, as the "Preview" button does; nothing is saved).
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-letter-editor]");
  if (!form) return;
  const body = form.querySelector("textarea[data-letter-body]");

  document.querySelectorAll("button[data-insert-placeholder]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => {
      const text = button.dataset.insertPlaceholder;
      const start = body.selectionStart ?? body.value.length;
      const end = body.selectionEnd ?? start;
      body.setRangeText(text, start, end, "end");
      body.focus();
      body.dispatchEvent(new Event("input", {bubbles: true}));
    });
  });

  let timer = null;
  const refresh = () => {
    const data = new FormData(form);
    data.set("action", "preview");
    // (form.action would name the buttons called "action")
    fetch(form.getAttribute("action") || window.location.href, {method: "POST", body: data, credentials: "same-origin"})
      .then((response) => response.text())
      .then((html) => {
        const fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-letter-previews]");
        const current = document.querySelector("[data-letter-previews]");
        if (fresh && current) current.replaceWith(fresh);
      })
      .catch(() => {});
  };
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 700);
  });
});
