/* Intake form helpers: area autocomplete over the real area list, a point picked on a map (by
 * mouse, touch or keyboard) or from a postcode, and the distance field shown only with a point.
 * Without JavaScript the form still works: areas are typed as names or codes, or a postcode. */
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
    var postcode = document.getElementById("postcode");
    var status = document.getElementById("point-status");
    var distance = document.getElementById("distance-field");
    var centroids = postcode && postcode.dataset.pc4 ? JSON.parse(postcode.dataset.pc4) : {};

    function showDistance() {
      if (!distance) return;
      var code = postcode ? postcode.value.trim().slice(0, 4) : "";
      distance.hidden = !(pointInput && pointInput.value) && !centroids[code];
    }
    function say(lat, lon) {
      if (!status) return;
      status.textContent = lat === null ? status.dataset.none
        : status.dataset.set + " " + lat.toFixed(5) + ", " + lon.toFixed(5);
    }

    var map = null, marker = null;
    function place(lat, lon, fromPostcode) {
      if (map) {
        if (marker) marker.remove();
        marker = L.circleMarker([lat, lon], {radius: 9, color: "#000", weight: 3,
          fillColor: "#ffdd00", fillOpacity: 1}).addTo(map);
      }
      if (!fromPostcode) {
        pointInput.value = lon.toFixed(6) + "," + lat.toFixed(6);
        if (postcode) postcode.value = "";
      }
      say(lat, lon);
      showDistance();
    }
    function clearPoint() {
      if (marker) marker.remove();
      marker = null;
      if (pointInput) pointInput.value = "";
      say(null, null);
      showDistance();
    }

    if (mapDiv && pointInput && window.L) {
      map = L.map(mapDiv, {preferCanvas: true, keyboard: true}).setView([52.3676, 4.9041], 11);
      var tiles = document.body.dataset.tiles;
      if (tiles) L.tileLayer(tiles, {maxZoom: 19}).addTo(map);
      fetch("/api/areas.geojson?level=stadsdeel").then(function (r) { return r.json(); }).then(function (d) {
        L.geoJSON(d, {style: {color: "#555", weight: 1, fill: false}, interactive: false}).addTo(map);
      });
      map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng); });
      // Keyboard: Leaflet pans with the arrow keys and zooms with +/-; Enter or space picks the
      // centre (marked by the crosshair while the map has focus).
      mapDiv.addEventListener("keydown", function (e) {
        if (e.target !== mapDiv) return;
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          var c = map.getCenter();
          place(c.lat, c.lng);
        }
      });
    }
    if (pointInput && pointInput.value) {
      var p = pointInput.value.split(",").map(Number);
      if (p.length === 2 && !isNaN(p[0])) place(p[1], p[0]);
    }
    if (postcode) {
      postcode.addEventListener("input", function () {
        var c = centroids[postcode.value.trim().slice(0, 4)];
        if (c) {
          if (pointInput) pointInput.value = "";
          place(c[1], c[0], true);
          if (map) map.setView([c[1], c[0]], 14);
        } else {
          showDistance();
        }
      });
      var start = centroids[postcode.value.trim().slice(0, 4)];
      if (start && !(pointInput && pointInput.value)) place(start[1], start[0], true);
    }
    var clear = document.getElementById("clear-point");
    if (clear) clear.addEventListener("click", function () {
      clearPoint();
      if (postcode) postcode.value = "";
    });
    showDistance();
  });
})();
