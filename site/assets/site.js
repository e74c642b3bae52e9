/* wasmcmp site: charts (uPlot), tooltips, tabs and table filters.
 *
 * Every name shown here comes from the benchmarked project and is untrusted: it is only ever
 * set with textContent, never parsed as markup. Page data arrives as JSON in
 * <script type="application/json" id="page-data">, written by the generator with |tojson.
 */
(function () {
  "use strict";

  var PLOT_HEIGHT = 340;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return "—";
    var a = Math.abs(v);
    if (a >= 10000) return Math.round(v).toLocaleString("en-US");
    return String(parseFloat(v.toPrecision(a >= 1 ? 4 : 3)));
  }

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function dateText(t) {
    if (t === null || t === undefined) return "no date";
    var d = new Date(t * 1000);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) +
      " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + " UTC";
  }

  function safeUrl(url) {
    return typeof url === "string" && /^https?:\/\//.test(url) ? url : null;
  }

  /* -- tabs and filters -------------------------------------------------------------------- */

  function initTabs(root) {
    var buttons = root.querySelectorAll("[data-tab]");
    var panels = root.querySelectorAll("[data-panel]");
    function select(i) {
      buttons.forEach(function (b) {
        b.setAttribute("aria-selected", b.getAttribute("data-tab") === i ? "true" : "false");
      });
      panels.forEach(function (p) {
        p.hidden = p.getAttribute("data-panel") !== i;
      });
    }
    buttons.forEach(function (b) {
      b.addEventListener("click", function () {
        select(b.getAttribute("data-tab"));
      });
    });
    if (buttons.length) select("0");
  }

  function initFilter(input) {
    var id = input.getAttribute("data-filter");
    var table = document.getElementById(id);
    var count = document.querySelector('[data-count="' + id + '"]');
    if (!table) return;
    var rows = table.tBodies[0].rows;
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      var shown = 0;
      for (var i = 0; i < rows.length; i++) {
        var hit = !q || (rows[i].getAttribute("data-name") || "").indexOf(q) >= 0;
        rows[i].hidden = !hit;
        if (hit) shown++;
      }
      if (count) count.textContent = count.textContent.replace(/^\d+/, String(shown));
    });
  }

  /* -- charts ------------------------------------------------------------------------------ */

  function Chart(card, spec, commits) {
    this.card = card;
    this.spec = spec;
    this.commits = spec.x.map(function (c) {
      return commits[String(c)] || { id: String(c), label: String(c), t: null, url: null };
    });
    this.dated = this.commits.every(function (c) {
      return typeof c.t === "number";
    });
    this.plotEl = card.querySelector(".plot");
    this.logBox = card.querySelector("[data-log]");
    this.orderBox = card.querySelector("[data-order]");
    this.hidden = {};
    this.u = null;
    this.tip = el("div", "tip");
    this.tip.hidden = true;
    this.plotEl.appendChild(this.tip);
    if (!this.dated && this.orderBox) {
      this.orderBox.checked = true;
      this.orderBox.disabled = true;
    } else if (this.orderBox && lopsided(this.commits)) {
      this.orderBox.checked = true;
    }
    this.buildLegend();
    var self = this;
    if (this.logBox) this.logBox.addEventListener("change", function () { self.draw(); });
    if (this.orderBox) this.orderBox.addEventListener("change", function () { self.draw(); });
    var reset = card.querySelector("[data-reset]");
    if (reset) reset.addEventListener("click", function () { self.u.setData(self.u.data, true); });
    this.draw();
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () {
        self.u.setSize({ width: self.width(), height: PLOT_HEIGHT });
      }, 100);
    });
  }

  /* True when one quiet stretch takes up most of the time axis and would squeeze the other
   * commits together: such a history starts evenly spaced, one step per commit. */
  function lopsided(commits) {
    if (commits.length < 20) return false;
    var span = commits[commits.length - 1].t - commits[0].t;
    var widest = 0;
    for (var i = 1; i < commits.length; i++) widest = Math.max(widest, commits[i].t - commits[i - 1].t);
    return span > 0 && widest > 0.25 * span;
  }

  /* Where commit i sits on the x axis: by its date, or by its rank when evenly spaced. */
  Chart.prototype.xPos = function (i, canvas) {
    return this.u.valToPos(this.u.data[0][i], "x", canvas);
  };

  Chart.prototype.width = function () {
    return Math.max(320, this.plotEl.clientWidth);
  };

  Chart.prototype.buildLegend = function () {
    var self = this;
    var legend = this.card.querySelector(".legend");
    if (!legend) return;
    this.spec.series.forEach(function (s, i) {
      var b = el("button");
      b.type = "button";
      b.setAttribute("aria-pressed", "true");
      var dot = el("span", "dot");
      dot.style.background = s.color;
      b.appendChild(dot);
      b.appendChild(document.createTextNode(s.name));
      b.addEventListener("click", function () {
        self.hidden[i] = !self.hidden[i];
        b.setAttribute("aria-pressed", self.hidden[i] ? "false" : "true");
        [1, 2, 3].forEach(function (k) {
          self.u.setSeries(3 * i + k, { show: !self.hidden[i] });
        });
      });
      legend.appendChild(b);
    });
  };

  Chart.prototype.data = function (log, even) {
    var xs;
    if (!even) {
      xs = this.commits.map(function (c) { return c.t; });
    } else {
      xs = this.commits.map(function (c, i) { return i; });
    }
    var data = [xs];
    this.spec.series.forEach(function (s) {
      function clean(v) { return v === null || (log && v <= 0) ? null : v; }
      data.push(s.y.map(clean), s.hi.map(clean), s.lo.map(clean));
    });
    return data;
  };

  /* The y range follows the lines, not their bands: one wide interval must not flatten the
   * rest. Linear scales start at zero so a step reads at its true size. */
  function yRange(log) {
    return function (u, dataMin, dataMax) {
      var sx = u.scales.x;
      var xs = u.data[0];
      var lo = Infinity;
      var hi = -Infinity;
      for (var s = 1; s < u.series.length; s += 3) {
        if (!u.series[s].show) continue;
        var ys = u.data[s];
        for (var i = 0; i < ys.length; i++) {
          var xv = xs[i];
          if (ys[i] === null || (sx.min !== null && sx.min !== undefined && (xv < sx.min || xv > sx.max))) continue;
          if (ys[i] < lo) lo = ys[i];
          if (ys[i] > hi) hi = ys[i];
        }
      }
      if (!isFinite(lo)) {
        lo = dataMin;
        hi = dataMax;
      }
      if (lo === null || hi === null || !isFinite(lo)) return [log ? 1 : 0, log ? 10 : 1];
      if (log) return uPlot.rangeLog(lo / 1.15, hi * 1.15, 10, true);
      return [Math.min(0, lo), hi > 0 ? hi * 1.12 : 1];
    };
  }

  Chart.prototype.draw = function () {
    var self = this;
    var log = !!(this.logBox && this.logBox.checked);
    var even = !this.dated || !!(this.orderBox && this.orderBox.checked);
    var many = this.commits.length > 150;
    var series = [{}];
    var bands = [];
    var clear = "rgba(0,0,0,0)";
    this.spec.series.forEach(function (s, i) {
      var show = !self.hidden[i];
      series.push({
        label: s.name,
        stroke: s.color,
        width: 1.75,
        spanGaps: true,
        show: show,
        points: { show: !many, size: 5, fill: s.color },
      });
      series.push({ label: s.name + " high", stroke: clear, width: 1, spanGaps: true, show: show, points: { show: false } });
      series.push({ label: s.name + " low", stroke: clear, width: 1, spanGaps: true, show: show, points: { show: false } });
      bands.push({ series: [3 * i + 2, 3 * i + 3], fill: s.color + "2e" });
    });
    var unit = this.spec.unit;
    var opts = {
      width: this.width(),
      height: PLOT_HEIGHT,
      series: series,
      bands: bands,
      legend: { show: false },
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: {
        x: even ? { time: false } : { time: true },
        y: log ? { distr: 3, log: 10, range: yRange(true) } : { distr: 1, range: yRange(false) },
      },
      axes: [
        {
          stroke: "#5f6b7a",
          grid: { stroke: "#edf0f3" },
          ticks: { stroke: "#d0d5dd" },
          space: even ? 70 : 50,
          values: even ? function (u, splits) {
            // one step per commit: label a step with its commit's day (or name, undated)
            return splits.map(function (v) {
              var c = self.commits[v];
              if (!c || Math.round(v) !== v) return "";
              return self.dated ? dateText(c.t).slice(0, 10) : c.label;
            });
          } : undefined,
        },
        {
          label: unit,
          labelSize: 22,
          size: 64,
          stroke: "#5f6b7a",
          grid: { stroke: "#edf0f3" },
          ticks: { stroke: "#d0d5dd" },
          values: function (u, splits) { return splits.map(fmt); },
        },
      ],
      cursor: {
        drag: { x: true, y: false, setScale: true },
        points: { size: 8 },
      },
      hooks: {
        setCursor: [function (u) { self.showTip(u); }],
        draw: [function (u) { self.drawMarks(u); }],
      },
    };
    if (this.u) this.u.destroy();
    this.u = new uPlot(opts, this.data(log, even), this.plotEl);
    this.u.root.setAttribute("aria-label", this.spec.title);
    this.plotEl.appendChild(this.tip);
    var down = null;
    this.u.over.addEventListener("mousedown", function (e) { down = [e.clientX, e.clientY]; });
    this.u.over.addEventListener("click", function (e) {
      if (down && (Math.abs(e.clientX - down[0]) > 3 || Math.abs(e.clientY - down[1]) > 3)) return;
      var idx = self.u.cursor.idx;
      if (idx === null || idx === undefined) return;
      var url = safeUrl(self.commits[idx].url);
      if (url) window.open(url, "_blank", "noopener,noreferrer");
    });
    this.u.over.addEventListener("mouseleave", function () { self.tip.hidden = true; });
  };

  /* A dashed line where a detected regression starts (its first slow commit). */
  Chart.prototype.drawMarks = function (u) {
    var marks = this.spec.marks || [];
    if (!marks.length) return;
    var ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = "rgba(180, 35, 24, 0.75)";
    ctx.fillStyle = "rgba(180, 35, 24, 0.9)";
    ctx.lineWidth = Math.max(1, devicePixelRatio);
    ctx.setLineDash([5 * devicePixelRatio, 4 * devicePixelRatio]);
    ctx.font = 11 * devicePixelRatio + "px system-ui, sans-serif";
    ctx.textAlign = "center";
    var top = u.bbox.top;
    var bottom = u.bbox.top + u.bbox.height;
    var self = this;
    var lastLabel = -Infinity;
    marks.forEach(function (commit) {
      var i = self.spec.x.indexOf(commit);
      if (i < 0) return;
      var x = self.xPos(i, true);
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
      ctx.beginPath();
      ctx.moveTo(x, top + 14 * devicePixelRatio);
      ctx.lineTo(x, bottom);
      ctx.stroke();
      if (x - lastLabel > 36 * devicePixelRatio) {
        ctx.fillText("step", x, top + 10 * devicePixelRatio);
        lastLabel = x;
      }
    });
    ctx.restore();
  };

  Chart.prototype.showTip = function (u) {
    var idx = u.cursor.idx;
    var tip = this.tip;
    if (idx === null || idx === undefined || u.cursor.left < 0) {
      tip.hidden = true;
      return;
    }
    var commit = this.commits[idx];
    var unit = this.spec.unit;
    tip.textContent = "";
    tip.appendChild(el("div", "tip-head", "commit " + commit.label));
    tip.appendChild(el("div", "tip-date", dateText(commit.t)));
    var any = false;
    var self = this;
    this.spec.series.forEach(function (s, i) {
      if (self.hidden[i] || s.y[idx] === null) return;
      any = true;
      var row = el("div", "tip-row");
      var dot = el("span", "dot");
      dot.style.background = s.color;
      row.appendChild(dot);
      row.appendChild(el("span", "tip-name", s.name));
      row.appendChild(el("span", "tip-val", fmt(s.y[idx]) + " " + unit));
      if (s.lo[idx] !== null && s.hi[idx] !== null) {
        row.appendChild(el("span", "tip-ci", "[" + fmt(s.lo[idx]) + "–" + fmt(s.hi[idx]) + "]"));
      }
      tip.appendChild(row);
    });
    if (!any) {
      tip.hidden = true;
      return;
    }
    if (safeUrl(commit.url)) tip.appendChild(el("div", "tip-foot", "click to open the commit"));
    tip.hidden = false;
    var over = u.over.getBoundingClientRect();
    var box = this.plotEl.getBoundingClientRect();
    var x = over.left - box.left + u.cursor.left + 16;
    var y = over.top - box.top + Math.max(0, u.cursor.top - 20);
    if (x + tip.offsetWidth > box.width) x = over.left - box.left + u.cursor.left - tip.offsetWidth - 16;
    tip.style.left = Math.max(0, x) + "px";
    tip.style.top = y + "px";
  };

  /* -- start ------------------------------------------------------------------------------- */

  // A bar chart drawn on both axes: the log box (as on the history charts) picks which shows.
  function initBarScales(figure) {
    var box = figure.querySelector("[data-log]");
    if (!box) return;
    function show() {
      figure.querySelectorAll("[data-scale]").forEach(function (chart) {
        chart.hidden = (chart.getAttribute("data-scale") === "log") !== box.checked;
      });
    }
    box.addEventListener("change", show);
    show();
  }

  document.querySelectorAll("[data-tabs]").forEach(initTabs);
  document.querySelectorAll("[data-bar-scales]").forEach(initBarScales);
  document.querySelectorAll("input[data-filter]").forEach(initFilter);

  var source = document.getElementById("page-data");
  if (source && window.uPlot) {
    var page = JSON.parse(source.textContent);
    page.charts.forEach(function (spec, i) {
      var card = document.querySelector('[data-chart="' + i + '"]');
      if (card) card.chart = new Chart(card, spec, page.commits);
    });
  }
  // milliseconds from navigation until every chart is drawn (read by tests and benchmarks)
  document.documentElement.setAttribute("data-ready", String(Math.round(performance.now())));
})();
