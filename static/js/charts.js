// Draws every <canvas data-chart="{...}"> with the vendored Chart.js.
// The page carries the numbers (data attribute and a table beside each chart), so
// nothing here fetches data, and the page stays readable without JavaScript.
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  var palette = ["#0d6efd", "#20c997", "#fd7e14", "#6f42c1", "#dc3545", "#198754", "#0dcaf0", "#6c757d", "#ffc107", "#d63384"];

  function config(spec) {
    var round = spec.type === "doughnut" || spec.type === "pie";
    var datasets = spec.datasets.map(function (set, i) {
      var colour = palette[i % palette.length];
      return Object.assign({
        backgroundColor: round ? palette.slice(0, set.data.length) : colour,
        borderColor: round ? "#fff" : colour,
        borderWidth: round ? 1 : 2
      }, set);
    });
    return {
      type: spec.type || "bar",
      data: {labels: spec.labels, datasets: datasets},
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {legend: {display: datasets.length > 1 || round, position: "bottom"}},
        scales: round ? {} : {x: {stacked: !!spec.stacked}, y: {stacked: !!spec.stacked, beginAtZero: true}}
      }
    };
  }

  function draw() {
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (Chart.getChart(canvas)) return;
      try {
        new Chart(canvas, config(JSON.parse(canvas.dataset.chart)));
        canvas.dataset.drawn = "1";
      } catch (error) {
        canvas.dataset.drawn = "error";
        if (window.console) console.error(error);
      }
    });
  }

  // Charts drawn for a narrow screen must be redrawn at paper width when printing.
  // The numbers behind each chart are printed too: open their <details>.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.chart-numbers").forEach(function (d) { d.open = true; });
    Object.values(Chart.instances).forEach(function (chart) { chart.resize(); });
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
