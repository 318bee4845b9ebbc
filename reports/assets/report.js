/* Draws every chart of the page from its JSON block, and wires the buttons: y-axis switches, Chart/Table tabs and
   sortable table columns. Data never becomes code or markup here. */
(function () {
  "use strict";
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };

  function draw(div) {
    var figure = JSON.parse(document.getElementById(div.getAttribute("data-figure")).textContent);
    var compact = div.getAttribute("data-compact") === "true";
    var config = { displaylogo: false, responsive: true, displayModeBar: compact ? false : "hover" };
    if (figure.layout && figure.layout.height) {
      div.style.height = figure.layout.height + "px";  // lets the page flow around the chart
    }
    var narrow = (figure.layout && figure.layout.meta && figure.layout.meta.narrow) || null;
    Plotly.newPlot(div, figure.data, figure.layout, config).then(function () {
      // On a phone legends get a smaller font, and a chart may drop what does not fit (colour bar, cell text):
      // its figure says what, as a Plotly update of its traces and layout.
      if (!compact && window.matchMedia("(max-width: 600px)").matches) {
        var layout = Object.assign({ "legend.font.size": 10 }, (narrow && narrow.layout) || {});
        return Plotly.update(div, (narrow && narrow.traces) || {}, layout);
      }
    }).then(function () {
      div.setAttribute("data-rendered", "true");
    });
  }

  if (window.Plotly) {
    each(document.querySelectorAll("div.chart[data-figure]"), draw);
  }

  // Control buttons: apply their relayout to every chart of the section (e.g. shared or independent y axes).
  each(document.querySelectorAll(".controls button[data-relayout]"), function (button) {
    button.addEventListener("click", function () {
      var args = JSON.parse(button.getAttribute("data-relayout"));
      var section = button.closest("section");
      each(section.querySelectorAll("div.chart[data-rendered]"), function (div) { Plotly.relayout(div, args); });
      each(button.parentNode.querySelectorAll("button"), function (other) {
        other.setAttribute("aria-pressed", other === button ? "true" : "false");
      });
    });
  });

  // Chart / Table tabs (WAI-ARIA tabs: arrow keys move between them). Without script both views stay visible.
  each(document.querySelectorAll("[role=tablist]"), function (list) {
    var tabs = list.querySelectorAll("[role=tab]");
    function select(tab, focus) {
      each(tabs, function (other) {
        var on = other === tab;
        other.setAttribute("aria-selected", on ? "true" : "false");
        other.tabIndex = on ? 0 : -1;
        var view = document.getElementById(other.getAttribute("aria-controls"));
        view.hidden = !on;
        if (on && window.Plotly) {
          each(view.querySelectorAll("div.chart[data-rendered]"), function (div) { Plotly.Plots.resize(div); });
        }
      });
      if (focus) { tab.focus(); }
    }
    each(tabs, function (tab, i) {
      tab.addEventListener("click", function () { select(tab, false); });
      tab.addEventListener("keydown", function (event) {
        var next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
        if (next === undefined) { return; }
        event.preventDefault();
        select(tabs[(next + tabs.length) % tabs.length], true);
      });
    });
    list.hidden = false;
    select(tabs[0], false);
  });

  // Sortable tables: a header button sorts by its column (numbers by data-value), again to reverse.
  each(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.querySelectorAll("thead th");
    each(heads, function (th, column) {
      th.querySelector("button.sort").addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var key = function (row) {
          var cell = row.cells[column];
          var value = cell.getAttribute("data-value");
          return value === null ? { text: cell.textContent.trim() } : { num: parseFloat(value) };
        };
        rows.sort(function (a, b) {
          var x = key(a), y = key(b), order;
          if (x.num !== undefined && y.num !== undefined) { order = x.num - y.num; }
          else if (x.num !== undefined) { return -1; }   // cells without a number sort last either way
          else if (y.num !== undefined) { return 1; }
          else { order = x.text.localeCompare(y.text); }
          return ascending ? order : -order;
        });
        each(rows, function (row) { body.appendChild(row); });
        each(heads, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      });
    });
  });
})();
