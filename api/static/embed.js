/* tanlu embeddable map: draws the chosen itinerary leg by leg and switches between them.
   Data comes from the JSON block #tanlu-data (rendered server-side, never from the URL). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("tanlu-data").textContent);
  var itineraries = data.view.itineraries;
  var map = L.map("map", { zoomControl: true, attributionControl: true });
  map.attributionControl.setPrefix("Leaflet");
  var routeLayer = L.layerGroup().addTo(map);
  // The drawn route, for tests and page scripts reading what is on the map (data.tiles.crs).
  window.tanluRouteLayer = routeLayer;
  var tilesFailed = document.getElementById("tiles-failed");

  var tiles = L.tileLayer(data.tiles.url, { maxZoom: 19, attribution: data.tiles.attribution });
  tiles.on("tileerror", function () { tilesFailed.hidden = false; });
  tiles.addTo(map);

  // Where a car is parked or charged, a traveller dropped, a bike taken on board: own icon
  // and colour (api/embed_view.py LEG_END_MARKS), text set as text, never as HTML.
  function endMark(leg) {
    var badge = document.createElement("span");
    badge.textContent = leg.end.icon;
    badge.style.background = leg.end.color;
    var mark = L.marker(leg.line[leg.line.length - 1], {
      icon: L.divIcon({ html: badge, className: "tanlu-end tanlu-end-" + leg.end.note,
                        iconSize: [22, 22] }),
      keyboard: false
    });
    mark.bindTooltip(leg.end.label + (leg.end.place ? " · " + leg.end.place : ""));
    return mark;
  }

  function draw(index) {
    var itinerary = itineraries[index];
    routeLayer.clearLayers();
    var bounds = L.latLngBounds([]);
    itinerary.legs.forEach(function (leg) {
      if (leg.station) {  // renting or returning a shared bike: a marker, not a line
        var at = leg.line[0];
        var dot = L.circleMarker(at, { radius: 8, color: leg.color, weight: 3,
          fillColor: "#fff", fillOpacity: 1,
          className: "tanlu-leg tanlu-leg-" + leg.station });
        dot.bindTooltip(leg.label + " · " + leg.from);
        routeLayer.addLayer(dot);
        routeLayer.addLayer(L.marker(at, { interactive: false, keyboard: false,
          icon: L.divIcon({ className: "tanlu-station tanlu-station-" + leg.station,
            html: leg.station === "rent" ? "\u2191" : "\u2193", iconSize: [12, 12] }) }));
        bounds.extend(at);
        return;
      }
      var line = L.polyline(leg.line, {
        color: leg.color, weight: leg.dashed ? 4 : 6, opacity: 0.9,
        dashArray: leg.dashed ? "6 8" : null,
        className: "tanlu-leg tanlu-leg-" + leg.mode
      });
      line.bindTooltip(leg.label + (leg.route ? " " + leg.route : ""));
      routeLayer.addLayer(line);
      bounds.extend(line.getBounds());
      if (leg.end) { routeLayer.addLayer(endMark(leg)); }
    });
    var legs = itinerary.legs;
    var start = legs[0].line[0];
    var lastLine = legs[legs.length - 1].line;
    var end = lastLine[lastLine.length - 1];
    routeLayer.addLayer(L.circleMarker(start, { radius: 7, color: "#fff", weight: 2,
      fillColor: "#2e7d32", fillOpacity: 1, className: "tanlu-origin" }));
    routeLayer.addLayer(L.circleMarker(end, { radius: 7, color: "#fff", weight: 2,
      fillColor: "#b71c1c", fillOpacity: 1, className: "tanlu-destination" }));
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [24, 24] }); }
  }

  function select(index) {
    var items = document.querySelectorAll("#itineraries > .itinerary");
    Array.prototype.forEach.call(items, function (item) {
      var chosen = Number(item.getAttribute("data-index")) === index;
      item.classList.toggle("selected", chosen);
      item.querySelector(".choose").setAttribute("aria-pressed", chosen ? "true" : "false");
      item.querySelector(".legs").hidden = !chosen;
    });
    document.body.setAttribute("data-selected", String(index));
    draw(index);
  }

  Array.prototype.forEach.call(document.querySelectorAll("#itineraries .choose"), function (button) {
    button.addEventListener("click", function () {
      select(Number(button.parentNode.getAttribute("data-index")));
    });
  });
  select(0);
  document.body.setAttribute("data-ready", "true");
}());
