// The report page: charts, the period fields that apply, progress bars (the export page polls with progress.js).
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
});
