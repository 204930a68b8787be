// igniter-ledger console: the live parts of the server-rendered pages.
// Plain JavaScript, no library, no build step. Every value from the ledger
// enters the page as a text node or an attribute set through the DOM API,
// never as markup.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var MAX_FEED_ROWS = 500;
  var MAX_SAMPLES = 60;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    return node;
  }

  function preview(value, limit) {
    var text = typeof value === "string" ? value : JSON.stringify(value);
    if (text === undefined) text = "";
    return text.length > limit ? text.slice(0, limit) + "…" : text;
  }

  function isoTime(seconds) {
    return typeof seconds === "number" ? new Date(seconds * 1000).toISOString() : "—";
  }

  function query(path, params) {
    var search = new URLSearchParams(params).toString();
    return document.body.dataset.base + path + (search ? "?" + search : "");
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) throw new Error(url + " answered " + response.status);
      return response.json();
    });
  }

  // Times are shown in UTC; the local time is the tooltip.
  function annotateTimes(root) {
    root.querySelectorAll("time[data-epoch]").forEach(function (node) {
      var seconds = parseFloat(node.dataset.epoch);
      if (!isNaN(seconds)) node.title = new Date(seconds * 1000).toString();
    });
  }

  // --- live feed ------------------------------------------------------------

  function startFeed(table) {
    var rows = document.getElementById("feed-rows");
    var state = document.getElementById("feed-state");
    function setState(name, text) {
      state.dataset.state = name;
      state.textContent = text;
    }

    // EventSource resends the last frame id as Last-Event-ID when it
    // reconnects, so the server resumes right after the last fact shown.
    var source = new EventSource(table.dataset.src, { withCredentials: true });
    source.addEventListener("open", function () { setState("live", "live: new facts appear at the top"); });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) setState("error", "the feed was closed by the server (reload to retry)");
      else setState("reconnecting", "reconnecting…");
    });
    source.addEventListener("fact_committed", function (message) {
      var event = JSON.parse(message.data);
      var valueCell = el("td", { "class": "value" }, ["…"]);
      var row = el("tr", { "class": "fresh", "data-fact-id": event.fact_id, "data-store": String(event.store), "data-key": String(event.key) }, [
        el("td", {}, [message.lastEventId]),
        el("td", {}, [el("time", {}, [isoTime(event.transaction_time)])]),
        el("td", {}, [el("a", { href: query("/store", { store: event.store }) }, [String(event.store)])]),
        el("td", {}, [el("a", { href: query("/key", { store: event.store, key: event.key }) }, [String(event.key)])]),
        valueCell,
        el("td", {}, [el("a", { href: query("/fact", { id: event.fact_id }), "class": "fact-id", title: event.fact_id }, [String(event.fact_id).slice(0, 8)])])
      ]);
      rows.insertBefore(row, rows.firstChild);
      while (rows.children.length > MAX_FEED_ROWS) rows.removeChild(rows.lastChild);
      getJSON(query("/api/fact", { id: event.fact_id })).then(function (data) {
        valueCell.textContent = data.found ? preview(data.fact.value, 160) : "(no longer in the ledger)";
      }).catch(function (error) { valueCell.textContent = String(error.message); });
    });
  }

  // --- status charts --------------------------------------------------------

  function chart(label, samples) {
    var values = samples.map(function (s) { return s[1]; });
    var min = Math.min.apply(null, values);
    var max = Math.max.apply(null, values);
    var span = max - min || 1;
    var width = 200;
    var height = 60;
    var step = samples.length > 1 ? width / (samples.length - 1) : width;
    var points = values.map(function (v, i) {
      var x = samples.length > 1 ? i * step : (i === 0 ? 0 : width);
      return x.toFixed(1) + "," + (height - 4 - ((v - min) / span) * (height - 8)).toFixed(1);
    });
    if (points.length === 1) points.push(width + "," + points[0].split(",")[1]);
    var picture = svg("svg", { viewBox: "0 0 " + width + " " + height, preserveAspectRatio: "none", role: "img", "aria-label": label });
    picture.appendChild(svg("polygon", { "class": "area", points: "0," + height + " " + points.join(" ") + " " + width + "," + height }));
    picture.appendChild(svg("polyline", { points: points.join(" ") }));
    return el("div", { "class": "chart", "data-series": label }, [
      el("div", { "class": "title" }, [label]),
      el("div", { "class": "latest" }, [String(values[values.length - 1])]),
      picture,
      el("div", { "class": "range" }, ["min " + min + " · max " + max + " · " + samples.length + " samples"])
    ]);
  }

  function startCharts(container) {
    var samples = {};
    var interval = parseInt(container.dataset.interval, 10) || 2000;
    function sample() {
      getJSON(container.dataset.src).then(function (data) {
        var now = Date.now();
        Object.keys(data.series).forEach(function (label) {
          var list = samples[label] || (samples[label] = []);
          list.push([now, data.series[label]]);
          if (list.length > MAX_SAMPLES) list.shift();
        });
        container.replaceChildren.apply(container, Object.keys(samples).map(function (label) { return chart(label, samples[label]); }));
        var facts = document.getElementById("status-facts");
        if (facts) facts.textContent = String(data.ledger.fact_count);
        var status = document.getElementById("status-status");
        if (status && data.status) status.textContent = String(data.status);
        container.dataset.samples = String((samples[Object.keys(samples)[0]] || []).length);
      }).catch(function (error) {
        container.dataset.error = String(error.message);
      }).then(function () { setTimeout(sample, interval); });
    }
    sample();
  }

  document.addEventListener("DOMContentLoaded", function () {
    annotateTimes(document);
    var feed = document.getElementById("feed");
    if (feed) startFeed(feed);
    var charts = document.getElementById("charts");
    if (charts) startCharts(charts);
  });
})();
