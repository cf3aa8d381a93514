// history.html: sort by a summary column (click its header, again to reverse), show only the
// scenarios that failed or were flaky, filter by name. The grid itself is plain HTML.
"use strict";
(function () {
  var table = document.getElementById("history");
  if (!table) return;
  var body = table.tBodies[0];
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    if (!th.classList.contains("sort")) return;
    th.addEventListener("click", function () {
      var asc = !th.classList.contains("asc");
      Array.prototype.forEach.call(heads, function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(asc ? "asc" : "desc");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a.cells[col]), y = key(b.cells[col]);
        var c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return asc ? c : -c;
      });
      var frag = document.createDocumentFragment();
      rows.forEach(function (r) { frag.appendChild(r); });
      body.appendChild(frag);
    });
  });
  function key(cell) {
    var v = cell.getAttribute("data-sort");
    if (v === null) v = cell.textContent;
    return v !== "" && !isNaN(Number(v)) ? Number(v) : v;
  }
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
