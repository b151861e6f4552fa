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
  const lang = document.documentElement.lang || "vi";
  // Axis ticks short enough for a phone: "2 tỷ", "500 Tr" / "2B", "500M" (the tooltips keep the full figure).
  const compact = new Intl.NumberFormat(lang, { notation: "compact", maximumFractionDigits: 1 });
  return new Chart(canvas, {
    data: { labels: data.period_labels || data.periods, datasets: datasets.concat(extra(data, labels)) },
    options: {
      locale: lang,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        money: { position: "left", beginAtZero: true, stacked: true,
                 ticks: { callback: (value) => compact.format(value) } },
        count: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { precision: 0 } },
        x: { stacked: true },
      },
    },
  });
};

document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("cohort-chart");
  if (canvas && typeof Chart !== "undefined") window.kpiChart(canvas, () => []);
});
