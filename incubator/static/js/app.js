// Behaviour that the pages need, without inline scripts (the CSP forbids them).
document.addEventListener("DOMContentLoaded", () => {
  // A language select submits its form as soon as it changes.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  // A table wider than its box scrolls inside it: keyboard users reach it with Tab and scroll it with the
  // arrow keys (WCAG 2.1.1), as axe's scrollable-region-focusable asks; a table that fits stays out of the tab order.
  const focusableWhenScrolling = () => {
    document.querySelectorAll(".table-responsive").forEach((box) => {
      if (box.scrollWidth > box.clientWidth) box.setAttribute("tabindex", "0");
      else box.removeAttribute("tabindex");
    });
  };
  focusableWhenScrolling();
  window.addEventListener("resize", focusableWhenScrolling);
  // Forms with data-confirm ask before they are sent.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
