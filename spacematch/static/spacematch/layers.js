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
    if (options.listId && feature.id !== undefined) {
      var listNode = document.getElementById(options.listId);
      var item = listNode && listNode.querySelector("[data-feature='" + CSS.escape(String(feature.id)) + "']");
      if (item) box.appendChild(el("a", listNode.dataset.backText || "", {href: "#" + item.id, "class": "sm-popup__list"}));
    }
    if (options.listLink && p.list_anchor) {
      box.appendChild(el("a", options.listLink, {href: "#" + p.list_anchor, "class": "sm-popup__list"}));
    }
    return box;
  }

  // A viridis ramp for scores in [0, 1]: light green (poor fit) through teal to dark purple
  // (best fit): ordered by lightness, so it reads without telling red from green.
  var RAMP = [[181, 222, 43], [33, 145, 140], [59, 82, 139], [68, 1, 84]];
  function scoreColor(score) {
    var s = Math.max(0, Math.min(1, Number(score) || 0)) * (RAMP.length - 1);
    var i = Math.min(Math.floor(s), RAMP.length - 2), t = s - i;
    var c = RAMP[i].map(function (v, k) { return Math.round(v + (RAMP[i + 1][k] - v) * t); });
    return "rgb(" + c.join(",") + ")";
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

  // The features in view as a list beside the map (canvas markers reach no screen reader):
  // one section per layer in the element options.listId names, each entry a button that opens
  // the feature's popup; a clustered view says to zoom in instead.
  function fillList(map, layer, options, data) {
    var host = document.getElementById(options.listId);
    if (!host) return;
    var section = host.querySelector("[data-layer='" + options.key + "']");
    if (!section) {
      section = el("section", null, {"data-layer": options.key, "class": "sm-map-list__layer"});
      section.appendChild(el("h3", options.layerName || options.key, {"class": "utrecht-heading-3"}));
      section.appendChild(el("p", null, {"class": "sm-map-list__note"}));
      section.appendChild(el("ul", null, {"class": "sm-map-list__items"}));
      host.appendChild(section);
    }
    section.hidden = false;  // data loads only while the layer is on the map
    var note = section.querySelector("p"), list = section.querySelector("ul");
    list.textContent = "";
    var features = (data.features || []);
    var clusters = features.filter(function (f) { return (f.properties || {}).cluster; });
    if (clusters.length) {
      var n = clusters.reduce(function (a, f) { return a + (f.properties.count || 0); }, 0);
      note.textContent = (host.dataset.zoomText || "").replace("%(n)s", String(n));
      return;
    }
    note.textContent = features.length ? "" : (host.dataset.noneText || "");
    var max = Number(host.dataset.max || 50);
    layer.eachLayer(function (lyr) {
      if (list.children.length >= max || !lyr.feature) return;
      var f = lyr.feature, p = f.properties || {};
      var li = el("li", null, {id: options.listId + "-" + options.key + "-" + list.children.length, "data-feature": String(f.id)});
      var button = el("button", p[options.tooltipField || "name"] || f.id, {type: "button", "class": "linkish"});
      button.addEventListener("click", function () {
        // The marker as the layer holds it now (a reload may have replaced this one).
        var current = null;
        layer.eachLayer(function (l) { if (l.feature && String(l.feature.id) === String(f.id)) current = l; });
        current = current || lyr;
        map.getContainer().scrollIntoView({block: "center"});
        current.openPopup();
        var a = current.getPopup() && current.getPopup().getElement();
        a = a && a.querySelector("a");
        if (a) a.focus();
      });
      li.appendChild(button);
      var facts = [p.address, p.area_m2 !== undefined ? p.area_m2 + " m²" : null].filter(Boolean).join(" · ");
      if (facts) li.appendChild(document.createTextNode(" — " + facts));
      list.appendChild(li);
    });
    if (features.length > max) note.textContent = (host.dataset.moreText || "").replace("%(n)s", String(max));
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
        var m = L.circleMarker(latlng, featureStyle(feature, options));
        if (options.numberField && p[options.numberField] !== undefined) {
          m.bindTooltip(String(p[options.numberField]), {permanent: true, direction: "center", className: "sm-num"});
        }
        return m;
      },
      onEachFeature: function (feature, lyr) {
        if ((feature.properties || {}).cluster) return;
        if (options.tooltipField && !options.numberField) {
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
          // A reload (the map moved, e.g. to show an opened popup) keeps that popup open, and
          // the focus in it.
          var openId = null, focusInPopup = false;
          layer.eachLayer(function (lyr) {
            if (lyr.isPopupOpen && lyr.isPopupOpen() && lyr.feature) {
              openId = String(lyr.feature.id);
              var el0 = lyr.getPopup().getElement();
              focusInPopup = !!(el0 && el0.contains(document.activeElement));
            }
          });
          layer.clearLayers();
          layer.addData(data);
          loaded = true;
          if (options.listId) fillList(map, layer, options, data);
          if (openId !== null) {
            layer.eachLayer(function (lyr) {
              if (lyr.feature && String(lyr.feature.id) === openId && lyr.getPopup()) {
                lyr.openPopup();
                var a = focusInPopup && lyr.getPopup().getElement();
                a = a && a.querySelector("a");
                if (a) a.focus();
              }
            });
          }
          map.getContainer().dataset["loaded_" + options.key] = String((data.features || []).length);
          map.getContainer().dataset["clustered_" + options.key] = String(!!data.clustered);
        })
        .catch(function (err) { if (err.name !== "AbortError") console.warn("spacematch:", err); });
    }

    window.spacematch.layers = window.spacematch.layers || {};
    window.spacematch.layers[options.key] = layer;
    if (options.data) {
      layer.addData(options.data);
      loaded = true;
      map.getContainer().dataset["loaded_" + options.key] = String((options.data.features || []).length);
      if (options.fit && layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), {maxZoom: 15, padding: [20, 20]});
      return layer;
    }
    map.on("moveend", load);
    map.on("overlayadd", function (e) { if (e.layer === group) load(); });
    if (options.listId) {
      map.on("overlayadd overlayremove", function (e) {
        if (e.layer !== group) return;
        var host = document.getElementById(options.listId);
        var section = host && host.querySelector("[data-layer='" + options.key + "']");
        if (section) section.hidden = e.type === "overlayremove";
      });
    }
    load();
    return layer;
  }

  window.spacematch = window.spacematch || {};
  window.spacematch.remoteLayer = RemoteLayer;
  window.spacematch.scoreColor = scoreColor;

  // The planner's monitor: area polygons fetched once from the app, restyled by whichever figure
  // the radio buttons pick. The server sends each feature's fill colour per figure
  // (properties.fill[field]) and its tooltip texts, already formatted in the page's language.
  window.spacematch.choropleth = function (map, url, views, fields, noData) {
    var current = 0;
    var layer = L.geoJSON(null, {
      style: function (f) {
        var fill = ((f.properties || {}).fill || {})[views[current].field];
        return {fillColor: fill || noData, color: "#666666", weight: 0.5, fillOpacity: 0.75};
      },
      onEachFeature: function (f, lyr) {
        lyr.bindTooltip(function () {
          var div = el("div");
          fields.forEach(function (pair) {
            var v = (f.properties || {})[pair[0]];
            div.appendChild(el("div", pair[1] + ": " + (v === null || v === undefined ? "\u2013" : v)));
          });
          return div;
        }, {sticky: true});
      }
    }).addTo(map);
    var bases = {};
    views.forEach(function (view, i) {
      var group = L.layerGroup();
      group.on("add", function () { current = i; layer.setStyle(layer.options.style); });
      bases[view.title] = group;
      if (i === 0) group.addTo(map);
    });
    L.control.layers(bases, null, {collapsed: false}).addTo(map);
    fetch(url, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {features: []}; })
      .then(function (data) {
        layer.addData(data);
        map.getContainer().dataset.loaded_monitor = String((data.features || []).length);
      })
      .catch(function (err) { console.warn("spacematch:", err); });
    return layer;
  };

  // Where a map's companions go: the page element that holds the map (".map-wrap"), so the
  // layer switch sits above it and the legend below it, outside the canvas, where they never
  // cover a popup and are read in order by a screen reader.
  function host(map) {
    var container = map.getContainer();
    return container.closest(".map-wrap") || container;
  }

  // A legend from text nodes: [title, [[label, colour], ...]], each row tied to a layer group
  // (or one group for the whole legend); a row shows only while its layer is on the map.
  window.spacematch.legend = function (map, title, rows, groups, shape) {
    var box = el("div", null, {"class": "sm-legend"});
    box.appendChild(el("strong", title));
    var list = el("ul", null, {"class": "sm-legend__rows"});
    var lines = rows.map(function (row, i) {
      var line = el("li");
      var swatch = el("span", null, {"class": "sm-swatch sm-swatch--" + (shape || "square"), "aria-hidden": "true"});
      swatch.style.background = row[1];
      line.appendChild(swatch);
      line.appendChild(document.createTextNode(" " + row[0]));
      list.appendChild(line);
      return {node: line, group: groups && groups.length ? (groups.length === rows.length ? groups[i] : groups[0]) : null};
    });
    box.appendChild(list);
    host(map).insertAdjacentElement("afterend", box);
    function update() {
      var any = false;
      lines.forEach(function (line) {
        var on = !line.group || map.hasLayer(line.group);
        line.node.hidden = !on;
        any = any || on;
      });
      box.hidden = !any;
    }
    map.on("overlayadd overlayremove layeradd layerremove", update);
    update();
    return box;
  };

  // Leaflet's layer switch, moved above the map (see host) and named as a group.
  window.spacematch.placeLayerControl = function (map, control) {
    var container = control.getContainer();
    var wrap = host(map);
    container.classList.add("sm-layer-control");
    container.setAttribute("role", "group");
    container.setAttribute("aria-label", wrap.dataset.layersLabel || "Kaartlagen");
    wrap.insertAdjacentElement("beforebegin", container);
  };

  // An open popup is drawn above the zoom buttons and attribution (Leaflet keeps its panes
  // under the controls): lower the controls while one is open.
  // "Op de kaart" links in a list: open the feature's popup ([data-show-on-map] names the layer
  // key and feature id) and bring the map into view.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-show-on-map]");
    if (!link) return;
    var parts = link.dataset.showOnMap.split(":");
    var layer = (window.spacematch.layers || {})[parts[0]];
    if (!layer) return;
    layer.eachLayer(function (lyr) {
      if (String((lyr.feature || {}).id) === parts.slice(1).join(":")) {
        event.preventDefault();
        lyr._map.getContainer().scrollIntoView({block: "center"});
        lyr._map.setView(lyr.getLatLng(), Math.max(lyr._map.getZoom(), 14));
        lyr.openPopup();
        var popup = lyr.getPopup().getElement();
        var back = popup && popup.querySelector("a");
        if (back) back.focus();
      }
    });
  });

  window.spacematch.popupsOnTop = function (map) {
    var container = map.getContainer();
    map.on("popupopen", function () { container.classList.add("sm-popup-open"); });
    map.on("popupclose", function () { container.classList.remove("sm-popup-open"); });
  };
})();
