// Behaviour that the pages need, without inline scripts (the CSP forbids them).
document.addEventListener("DOMContentLoaded", () => {
  // A language select submits its form as soon as it changes.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  // Forms with data-confirm ask before they are sent.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
