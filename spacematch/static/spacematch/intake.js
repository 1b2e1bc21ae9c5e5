/* Intake form helpers: area autocomplete over the real area list, and a point picked on a map.
 * Without JavaScript the form still works: areas are typed as names or codes, no point. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var input = document.querySelector("[data-area-picker]");
    var options = document.getElementById("area-options");
    if (input && options) {
      var timer = null;
      var levelLabels = JSON.parse(input.getAttribute("data-level-labels") || "{}");
      input.addEventListener("input", function () {
        var parts = input.value.split(",");
        var q = parts[parts.length - 1].trim();
        clearTimeout(timer);
        if (q.length < 2) return;
        timer = setTimeout(function () {
          fetch("/api/areas?q=" + encodeURIComponent(q), {credentials: "same-origin"})
            .then(function (r) { return r.json(); })
            .then(function (data) {
              options.textContent = "";
              var prefix = parts.slice(0, -1).map(function (p) { return p.trim(); }).filter(Boolean);
              data.areas.forEach(function (a) {
                var opt = document.createElement("option");
                opt.value = prefix.concat([a.code]).join(", ");
                opt.textContent = a.name + " (" + (levelLabels[a.level] || a.level) + " " + a.code + ")";
                options.appendChild(opt);
              });
            });
        }, 150);
      });
    }

    var mapDiv = document.getElementById("point-map");
    var pointInput = document.getElementById("point");
    if (mapDiv && pointInput && window.L) {
      var map = L.map(mapDiv, {preferCanvas: true}).setView([52.3676, 4.9041], 11);
      var tiles = document.body.dataset.tiles;
      if (tiles) L.tileLayer(tiles, {maxZoom: 19}).addTo(map);
      fetch("/api/areas.geojson?level=stadsdeel").then(function (r) { return r.json(); }).then(function (d) {
        L.geoJSON(d, {style: {color: "#555", weight: 1, fill: false}, interactive: false}).addTo(map);
      });
      var marker = null;
      function place(lat, lon) {
        if (marker) marker.remove();
        marker = L.circleMarker([lat, lon], {radius: 8, color: "#ec0000"}).addTo(map);
        pointInput.value = lon.toFixed(6) + "," + lat.toFixed(6);
      }
      if (pointInput.value) {
        var p = pointInput.value.split(",").map(Number);
        if (p.length === 2 && !isNaN(p[0])) place(p[1], p[0]);
      }
      map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng); });
      var clear = document.getElementById("clear-point");
      if (clear) clear.addEventListener("click", function () {
        if (marker) marker.remove();
        marker = null;
        pointInput.value = "";
      });
    }
  });
})();
