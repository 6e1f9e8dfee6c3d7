// The dashboard kept live: the server's events (EventSource) update the numbers in place;
// without a message for 30 s, or when the stream drops, the page says "mất kết nối" and
// keeps trying. Minimal: the page's own script (layouts, charts, map) replaces it.
"use strict";
(function () {
  var body = document.body;
  var status = document.getElementById("status");
  var lastMessage = Date.now();
  var source = null;
  var revoked = false;

  function setStatus(kind) {
    status.textContent = status.dataset[kind];
    status.className = kind === "live" ? "status" : "status down";
  }

  function setText(id, text) {
    var node = document.getElementById(id);
    if (node) { node.textContent = text; }
  }

  function render(data) {
    var h = data.headline;
    document.querySelectorAll("#headline [data-field]").forEach(function (node) {
      var name = node.dataset.field;
      var value = h[name + "_text"] !== undefined ? h[name + "_text"] : h[name];
      node.textContent = value === null || value === undefined ? "" : value;
    });
    var tbody = document.querySelector("#children tbody");
    if (tbody) {
      tbody.textContent = "";
      data.children.forEach(function (child) {
        var row = document.createElement("tr");
        if (!child.reported) { row.className = "not-reported"; }
        [child.short_name, child.turnout_text, child.voted_text + "/" + child.registered_text,
          child.areas_text].forEach(function (text, index) {
          var cell = document.createElement(index === 0 ? "th" : "td");
          cell.textContent = text;
          row.appendChild(cell);
        });
        tbody.appendChild(row);
      });
    }
    var missing = document.getElementById("missing");
    if (missing) {
      missing.textContent = "";
      var title = document.createElement("h2");
      title.textContent = data.missing.total
        ? data.texts.missing + " (" + data.missing.total + ")" : data.texts.missing;
      missing.appendChild(title);
      if (!data.missing.total) {
        var none = document.createElement("p");
        none.textContent = data.texts.nothing_missing;
        missing.appendChild(none);
      }
      data.missing.groups.forEach(function (group) {
        if (group.name) {
          var h3 = document.createElement("h3");
          h3.textContent = group.name;
          missing.appendChild(h3);
        }
        var list = document.createElement("ul");
        group.areas.forEach(function (area) {
          var item = document.createElement("li");
          item.textContent = area.short_name + " – " + area.chiefs_text;
          list.appendChild(item);
        });
        missing.appendChild(list);
      });
      if (data.missing.more_text) {
        var more = document.createElement("p");
        more.textContent = data.missing.more_text;
        missing.appendChild(more);
      }
    }
    body.dataset.version = data.version;
  }

  function connect() {
    if (revoked) { return; }
    source = new EventSource(body.dataset.events);
    source.onopen = function () { lastMessage = Date.now(); setStatus("live"); };
    source.onmessage = function () { lastMessage = Date.now(); };
    source.addEventListener("snapshot", function (event) {
      lastMessage = Date.now();
      setStatus("live");
      render(JSON.parse(event.data));
    });
    source.addEventListener("heartbeat", function () { lastMessage = Date.now(); setStatus("live"); });
    source.addEventListener("revoked", function () {
      revoked = true;
      source.close();
      setStatus("revoked");
    });
    source.onerror = function () {
      if (revoked) { return; }
      setStatus("disconnected");
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(connect, 3000);
      }
    };
  }

  setInterval(function () {
    if (!revoked && Date.now() - lastMessage > 30000) {
      setStatus("disconnected");
      if (source) { source.close(); }
      lastMessage = Date.now();
      connect();
    }
  }, 5000);
  setText("status", status.dataset.live);
  connect();
})();
