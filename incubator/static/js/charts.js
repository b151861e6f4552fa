// KPI charts from a canvas's data attributes (no inline script: CSP): money as stacked bars, jobs as a
// line. The cohort page draws #cohort-chart; reports.js reuses kpiChart with its own extra series.
window.kpiChart = (canvas, extra = []) => {
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
  return new Chart(canvas, {
    data: { labels: data.periods, datasets: datasets.concat(extra(data, labels)) },
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
};

document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("cohort-chart");
  if (canvas && typeof Chart !== "undefined") window.kpiChart(canvas, () => []);
});
