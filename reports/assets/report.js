/* Draws every chart of the page from its JSON block; data never becomes code or markup here. */
(function () {
  "use strict";
  var config = { displaylogo: false, responsive: true };
  var charts = document.querySelectorAll("div.chart[data-figure]");
  Array.prototype.forEach.call(charts, function (div) {
    var source = document.getElementById(div.getAttribute("data-figure"));
    var figure = JSON.parse(source.textContent);
    if (figure.layout && figure.layout.height) {
      div.style.height = figure.layout.height + "px";  // lets the page flow around the chart
    }
    Plotly.newPlot(div, figure.data, figure.layout, config).then(function () {
      div.setAttribute("data-rendered", "true");
    });
  });
})();
