// The report page: charts, the period fields that apply, progress bars; the export page: polling.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-progress]").forEach((bar) => {
    bar.style.width = `${bar.dataset.progress}%`;
  });

  const kind = document.querySelector("[data-period-kind]");
  if (kind) {
    const show = () => {
      document.querySelectorAll("[data-period]").forEach((box) => {
        box.hidden = !box.dataset.period.split(" ").includes(kind.value);
      });
    };
    kind.addEventListener("change", show);
    show();
  }

  const canvas = document.getElementById("report-chart");
  if (canvas && typeof Chart !== "undefined" && window.kpiChart) {
    window.kpiChart(canvas, (data, labels) => [{
      label: labels.mentoring_hours, data: data.mentoring, type: "line", yAxisID: "count",
      borderColor: "#6610f2", backgroundColor: "#6610f2", borderDash: [4, 3],
    }]);
  }

  const box = document.querySelector("[data-export-status]");
  const bar = document.querySelector("[data-progress-bar]");
  if (box && bar) {
    const poll = async () => {
      const answer = await fetch(box.dataset.exportStatus, { headers: { Accept: "application/json" } });
      if (!answer.ok) return;
      const state = await answer.json();
      bar.style.width = `${state.progress}%`;
      bar.textContent = `${state.progress}%`;
      if (state.status === "ready") {
        window.location.reload();
      } else if (state.status === "failed") {
        window.location.reload();
      } else {
        window.setTimeout(poll, 1500);
      }
    };
    window.setTimeout(poll, 1000);
  }
});
