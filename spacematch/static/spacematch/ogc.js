/* The OGC API's HTML items page: draws the page's features (fetched as GeoJSON from the same
 * resource) on a small Leaflet map over the site's tiles. Text is never parsed as HTML.
 */
(function () {
  "use strict";
  function start() {
    var box = document.getElementById("ogc-map");
    if (!box || typeof L === "undefined") return;
    var map = L.map(box).setView([52.37, 4.9], 11);
    var tiles = document.body.getAttribute("data-tiles");
    if (tiles) L.tileLayer(tiles, {maxZoom: 19, attribution: "Kadaster"}).addTo(map);
    fetch(box.getAttribute("data-features"), {headers: {Accept: "application/geo+json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var layer = L.geoJSON(data, {
          pointToLayer: function (f, latlng) { return L.circleMarker(latlng, {radius: 4}); },
          onEachFeature: function (f, l) {
            var label = document.createElement("span");
            label.textContent = String(f.id);
            l.bindTooltip(label);
          }
        }).addTo(map);
        box.setAttribute("data-loaded", String((data.features || [data]).length));
        var bounds = layer.getBounds();
        if (bounds.isValid()) map.fitBounds(bounds, {maxZoom: 16, padding: [8, 8]});
      });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
