// A job's progress (a large report, a large matching): the bar follows the job's status address
// (data-progress-url) and the page reloads once the job reaches a final state (data-progress-final).
document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector("[data-progress-url]");
  const bar = box && box.querySelector("[data-progress-bar]");
  if (!bar) return;
  const final = box.dataset.progressFinal.split(" ");
  bar.style.width = `${bar.dataset.progress}%`;
  const poll = async () => {
    const answer = await fetch(box.dataset.progressUrl, { headers: { Accept: "application/json" } });
    if (!answer.ok) return;
    const state = await answer.json();
    bar.style.width = `${state.progress}%`;
    bar.textContent = `${state.progress}%`;
    if (final.includes(state.status)) {
      window.location.reload();
    } else {
      window.setTimeout(poll, 1500);
    }
  };
  window.setTimeout(poll, 1000);
});
