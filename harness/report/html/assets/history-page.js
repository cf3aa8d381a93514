// history.html: show only the scenarios that failed or were flaky, filter by name (sorting is
// suite-page.js's, on the summary columns). The grid itself is plain HTML.
"use strict";
(function () {
  var table = document.getElementById("history");
  if (!table) return;
  var body = table.tBodies[0];
  var only = document.getElementById("only-problems");
  var filter = document.getElementById("filter");
  function apply() {
    var text = filter.value.toLowerCase();
    Array.prototype.forEach.call(body.rows, function (r) {
      var hide = (only.checked && r.getAttribute("data-problem") !== "1") || (text && r.cells[0].textContent.toLowerCase().indexOf(text) < 0);
      r.classList.toggle("hidden", !!hide);
    });
  }
  only.addEventListener("change", apply);
  filter.addEventListener("input", apply);
  document.body.setAttribute("data-ready", "1");
})();
