// The index's code filter: plain JavaScript, no library, works from file://.
(function () {
  "use strict";
  var table = document.getElementById("codes-table");
  if (!table) { return; }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var text = document.getElementById("filter-text");
  var measure = document.getElementById("filter-measure");
  var role = document.getElementById("filter-role");
  var occurs = document.getElementById("filter-occurs");
  var count = document.getElementById("filter-count");

  function apply() {
    var words = text.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row) {
      var search = row.getAttribute("data-search");
      var keep = words.every(function (w) { return search.indexOf(w) !== -1; }) &&
        (!measure.value || row.getAttribute("data-measure") === measure.value) &&
        (!role.value || row.getAttribute("data-role") === role.value) &&
        (!occurs.checked || row.getAttribute("data-occurs") === "yes");
      row.hidden = !keep;
      if (keep) { shown += 1; }
    });
    count.textContent = shown + " of " + rows.length + " codes";
  }

  [text, measure, role, occurs].forEach(function (el) {
    el.addEventListener("input", apply);
    el.addEventListener("change", apply);
  });
  apply();
})();
