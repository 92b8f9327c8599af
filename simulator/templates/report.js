(function () {
  "use strict";
  var lang = document.documentElement.lang;

  function compare(a, b, numeric) {
    if (a === b) { return 0; }
    if (numeric) {
      if (a === "") { return -1; }
      if (b === "") { return 1; }
      return parseFloat(a) - parseFloat(b);
    }
    return a.localeCompare(b, lang);
  }

  function sortable(table) {
    var body = table.tBodies[0];
    var headers = table.tHead.rows[0].cells;

    function sortBy(column) {
      var th = headers[column];
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      var numeric = th.classList.contains("num");
      Array.prototype.forEach.call(headers, function (h) { h.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (x, y) {
        var order = compare(x.cells[column].getAttribute("data-sort"), y.cells[column].getAttribute("data-sort"), numeric);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    }

    Array.prototype.forEach.call(headers, function (th, column) {
      th.addEventListener("click", function () { sortBy(column); });  // the whole heading (its button, for the keyboard, inside)
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), sortable);

  var table = document.getElementById("stations");
  var filter = document.getElementById("kind-filter");
  var shown = document.getElementById("rows-shown");
  if (!table || !filter || !shown) { return; }
  function applyFilter() {
    var count = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      row.hidden = filter.value !== "" && row.getAttribute("data-kind") !== filter.value;
      if (!row.hidden) { count += 1; }
    });
    shown.textContent = String(count);
  }
  filter.addEventListener("change", applyFilter);
  applyFilter();
}());
