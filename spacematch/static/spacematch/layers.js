/* spacematch map layers: GeoJSON fetched from the app's own API, by bounding box when asked.
 * Popups and tooltips are built with textContent, so text written by users is never parsed as HTML.
 */
(function () {
  "use strict";

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (attrs) Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function popupContent(feature, options) {
    var p = feature.properties || {};
    var box = el("div", null, {"class": "sm-popup"});
    var title = p[options.titleField || "name"] || feature.id;
    if (options.linkTemplate && feature.id !== undefined) {
      var h = el("strong");
      h.appendChild(el("a", title, {href: options.linkTemplate.replace("__ID__", encodeURIComponent(feature.id))}));
      box.appendChild(h);
    } else {
      box.appendChild(el("strong", title));
    }
    var table = el("table");
    (options.fields || []).forEach(function (pair) {
      var value = p[pair[0]];
      if (value === undefined || value === null || value === "") return;
      if (Array.isArray(value)) value = value.join(", ");
      if (typeof value === "boolean") value = value ? (options.yes || "ja") : (options.no || "nee");
      var row = el("tr");
      row.appendChild(el("th", pair[1]));
      row.appendChild(el("td", value));
      table.appendChild(row);
    });
    box.appendChild(table);
    return box;
  }

  function RemoteLayer(map, group, url, options) {
    var layer = L.geoJSON(null, {
      style: function () { return options.style || {}; },
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, options.style || {});
      },
      onEachFeature: function (feature, lyr) {
        if (options.tooltipField) {
          lyr.bindTooltip(function () {
            return el("span", (feature.properties || {})[options.tooltipField]);
          }, {sticky: true});
        }
        if (options.fields) {
          lyr.bindPopup(function () { return popupContent(feature, options); });
        }
      }
    });
    layer.addTo(group);
    var pending = null;
    var loaded = false;

    function load() {
      if (loaded && !options.bbox) return;
      if (!map.hasLayer(group)) return;
      var target = url;
      if (options.bbox) {
        var b = map.getBounds();
        target += (url.indexOf("?") >= 0 ? "&" : "?") + "bbox=" +
          [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",");
      }
      if (pending) pending.abort();
      pending = new AbortController();
      fetch(target, {signal: pending.signal, credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : {features: []}; })
        .then(function (data) {
          layer.clearLayers();
          layer.addData(data);
          loaded = true;
          map.getContainer().dataset["loaded_" + options.key] = String((data.features || []).length);
        })
        .catch(function (err) { if (err.name !== "AbortError") console.warn("spacematch:", err); });
    }

    map.on("moveend", load);
    map.on("overlayadd", function (e) { if (e.layer === group) load(); });
    load();
    return layer;
  }

  window.spacematch = window.spacematch || {};
  window.spacematch.remoteLayer = RemoteLayer;
})();
