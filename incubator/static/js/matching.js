// The matching page while a job runs a large matching: the progress bar follows the run, and the
// page reloads once it is done or has failed.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector("[data-run-status]");
  const bar = document.querySelector("[data-progress-bar]");
  if (!box || !bar) return;
  bar.style.width = `${bar.dataset.progress}%`;
  const poll = async () => {
    const answer = await fetch(box.dataset.runStatus, { headers: { Accept: "application/json" } });
    if (!answer.ok) return;
    const state = await answer.json();
    bar.style.width = `${state.progress}%`;
    bar.textContent = `${state.progress}%`;
    if (state.status === "done" || state.status === "failed") {
      window.location.reload();
    } else {
      window.setTimeout(poll, 1500);
    }
  };
  window.setTimeout(poll, 1000);
});
