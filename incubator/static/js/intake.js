// Intake pages: times in the reader's own time zone, the draft saved automatically, select-all.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("time[data-localtime]").forEach((el) => {
    const when = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) {
      const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      el.textContent = `${when.toLocaleString(document.documentElement.lang || undefined, {dateStyle: "medium", timeStyle: "short"})} (${zone})`;
    }
  });

  document.querySelectorAll("input[data-select-all]").forEach((box) => {
    box.addEventListener("change", () => {
      box.closest("table").querySelectorAll("input[name=application_id]").forEach((item) => { item.checked = box.checked; });
    });
  });

  const form = document.querySelector("form[data-autosave]");
  if (form) {
    const status = form.querySelector("[data-autosave-status]");
    let timer = null;
    let dirty = false;
    const save = () => {
      if (!dirty) return;
      dirty = false;
      const data = new FormData(form);
      form.querySelectorAll("input[type=file]").forEach((input) => data.delete(input.name));
      fetch(form.dataset.autosave, {method: "POST", body: data, credentials: "same-origin"})
        .then((response) => response.json())
        .then((body) => { if (body.saved && status) status.textContent = status.dataset.savedText; })
        .catch(() => { dirty = true; });
    };
    form.addEventListener("input", () => {
      dirty = true;
      clearTimeout(timer);
      timer = setTimeout(save, 3000);
    });
  }
});
