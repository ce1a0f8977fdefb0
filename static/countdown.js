// Live countdowns on the session inspector. Each element with data-countdown="<seconds>"
// counts down from the value the server computed, so the browser's clock does not matter.
// Progressive enhancement only: without JavaScript the page shows the server's figures.
(function () {
  "use strict";
  var started = Date.now();
  var nodes = Array.prototype.slice.call(document.querySelectorAll("[data-countdown]"));
  function format(total) {
    if (total <= 0) return "now (reload: the server will refuse this session)";
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    var mm = (m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return (h > 0 ? h + ":" + mm : m) + ":" + ss + (h > 0 ? " h" : " min");
  }
  function tick() {
    var elapsed = Math.floor((Date.now() - started) / 1000);
    nodes.forEach(function (node) {
      var left = parseInt(node.getAttribute("data-countdown"), 10) - elapsed;
      node.textContent = format(Math.max(0, left));
    });
  }
  tick();
  setInterval(tick, 1000);
})();
