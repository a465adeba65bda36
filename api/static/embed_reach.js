/* tanlu reach map: H3 bands by time or by CO2e, reached stops and the origin.
   Data comes from the JSON block #tanlu-data (rendered server-side, never from the URL). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("tanlu-data").textContent);
  var view = data.view;
  var FILL_OPACITY = 0.6;  // bands are disjoint: each pixel blends one band over the map
  // no zoom animation: the map is drawn once, at its final scale (screenshots read its colours)
  var map = L.map("map", { zoomControl: true, attributionControl: true, zoomAnimation: false,
                           fadeAnimation: false });
  map.attributionControl.setPrefix("Leaflet");
  map.setView(view.origin, 14);  // vector layers need a view before they are added
  var tilesFailed = document.getElementById("tiles-failed");
  var tiles = L.tileLayer(data.tiles.url, { maxZoom: 19, attribution: data.tiles.attribution });
  tiles.on("tileerror", function () { tilesFailed.hidden = false; });
  tiles.addTo(map);

  var bandLayer = L.layerGroup().addTo(map);
  var stopLayer = L.layerGroup().addTo(map);
  // What is on the map, for tests and page scripts (coordinates in data.tiles.crs).
  window.tanluReachLayer = bandLayer;

  function bands(name) {
    return L.geoJSON({ type: "FeatureCollection", features: view.bands[name] }, {
      style: function (feature) {
        return { stroke: false, fillColor: feature.properties.color,
                 fillOpacity: FILL_OPACITY, className: "tanlu-band tanlu-band-" + name };
      }
    });
  }

  function show(name) {
    bandLayer.clearLayers();
    var layer = bands(name);
    bandLayer.addLayer(layer);
    ["time", "co2e"].forEach(function (other) {
      document.getElementById("legend-" + other).hidden = other !== name;
      document.getElementById("view-" + other).setAttribute("aria-pressed",
                                                            String(other === name));
    });
    document.body.setAttribute("data-view", name);
    return layer;
  }

  view.stops.forEach(function (s) {
    var marker = L.circleMarker([s[0], s[1]], { radius: 2, weight: 0, fillColor: "#263238",
                                                fillOpacity: 0.7, className: "tanlu-stop" });
    marker.bindTooltip(s[4] + " · " + Math.round(s[2]) + " min · " + Math.round(s[3]) + " g");
    stopLayer.addLayer(marker);
  });
  L.circleMarker(view.origin, { radius: 7, color: "#fff", weight: 2, fillColor: "#2e7d32",
                                fillOpacity: 1, className: "tanlu-origin" }).addTo(map);

  Array.prototype.forEach.call(document.querySelectorAll(".reach-view"), function (button) {
    button.addEventListener("click", function () { show(button.getAttribute("data-view")); });
  });
  var first = show("time");
  var bounds = first.getBounds();  // the bands: a few stops reached by rail may lie beyond
  if (bounds.isValid()) { map.fitBounds(bounds, { padding: [16, 16], animate: false }); }
  document.body.setAttribute("data-ready", "true");
}());
