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
  if (canvas && typeof Chart !== "undefined") {
    const data = JSON.parse(canvas.dataset.chart);
    const labels = JSON.parse(canvas.dataset.labels);
    const colours = { revenue: "#0d6efd", jobs_created: "#198754", funding_equity: "#6f42c1",
                      funding_debt: "#fd7e14", funding_grant: "#20c997" };
    const datasets = Object.keys(data.series).map((key) => ({
      label: labels[key] || key,
      data: data.series[key],
      type: key === "jobs_created" ? "line" : "bar",
      yAxisID: key === "jobs_created" ? "count" : "money",
      backgroundColor: colours[key],
      borderColor: colours[key],
      stack: key.startsWith("funding") ? "funding" : key,
    }));
    datasets.push({ label: labels.mentoring_hours, data: data.mentoring, type: "line", yAxisID: "count",
                    borderColor: "#6610f2", backgroundColor: "#6610f2", borderDash: [4, 3] });
    new Chart(canvas, {
      data: { labels: data.periods, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          money: { position: "left", beginAtZero: true, stacked: true },
          count: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } },
          x: { stacked: true },
        },
      },
    });
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
