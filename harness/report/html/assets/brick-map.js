// The brick maps' cells: a click selects that point's stretch of the run (its setup to its
// verdict), so the console and the timeline show only that point (run-page.js's selection).
"use strict";
(function () {
  var page = window.otarigRunPage;
  var cells = document.querySelectorAll(".brick-map .cell");
  for (var i = 0; i < cells.length; i++) {
    cells[i].addEventListener("click", function (e) {
      var c = e.currentTarget;
      var prev = document.querySelectorAll(".brick-map .cell.selected");
      for (var j = 0; j < prev.length; j++) prev[j].classList.remove("selected");
      c.classList.add("selected");
      if (!page) return;
      page.select({
        t0: Number(c.getAttribute("data-t0")),
        t1: Number(c.getAttribute("data-t1")),
        label: "sweep point " + c.getAttribute("data-index") + ": " + c.getAttribute("data-outcome"),
        board: c.getAttribute("data-board"),
      });
      document.getElementById("console-section").scrollIntoView({ block: "start" });
    });
  }
})();
