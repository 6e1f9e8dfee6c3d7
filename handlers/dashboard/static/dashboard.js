// fieldtally live dashboard (bảng theo dõi): draws the page from the snapshot's JSON and keeps it
// live. The server-rendered page already holds the numbers; this script rebuilds the same
// markup from every snapshot (server-sent events from data-events, else polling data-data),
// draws the turnout curve and the map as SVG sized to their boxes (so a 16 px label is 16 CSS
// px), cuts the TV layout's list of areas not reported to what fits, and shows "mất kết nối"
// when the stream drops or is silent for 30 s. Every Vietnamese label comes from the page's
// data- attributes or the snapshot: this file holds none. No library, no request elsewhere.
"use strict";
(function () {
  var SVG = "http://www.w3.org/2000/svg";
  var SILENCE_MS = 30000; // the contract: 30 s without data or heartbeat = disconnected
  var POLL_MS = 5000; // polling /data while the stream is down or silent
  var STREAM_QUIET_MS = 20000; // a stream this quiet is helped by polling
  var RECONNECT_MS = 3000;
  var TV_WIDTH = 1280;

  var body = document.body;
  var statusNode = document.getElementById("status");
  var eventsUrl = body.dataset.events;
  var dataUrl = body.dataset.data;
  var doc = null;
  var source = null;
  var revoked = false;
  var streamBroken = false;
  var lastEvent = Date.now(); // the stream's last message (snapshot or heartbeat)
  var lastOk = Date.now(); // the last message or successful poll
  var lastPoll = 0;
  var lastConnect = 0;
  var polling = false;
  var maps = {}; // map url -> parsed map document (or "loading")

  // --- small helpers ---------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }
  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function vnInt(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, "."); }
  // "Thành phố Hà Nội", "Khánh Hoà" -> "ha noi", "khanh hoa": names compared without the
  // unit's type and without diacritics (the sources spell some tones differently).
  var UNIT_TYPES = /^(thành phố|tỉnh|thị xã|thị trấn|xã|phường|quận|huyện|đặc khu)\s+/;
  function bareName(name) {
    var plain = String(name || "").normalize("NFC").toLowerCase().trim().replace(UNIT_TYPES, "");
    return plain.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d")
      .replace(/\s+/g, " ");
  }
  function isTv() { return window.innerWidth >= TV_WIDTH; }
  // "2021-05-23T09:41:00+07:00" -> minutes after local midnight (the election's zone)
  function localMinutes(iso) {
    var m = /T(\d\d):(\d\d)(?::(\d\d))?/.exec(iso);
    return m ? Number(m[1]) * 60 + Number(m[2]) + (m[3] ? Number(m[3]) / 60 : 0) : 0;
  }

  // --- status ------------------------------------------------------------------------------
  function setStatus(kind) {
    statusNode.textContent = statusNode.dataset[kind];
    statusNode.className = "status" + (kind === "disconnected" ? " down" : "") +
      (kind === "revoked" ? " revoked" : "");
    body.classList.toggle("offline", kind !== "live");
  }
  function alive(fromStream) {
    var now = Date.now();
    lastOk = now;
    if (fromStream) { lastEvent = now; streamBroken = false; }
    if (!revoked) { setStatus("live"); }
  }
  function revoke() {
    revoked = true;
    if (source) { source.close(); source = null; }
    setStatus("revoked");
  }

  // --- the connection: events first, polling when they do not come ------------------------
  function connect() {
    if (revoked || typeof window.EventSource === "undefined") { return; }
    if (source) { source.close(); }
    lastConnect = Date.now();
    var stream = new EventSource(eventsUrl);
    source = stream;
    stream.addEventListener("snapshot", function (event) {
      if (stream !== source) { return; }
      alive(true);
      render(JSON.parse(event.data));
    });
    stream.addEventListener("heartbeat", function () {
      if (stream === source) { alive(true); }
    });
    stream.addEventListener("revoked", revoke);
    stream.onerror = function () {
      if (stream !== source || revoked) { return; }
      streamBroken = true;
      setStatus("disconnected");
      poll();
    };
  }

  function poll() {
    if (polling || revoked) { return; }
    polling = true;
    lastPoll = Date.now();
    fetch(dataUrl, { cache: "no-store", credentials: "omit" }).then(function (response) {
      if (response.status === 404) { revoke(); return null; }
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      polling = false;
      if (data && !revoked) { alive(false); render(data); }
    }).catch(function () {
      polling = false;
      if (!revoked) { setStatus("disconnected"); }
    });
  }

  function watch() {
    if (revoked) { return; }
    var now = Date.now();
    if (now - lastOk > SILENCE_MS) { setStatus("disconnected"); }
    var quiet = streamBroken || now - lastEvent > STREAM_QUIET_MS || !source;
    if (quiet && now - lastPoll >= POLL_MS) { poll(); }
    var closed = !source || source.readyState === 2;
    if ((closed && now - lastConnect >= RECONNECT_MS) ||
        (now - lastEvent > SILENCE_MS && now - lastConnect > SILENCE_MS)) {
      connect();
    }
  }

  // --- rendering ---------------------------------------------------------------------------
  function render(data) {
    doc = data;
    body.dataset.version = data.version;
    renderFields(data);
    renderChildren(data.children);
    renderMap(data); // first: whether a map is shown decides the other panels' sizes
    renderCurve(data);
    renderMissing(data.missing);
    renderResults(data.results);
    body.dataset.rendered = String(data.version);
  }

  function renderFields(data) {
    var h = data.headline;
    var extra = {
      unit_label: data.unit.label,
      missing_total: data.missing.total ? vnInt(data.missing.total) : ""
    };
    document.querySelectorAll("[data-field]").forEach(function (node) {
      var name = node.dataset.field;
      var value = name in extra ? extra[name] : h[name];
      node.textContent = value === null || value === undefined ? "" : value;
    });
  }

  function bar(turnout) {
    if (turnout === null || turnout === undefined) { return el("span", "bar hatch"); }
    var width = Math.max(0, Math.min(100, turnout)).toFixed(1);
    var node = svg("svg", { "class": "bar", viewBox: "0 0 100 10",
      preserveAspectRatio: "none", "aria-hidden": "true" });
    node.appendChild(svg("rect", { "class": "bar-track", width: "100", height: "10" }));
    node.appendChild(svg("rect", { "class": "bar-fill", width: width, height: "10" }));
    return node;
  }

  // Results night (RESULTS.md): per ballot a line with a bar of the electoral units complete,
  // then per electoral unit its candidates as bars of % of valid ballots with the 50 % line;
  // the elected marked ✓ and bold. Hidden while `results` is null. On the TV the units that
  // do not fit are cut and counted, like the areas not reported.
  function shareBar(percent, ticks) {
    var width = Math.max(0, Math.min(100, percent)).toFixed(2);
    var node = svg("svg", { "class": "bar", viewBox: "0 0 100 10",
      preserveAspectRatio: "none", "aria-hidden": "true" });
    node.appendChild(svg("rect", { "class": "bar-track", width: "100", height: "10" }));
    node.appendChild(svg("rect", { "class": "bar-fill", width: width, height: "10" }));
    if (ticks) {
      node.appendChild(svg("line", { "class": "half-line", x1: "50", x2: "50", y1: "0",
        y2: "10", "vector-effect": "non-scaling-stroke" }));
    }
    return node;
  }

  function renderResults(results) {
    var section = document.getElementById("results");
    if (!section) { return; }
    body.classList.toggle("results-night", !!results);
    clear(section);
    section.hidden = !results;
    if (!results) { return; }
    var labels = results.labels;
    section.appendChild(el("h2", "", results.title));
    var ballots = el("ul", "ballots");
    results.ballots.forEach(function (b) {
      var row = el("li", "ballot");
      row.dataset.ballot = b.ballot;
      row.appendChild(el("span", "b-label", b.label));
      row.appendChild(el("span", "b-seats", b.seats_text));
      row.appendChild(shareBar(b.units_percent, false));
      row.appendChild(el("span", "b-units", labels.units_complete + " " + b.units_text));
      if (b.flags_text) { row.appendChild(el("span", "b-flags", b.flags_text)); }
      ballots.appendChild(row);
    });
    section.appendChild(ballots);
    var key = el("p", "results-key");
    key.appendChild(el("span", "key-elected", "✓ " + labels.elected));
    key.appendChild(el("span", "key-half", labels.half));
    section.appendChild(key);
    var units = el("div", "eunits");
    results.units.forEach(function (u) {
      var box = el("article", "eunit" + (u.complete ? " complete" : " incomplete"));
      box.dataset.code = u.code;
      var head = el("h3");
      head.appendChild(el("span", "eu-name", u.name));
      head.appendChild(el("span", "eu-meta",
        u.ballot_label + " · " + u.areas_text + " · " + u.status_text));
      if (u.flag_text) { head.appendChild(el("span", "flag", u.flag_text)); }
      box.appendChild(head);
      var list = el("ol", "cands");
      u.candidates.forEach(function (c) {
        var row = el("li", "cand" + (c.elected ? " elected" : ""));
        row.dataset.number = c.number;
        row.appendChild(el("span", "c-name", (c.elected ? "✓ " : "") + c.name));
        row.appendChild(shareBar(c.percent, true));
        row.appendChild(el("span", "c-pct", c.percent_text));
        row.appendChild(el("span", "c-votes", c.votes_text + " " + labels.votes));
        list.appendChild(row);
      });
      box.appendChild(list);
      units.appendChild(box);
    });
    section.appendChild(units);
    var more = el("p", "more");
    more.hidden = !results.more_text;
    more.textContent = results.more_text || "";
    section.appendChild(more);
    if (!isTv()) { return; }
    // The TV: drop the last units until the rest fits, and count what was dropped.
    var boxes = Array.prototype.slice.call(units.children);
    var hiddenCount = results.units_total - results.units_shown;
    function overflowing() {
      var limit = units.getBoundingClientRect().bottom + 1;
      return boxes.some(function (b) {
        return !b.hidden && b.getBoundingClientRect().right > units.getBoundingClientRect().right + 1
          || !b.hidden && b.getBoundingClientRect().bottom > limit;
      });
    }
    while (boxes.length > 1 && overflowing()) {
      var last = boxes.pop();
      last.hidden = true;
      hiddenCount += 1;
      more.hidden = false;
      more.textContent = section.dataset.more.replace("{count}", vnInt(hiddenCount));
    }
  }

  function renderChildren(children) {
    var section = document.getElementById("children");
    var list = section.querySelector("ol");
    section.hidden = children.length === 0;
    clear(list);
    children.forEach(function (child) {
      var row = el("li", "child" + (child.reported ? "" : " not-reported"));
      row.dataset.code = child.code;
      row.appendChild(el("span", "name", child.short_name));
      row.appendChild(bar(child.reported ? child.turnout : null));
      row.appendChild(el("span", "pct", child.turnout_text));
      row.appendChild(el("span", "votes", child.voted_text + "/" + child.registered_text));
      row.appendChild(el("span", "areas", child.areas_text));
      list.appendChild(row);
    });
  }

  function renderCurve(data) {
    var section = document.getElementById("curve");
    var box = document.getElementById("curve-chart");
    var legend = section.querySelector(".curve-legend");
    var curve = data.curve;
    var series = curve.series || [];
    var unit = series.length && series[0].is_unit ? series[0] : null;
    clear(legend);
    if (unit && unit.points.length) {
      var last = unit.points[unit.points.length - 1];
      legend.appendChild(el("li", "unit", unit.label + ": " + last.turnout_text +
        " (" + last.time + ")"));
    }
    if (series.length > 1) { legend.appendChild(el("li", "others", section.dataset.childrenLabel)); }

    var width = Math.max(box.clientWidth, 200);
    var height = Math.max(box.clientHeight, 160);
    var chart = svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img" });
    var left = 58, right = 78, top = 14, bottom = 30;
    var plotW = width - left - right, plotH = height - top - bottom;
    var start = Date.parse(curve.start), end = Date.parse(curve.end);
    if (!(end > start)) { end = start + 3600000; }
    var midnight = start - localMinutes(curve.start) * 60000;
    function x(ms) { return left + (ms - start) / (end - start) * plotW; }
    function y(pct) { return top + (1 - pct / 100) * plotH; }
    [0, 25, 50, 75, 100].forEach(function (pct) {
      chart.appendChild(svg("line", { "class": pct ? "grid" : "axis", x1: left, x2: left + plotW,
        y1: y(pct), y2: y(pct) }));
      chart.appendChild(svg("text", { "class": "tick", x: left - 6, y: y(pct) + 6,
        "text-anchor": "end" }, pct + "%"));
    });
    var hours = (end - start) / 3600000;
    var step = Math.max(1, Math.ceil(hours / Math.max(1, Math.floor(plotW / 64))));
    var firstHour = Math.ceil((start - midnight) / 3600000);
    for (var hour = firstHour; midnight + hour * 3600000 <= end; hour += step) {
      var at = x(midnight + hour * 3600000);
      chart.appendChild(svg("line", { "class": "axis", x1: at, x2: at, y1: top + plotH,
        y2: top + plotH + 5 }));
      chart.appendChild(svg("text", { "class": "tick", x: at, y: top + plotH + 23,
        "text-anchor": "middle" }, (hour % 24) + "h"));
    }
    function path(points) {
      return points.map(function (p, i) {
        return (i ? "L" : "M") + x(Date.parse(p.at)).toFixed(1) + " " + y(p.turnout).toFixed(1);
      }).join("");
    }
    series.slice(1).forEach(function (s) {
      if (s.points.length) {
        chart.appendChild(svg("path", { "class": "line-child", d: path(s.points) }));
      }
    });
    if (unit && unit.points.length) {
      chart.appendChild(svg("path", { "class": "line-unit", d: path(unit.points) }));
      var p = unit.points[unit.points.length - 1];
      chart.appendChild(svg("text", { "class": "point-label", x: x(Date.parse(p.at)) + 6,
        y: y(p.turnout) + 6 }, p.turnout_text));
    } else {
      chart.appendChild(svg("text", { "class": "empty-note", x: left + plotW / 2,
        y: top + plotH / 2, "text-anchor": "middle" }, data.headline.as_of_text));
    }
    clear(box);
    box.appendChild(chart);
  }

  function renderMissing(missing) {
    var section = document.getElementById("missing");
    var old = section.querySelector(".missing, .none");
    if (old) { old.parentNode.removeChild(old); }
    if (!missing.total) {
      section.appendChild(el("p", "none", section.dataset.none));
      return;
    }
    var list = el("ul", "missing");
    missing.groups.forEach(function (group) {
      group.areas.forEach(function (area) {
        var item = el("li", "area");
        item.dataset.code = area.code;
        item.appendChild(el("span", "area-name", (group.name ? group.name + " – " : "") +
          area.short_name));
        item.appendChild(el("span", "chiefs", area.chiefs_text));
        list.appendChild(item);
      });
    });
    section.appendChild(list);
    var beyond = missing.total - missing.shown; // not even sent by the server
    var more = null;
    function setMore(count) {
      if (!count) { return; }
      if (!more) { more = el("li", "more"); list.appendChild(more); }
      more.textContent = section.dataset.more.replace("{count}", vnInt(count));
    }
    setMore(beyond);
    if (!isTv()) { return; }
    // The TV layout: cut the list to what fits, ending with "và N khu vực khác".
    var frame = list.getBoundingClientRect();
    function fits(node) {
      var r = node.getBoundingClientRect();
      return r.bottom <= frame.bottom + 0.5 && r.right <= frame.right + 0.5;
    }
    var areas = Array.prototype.slice.call(list.querySelectorAll(".area"));
    var cut = areas.length;
    for (var i = 0; i < areas.length; i++) { if (!fits(areas[i])) { cut = i; break; } }
    if (cut === areas.length && (!more || fits(more))) { return; }
    for (var j = cut; j < areas.length; j++) { list.removeChild(areas[j]); }
    var hidden = areas.length - cut;
    setMore(beyond + hidden);
    while (!fits(more) && cut > 0) {
      cut -= 1;
      list.removeChild(areas[cut]);
      hidden += 1;
      setMore(beyond + hidden);
    }
  }

  function bucket(turnout) {
    var classes = document.querySelectorAll("#map .legend [data-from]");
    var found = 0;
    classes.forEach(function (node, index) {
      if (turnout >= Number(node.dataset.from)) { found = index; }
    });
    return "c" + found;
  }

  function mapUrl(data) {
    var section = document.getElementById("map");
    if (!data.map) { return null; }
    var name = "maps/" + data.map.replace(/\.geojson$/, "") + ".json";
    var given = section.dataset.url || "";
    return given.indexOf("/static/" + name) === 0 ? given : section.dataset.static + name;
  }

  function renderMap(data) {
    var section = document.getElementById("map");
    var main = document.querySelector("main");
    var url = mapUrl(data);
    if (!url) {
      section.hidden = true;
      main.className = "no-map";
      return;
    }
    var map = maps[url];
    if (map === undefined) {
      maps[url] = "loading";
      fetch(url, { credentials: "omit" }).then(function (r) {
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.json();
      }).then(function (loaded) {
        maps[url] = loaded;
        if (doc) { render(doc); }
      }).catch(function () { maps[url] = null; });
      return;
    }
    if (map === "loading" || map === null) { return; } // no map file: no map, no error
    // A child is on the map when its code is the feature's and its name too: the 2025 codes
    // reuse older ones (2021's communes), and a code alone does not tell the era.
    var byCode = {};
    data.children.forEach(function (child) { byCode[child.code] = child; });
    var onMap = {};
    var matched = 0;
    map.features.forEach(function (f) {
      var child = byCode[f.code];
      if (child && bareName(child.name) === bareName(f.name)) { onMap[f.code] = child; matched++; }
    });
    var shown = matched > 0 && matched * 2 >= data.children.length;
    section.hidden = !shown;
    main.className = shown ? "with-map" : "no-map";
    if (!shown) { return; }
    var box = document.getElementById("map-chart");
    var width = Math.max(box.clientWidth, 200);
    var height = Math.max(box.clientHeight, 200);
    var scale = Math.min(width / map.width, height / map.height);
    var ox = (width - map.width * scale) / 2, oy = (height - map.height * scale) / 2;
    var chart = svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img" });
    var defs = svg("defs");
    var hatch = svg("pattern", { id: "hatch", patternUnits: "userSpaceOnUse", width: "8",
      height: "8", patternTransform: "rotate(45)" });
    hatch.appendChild(svg("rect", { "class": "hatch-back", width: "8", height: "8" }));
    hatch.appendChild(svg("line", { "class": "hatch-line", x1: "0", y1: "0", x2: "0", y2: "8" }));
    defs.appendChild(hatch);
    chart.appendChild(defs);
    var group = svg("g", { transform: "translate(" + ox.toFixed(1) + " " + oy.toFixed(1) +
      ") scale(" + scale.toFixed(5) + ")" });
    map.features.forEach(function (feature) {
      var child = onMap[feature.code];
      var kind = !child ? "outside" : child.reported ? bucket(child.turnout) : "nr";
      var title = (child ? child.short_name : feature.name) + (child ? ": " + child.turnout_text : "");
      var shape = svg("path", { "class": "region " + kind, d: feature.d,
        "vector-effect": "non-scaling-stroke" });
      shape.dataset.code = feature.code;
      shape.appendChild(svg("title", {}, title));
      group.appendChild(shape);
      if (feature.islands) { // Hoàng Sa, Trường Sa: outlined, so the smallest stay visible
        var islands = svg("path", { "class": "islands " + kind, d: feature.islands,
          "vector-effect": "non-scaling-stroke" });
        islands.appendChild(svg("title", {}, title));
        group.appendChild(islands);
      }
    });
    chart.appendChild(group);
    var outside = section.querySelector(".legend .outside");
    if (outside) { outside.hidden = matched === map.features.length; }
    clear(box);
    box.appendChild(chart);
    (map.labels || []).forEach(function (label) {
      var text = svg("text", { "class": "map-label", y: Math.max(16, oy + label.y * scale)
        .toFixed(1), "text-anchor": "middle" }, label.text);
      chart.appendChild(text);
      var half = text.getComputedTextLength() / 2 + 2; // kept inside the box: never cut
      text.setAttribute("x", Math.min(width - half, Math.max(half, ox + label.x * scale))
        .toFixed(1));
    });
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { if (doc) { render(doc); } }, 150);
  });

  connect();
  poll(); // the charts at once, whatever the stream does
  setInterval(watch, 1000);
})();
