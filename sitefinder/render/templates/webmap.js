/* sitefinder's interactive map: pan, zoom, shade the areas by a measure, show what is clicked.
   Hand-written, no libraries, no network. Reads its data from the JSON element #wm-data. */
(function () {
  "use strict";
  var svg = document.getElementById("wm-svg");
  var source = document.getElementById("wm-data");
  if (!svg || !source) { return; }
  var data = JSON.parse(source.textContent);
  var info = document.getElementById("wm-info");
  var legend = document.getElementById("wm-legend");
  var chooser = document.getElementById("wm-measure");
  var start = svg.viewBox.baseVal;
  var home = [start.x, start.y, start.width, start.height];
  var view = home.slice();
  var marks = Array.prototype.slice.call(svg.querySelectorAll("[data-s]"));
  var areas = Array.prototype.slice.call(svg.querySelectorAll("[data-a]"));
  var selected = null;

  function show(box) {
    view = box;
    svg.setAttribute("viewBox", box.join(" "));
    var shown = svg.getBoundingClientRect();  // marks keep their size on screen (pixels)
    var perPixel = Math.max(box[2] / (shown.width || 800), box[3] / (shown.height || 500));
    marks.forEach(function (m) {
      var grow = m === selected ? 1.6 : 1;
      m.setAttribute("transform", "translate(" + m.dataset.x + " " + m.dataset.y + ") scale(" +
        (parseFloat(m.dataset.r) * perPixel * grow).toFixed(3) + ")");
    });
  }
  window.addEventListener("resize", function () { show(view); });

  function zoom(factor, cx, cy) {
    var w = Math.min(Math.max(view[2] * factor, home[2] / 40), home[2] * 2);
    var f = w / view[2];
    show([cx - (cx - view[0]) * f, cy - (cy - view[1]) * f, w, view[3] * f]);
  }

  function toMap(event) {
    var box = svg.getBoundingClientRect();
    var scale = Math.max(view[2] / box.width, view[3] / box.height);
    var left = box.left + (box.width - view[2] / scale) / 2;
    var top = box.top + (box.height - view[3] / scale) / 2;
    return [view[0] + (event.clientX - left) * scale, view[1] + (event.clientY - top) * scale,
            scale];
  }

  svg.addEventListener("wheel", function (event) {
    event.preventDefault();
    var at = toMap(event);
    zoom(event.deltaY > 0 ? 1.25 : 0.8, at[0], at[1]);
  }, {passive: false});

  var drag = null;
  svg.addEventListener("pointerdown", function (event) {
    drag = {x: event.clientX, y: event.clientY, view: view.slice(), moved: false,
            scale: toMap(event)[2]};
  });
  svg.addEventListener("pointermove", function (event) {
    if (!drag) { return; }
    var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 4) { drag.moved = true; }
    if (drag.moved) {
      show([drag.view[0] - dx * drag.scale, drag.view[1] - dy * drag.scale, view[2], view[3]]);
    }
  });
  function stop() { setTimeout(function () { drag = null; }, 0); }
  svg.addEventListener("pointerup", stop);
  svg.addEventListener("pointerleave", stop);

  function button(id, action) {
    var element = document.getElementById(id);
    if (element) { element.addEventListener("click", action); }
  }
  button("wm-in", function () { zoom(0.67, view[0] + view[2] / 2, view[1] + view[3] / 2); });
  button("wm-out", function () { zoom(1.5, view[0] + view[2] / 2, view[1] + view[3] / 2); });
  button("wm-home", function () { show(home.slice()); });

  function colour(measure, i) {
    if (!data.children[i]) { return data.no_children; }
    var v = measure.values[i];
    if (v === null || v === undefined) { return data.no_value; }
    for (var r = 0; r < measure.ranges.length; r++) {
      var range = measure.ranges[r];
      if (v >= range[0] - 1e-9 && v <= range[1] + 1e-9) { return range[2]; }
    }
    return data.no_value;
  }

  function text(tag, content, cls) {
    var element = document.createElement(tag);
    element.textContent = content;
    if (cls) { element.className = cls; }
    return element;
  }

  function shade(index) {
    var measure = data.measures[index];
    areas.forEach(function (a) { a.setAttribute("fill", colour(measure, +a.dataset.a)); });
    if (!legend) { return; }
    legend.textContent = "";
    legend.appendChild(text("p", measure.title, "wm-title"));
    var entries = measure.ranges.map(function (r) { return [r[2], r[3]]; });
    entries.push([data.no_children, "No children needing a place"]);
    entries.push([data.no_value, "No figure (withheld, or no child placed)"]);
    entries.forEach(function (e) {
      var item = text("span", e[1], "wm-key");
      var swatch = text("i", "");
      swatch.style.background = e[0];
      item.insertBefore(swatch, item.firstChild);
      legend.appendChild(item);
    });
  }
  if (chooser) {
    chooser.addEventListener("change", function () { shade(chooser.selectedIndex); });
  }

  function table(rows, head) {
    var t = document.createElement("table");
    if (head) {
      var hr = document.createElement("tr");
      head.forEach(function (h) { hr.appendChild(text("th", h)); });
      t.appendChild(document.createElement("thead")).appendChild(hr);
    }
    var body = t.appendChild(document.createElement("tbody"));
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      row.forEach(function (cell, i) { tr.appendChild(text(i ? "td" : "th", cell)); });
      body.appendChild(tr);
    });
    return t;
  }

  function open(panel, kind) {
    info.textContent = "";
    info.appendChild(text("h3", panel.title));
    info.dataset.kind = kind;
    if (panel.why) { info.appendChild(text("p", panel.why, "wm-why")); }
    info.appendChild(table(panel.rows));
    if (panel.bases && panel.bases.length) {
      info.appendChild(text("h4", "Placed in bases after the plan"));
      info.appendChild(table(panel.bases, ["Base", "Children", "Journey"]));
    }
    if (panel.goes && panel.goes.length) {
      info.appendChild(text("h4", "Without a base place after the plan, they go to"));
      info.appendChild(table(panel.goes, ["Place", "Children", "Journey"]));
    }
  }

  function pick(element) {
    if (selected) { selected.classList.remove("wm-selected"); }
    selected = element;
    if (element) {
      element.classList.add("wm-selected");
      if (element.dataset.s !== undefined) { element.parentNode.appendChild(element); }
    }
    show(view);
  }

  svg.addEventListener("click", function (event) {
    if (drag && drag.moved) { return; }
    var school = event.target.closest("[data-s]");
    var area = event.target.closest("[data-a]");
    if (school) {
      pick(school);
      open(data.schools[+school.dataset.s], "school");
    } else if (area) {
      pick(area);
      open(data.areas[+area.dataset.a], "area");
    }
  });
  show(home.slice());
  shade(0);
})();
