// harden's dashboard: filter, search, sort and page the pull-request table. The page works
// without it (every row shown); this only hides and orders rows that are already there.
(function () {
  "use strict";
  var table = document.getElementById("pulls");
  if (!table) { return; }
  var body = table.tBodies[0];
  var filter = document.getElementById("state-filter");
  var search = document.getElementById("search");
  var pager = document.getElementById("pager");
  var shown = document.getElementById("shown");
  var perPage = 50;
  var page = 0;
  var order = { key: null, descending: true };

  function rows() { return Array.prototype.slice.call(body.rows); }

  function matches(row) {
    var state = filter.value;
    var text = search.value.trim().toLowerCase();
    return (!state || row.dataset.state === state) && (!text || row.dataset.repo.toLowerCase().indexOf(text) !== -1);
  }

  function value(row, key) {
    if (key === "saved" || key === "age") { return Number(row.dataset[key]) || 0; }
    return row.dataset[key] || "";
  }

  function sortBy(key) {
    order.descending = order.key === key ? !order.descending : key === "saved" || key === "age";
    order.key = key;
    var sign = order.descending ? -1 : 1;
    rows().sort(function (a, b) {
      var x = value(a, key), y = value(b, key);
      return (x < y ? -1 : x > y ? 1 : 0) * sign;
    }).forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll("th").forEach(function (th) {
      var button = th.querySelector("button");
      th.setAttribute("aria-sort", button && button.dataset.sort === key ? (order.descending ? "descending" : "ascending") : "none");
    });
    page = 0;
    render();
  }

  function render() {
    var matching = rows().filter(matches);
    var pages = Math.max(1, Math.ceil(matching.length / perPage));
    page = Math.min(page, pages - 1);
    rows().forEach(function (row) { row.hidden = true; });
    matching.slice(page * perPage, (page + 1) * perPage).forEach(function (row) { row.hidden = false; });
    pager.textContent = "";
    pager.hidden = pages < 2;
    for (var i = 0; i < pages && pages > 1; i++) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = String(i + 1);
      if (i === page) { button.setAttribute("aria-current", "page"); }
      button.addEventListener("click", (function (n) { return function () { page = n; render(); }; })(i));
      pager.appendChild(button);
    }
    shown.textContent = matching.length + " of " + body.rows.length + " rows" + (pages > 1 ? ", page " + (page + 1) + " of " + pages : "") + ".";
  }

  filter.addEventListener("change", function () { page = 0; render(); });
  search.addEventListener("input", function () { page = 0; render(); });
  search.form.addEventListener("submit", function (event) { event.preventDefault(); });
  table.querySelectorAll("th button[data-sort]").forEach(function (button) {
    button.addEventListener("click", function () { sortBy(button.dataset.sort); });
  });
  render();
})();
