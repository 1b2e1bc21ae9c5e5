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

  var numbers = null;
  function numberFormat() {
    if (!numbers) numbers = new Intl.NumberFormat(document.documentElement.lang || "nl", {maximumFractionDigits: 1});
    return numbers;
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
      // Numbers from the API in the page's language (CLDR, as spacematch.formatting writes them).
      if (typeof value === "number") value = numberFormat().format(value);
      var row = el("tr");
      row.appendChild(el("th", pair[1]));
      row.appendChild(el("td", value));
      table.appendChild(row);
    });
    box.appendChild(table);
    return box;
  }

  // Red (poor fit) through yellow to green (best fit), for scores in [0, 1].
  function scoreColor(score) {
    var s = Math.max(0, Math.min(1, Number(score) || 0));
    var r = s < 0.5 ? 215 : Math.round(215 - (s - 0.5) * 2 * 189);
    var g = s < 0.5 ? Math.round(48 + s * 2 * 142) : Math.round(190 - (s - 0.5) * 2 * 40);
    return "rgb(" + r + "," + g + ",40)";
  }

  // The fill of the highest class whose lower bound the value reaches (classes sorted ascending).
  function classColor(value, classes) {
    var color = null;
    if (value === null || value === undefined) return "#bdbdbd";
    classes.forEach(function (c) { if (c[0] === null || value >= c[0]) color = c[1]; });
    return color || "#bdbdbd";
  }

  function featureStyle(feature, options) {
    var style = Object.assign({}, options.style || {});
    if (options.classes && feature && feature.properties) {
      style.fillColor = classColor(feature.properties[options.classField], options.classes);
    }
    if (options.colorBy && feature && feature.properties) {
      var c = scoreColor(feature.properties[options.colorBy]);
      style.color = c;
      style.fillColor = c;
    }
    return style;
  }

  function RemoteLayer(map, group, url, options) {
    var layer = L.geoJSON(null, {
      style: function (feature) { return featureStyle(feature, options); },
      pointToLayer: function (feature, latlng) {
        var p = feature.properties || {};
        if (p.cluster) {
          var style = Object.assign({}, featureStyle(feature, options));
          style.radius = 8 + 4 * Math.log10(p.count);
          style.fillOpacity = 0.5;
          var marker = L.circleMarker(latlng, style);
          marker.bindTooltip(String(p.count), {permanent: true, direction: "center", className: "sm-count"});
          marker.on("click", function () { map.setView(latlng, Math.min(map.getZoom() + 2, 19)); });
          return marker;
        }
        return L.circleMarker(latlng, featureStyle(feature, options));
      },
      onEachFeature: function (feature, lyr) {
        if ((feature.properties || {}).cluster) return;
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
          [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",") +
          "&zoom=" + map.getZoom();
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
          map.getContainer().dataset["clustered_" + options.key] = String(!!data.clustered);
        })
        .catch(function (err) { if (err.name !== "AbortError") console.warn("spacematch:", err); });
    }

    if (options.data) {
      layer.addData(options.data);
      loaded = true;
      map.getContainer().dataset["loaded_" + options.key] = String((options.data.features || []).length);
      if (options.fit && layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), {maxZoom: 15, padding: [20, 20]});
      return layer;
    }
    map.on("moveend", load);
    map.on("overlayadd", function (e) { if (e.layer === group) load(); });
    load();
    return layer;
  }

  window.spacematch = window.spacematch || {};
  window.spacematch.remoteLayer = RemoteLayer;
  window.spacematch.scoreColor = scoreColor;

  // A legend control built from text nodes: [title, [[label, colour], ...]].
  window.spacematch.legend = function (map, title, rows) {
    var control = L.control({position: "bottomright"});
    control.onAdd = function () {
      var div = el("div", null, {"class": "sm-legend"});
      div.appendChild(el("strong", title));
      rows.forEach(function (row) {
        var line = el("div");
        var swatch = el("span", null, {"class": "sm-swatch"});
        swatch.style.background = row[1];
        line.appendChild(swatch);
        line.appendChild(document.createTextNode(" " + row[0]));
        div.appendChild(line);
      });
      return div;
    };
    control.addTo(map);
    return control;
  };
})();
