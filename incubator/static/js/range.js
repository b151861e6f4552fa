// Selecting a range of free slots in a week grid (#16): drag across the free cells of one day (pointer
// events), or press "Select a range" and then tap (or press Enter on) the first and the last slot.
// Either fills the booking form: its start and its length. Without this script every free cell stays
// a link to the form for its own slot.
(function () {
  "use strict";
  var grid = document.querySelector("[data-range-grid]");
  if (!grid) { return; }
  var step = parseInt(grid.getAttribute("data-step"), 10);
  var toggle = document.getElementById("range-toggle");
  var status = document.getElementById("range-status");
  var first = null;  // the start tapped in range mode
  var anchor = null, last = null, dragging = false, moved = false;  // a drag

  function column(cell) { return cell.closest("td") ? cell.closest("td").cellIndex : -1; }
  function slots(a, b) {  // the free cells of one column from a to b, or null when the run is broken
    if (column(a) !== column(b)) { return null; }
    var all = Array.prototype.slice.call(grid.querySelectorAll("tbody tr")).map(function (row) {
      return row.cells[column(a)].firstElementChild;
    });
    var i = all.indexOf(a), j = all.indexOf(b);
    if (i > j) { var t = i; i = j; j = t; }
    var run = all.slice(i, j + 1);
    return run.every(function (c) { return c && c.classList.contains("slot-free"); }) ? run : null;
  }
  function mark(run) {
    grid.querySelectorAll(".slot-selected").forEach(function (c) { c.classList.remove("slot-selected"); });
    (run || []).forEach(function (c) { c.classList.add("slot-selected"); });
  }
  function go(run) {
    var url = new URL(run[0].href, window.location.href);
    url.searchParams.set("minutes", String(run.length * step));
    window.location.assign(url.toString());
  }
  function reset() { first = null; mark(null); if (status) { status.textContent = ""; } }

  grid.addEventListener("pointerdown", function (event) {
    var cell = event.target.closest("a.slot-free");
    if (!cell || event.button !== 0) { return; }
    dragging = true; moved = false; anchor = cell; last = cell;
  });
  grid.addEventListener("dragstart", function (event) {  // a link's own drag would take the pointer away
    if (event.target.closest && event.target.closest("a.slot-free")) { event.preventDefault(); }
  });
  grid.addEventListener("pointerover", function (event) {
    var cell = event.target.closest("a.slot-free");
    if (!dragging || !cell || cell === last) { return; }
    var run = slots(anchor, cell);
    if (run) { moved = true; last = cell; mark(run); }
  });
  document.addEventListener("pointerup", function () {
    if (dragging && moved) { var run = slots(anchor, last); if (run) { go(run); } }
    dragging = false;
  });
  grid.addEventListener("click", function (event) {
    var cell = event.target.closest("a.slot-free");
    if (!cell) { return; }
    if (moved) { event.preventDefault(); return; }  // the drag's pointerup goes to the form
    if (!(toggle && toggle.getAttribute("aria-pressed") === "true")) { return; }  // the link, as without script
    event.preventDefault();
    if (!first) {
      first = cell; mark([cell]);
      if (status) { status.textContent = status.getAttribute("data-start"); }
      return;
    }
    var run = slots(first, cell);
    if (run) { go(run); } else { first = cell; mark([cell]); }
  });
  if (toggle) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var on = toggle.getAttribute("aria-pressed") !== "true";
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      reset();
    });
  }
})();
