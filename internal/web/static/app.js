// nearby map explorer: plain JavaScript, no dependencies, no build step.
//
// The map is a <canvas> in Web Mercator: country outlines from a Natural
// Earth TopoJSON file (decoded below), a density grid from
// GET /v1/index/density, city labels, the search circle and the results of
// GET /v1/search/nearby (or GET /v1/search/box for the map's view).
// Everything it fetches comes from searchd itself.
'use strict';
(() => {
  // The categories, in the order searchd stores them (nearby.CategoryNames;
  // a Go test checks that this list matches).
  const CATEGORIES = ['restaurant', 'cafe', 'bar', 'bakery', 'grocery', 'pharmacy', 'hotel',
    'gym', 'bank', 'hair_salon', 'bookstore', 'florist', 'hardware',
    'pet_store', 'dentist', 'laundry', 'gas_station', 'museum', 'cinema',
    'clothing'];
  const EARTH_RADIUS_M = 6371008.8; // as package geo
  const DEFAULT_RADIUS_M = 5000; // searchd's, for a search without one
  const MAX_LAT = 85.0511287798; // Web Mercator's square world
  const MAX_SCALE = 256 * 2 ** 19; // pixels per world width at street level
  const DENSITY_MAX_CELLS = 4096;
  const DENSITY_CELL_PX = 14;

  const $ = (id) => document.getElementById(id);
  const canvas = $('map');
  const ctx = canvas.getContext('2d');
  const el = {
    form: $('search-form'), lat: $('lat'), lon: $('lon'), radius: $('radius'),
    radiusRange: $('radius-range'), category: $('category'), limit: $('limit'),
    q: $('q'), minRating: $('min-rating'), sort: $('sort'), price: $('price'), openNow: $('open-now'),
    searchView: $('search-view'),
    cityForm: $('city-form'), city: $('city'), cityOptions: $('city-options'),
    error: $('error'), summary: $('summary'), results: $('results'),
    prev: $('prev'), next: $('next'), page: $('page'),
    details: $('details'), mapStatus: $('map-status'),
    showDensity: $('show-density'), densityMax: $('density-max'), densityNote: $('density-note'),
  };
  const numberFormat = new Intl.NumberFormat();

  // ---- Projection: world units are [0, 1] × [0, 1], north-west origin.

  const clampLat = (lat) => Math.max(-MAX_LAT, Math.min(MAX_LAT, lat));
  const mx = (lon) => (lon + 180) / 360;
  const my = (lat) => {
    const s = Math.sin(clampLat(lat) * Math.PI / 180);
    return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
  };
  const lonOf = (x) => x * 360 - 180;
  const latOf = (y) => Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180 / Math.PI;

  const view = { x: 0.5, y: 0.42, s: 0, w: 0, h: 0, dpr: 1 };
  const sx = (wx) => (wx - view.x) * view.s + view.w / 2;
  const sy = (wy) => (wy - view.y) * view.s + view.h / 2;
  const wxOf = (px) => (px - view.w / 2) / view.s + view.x;
  const wyOf = (py) => (py - view.h / 2) / view.s + view.y;
  const minScale = () => Math.max(view.w, view.h);
  // The world repeats east and west, one world (x + 1) apart, so that the
  // view can straddle the antimeridian. near is the copy of world x nearest
  // the view's centre: the one to draw, since the view is at most a world
  // wide. copies are the offsets that bring [x0, x1] into the view.
  const near = (wx) => wx + Math.round(view.x - wx);
  function copies(x0, x1) {
    const out = [];
    for (let k = Math.ceil(wxOf(0) - x1); k <= Math.floor(wxOf(view.w) - x0); k++) out.push(k);
    return out;
  }
  const wrapLon = (lon) => ((lon + 540) % 360) - 180;
  // lonSpan is the width in degrees of a box from west to east, across the
  // antimeridian when east is not east of west.
  const lonSpan = (w, e) => (e > w ? e - w : e - w + 360);

  function clampView() {
    view.s = Math.max(minScale(), Math.min(MAX_SCALE, view.s));
    const hh = view.h / 2 / view.s;
    view.x -= Math.floor(view.x);
    view.y = Math.max(hh, Math.min(1 - hh, view.y));
  }

  // zoomAt scales the view by f keeping the point under (px, py) still.
  function zoomAt(f, px = view.w / 2, py = view.h / 2) {
    const wx = wxOf(px);
    const wy = wyOf(py);
    view.s *= f;
    clampView();
    view.x = wx - (px - view.w / 2) / view.s;
    view.y = wy - (py - view.h / 2) / view.s;
    view.x -= Math.floor(view.x);
    viewChanged();
  }

  // fitCircle centres the view on a search circle, which then fills most of
  // the map's shorter side.
  function fitCircle(lat, lon, radiusM) {
    const rw = radiusM / (2 * Math.PI * EARTH_RADIUS_M * Math.cos(clampLat(lat) * Math.PI / 180));
    view.s = 0.34 * Math.min(view.w, view.h) / rw;
    clampView();
    view.x = mx(lon);
    view.y = my(lat);
    clampView();
    viewChanged();
  }

  function worldView() {
    view.s = minScale();
    view.x = 0.5;
    view.y = my(22);
    clampView();
    viewChanged();
  }

  // ---- TopoJSON: quantized, delta-encoded arcs shared by rings.

  const base = { land: [], coast: [], borders: [] };

  function decodeTopology(topo) {
    const [kx, ky] = topo.transform.scale;
    const [tx, ty] = topo.transform.translate;
    const arcs = topo.arcs.map((arc) => {
      const pts = new Float64Array(arc.length * 2);
      let x = 0;
      let y = 0;
      for (let i = 0; i < arc.length; i++) {
        x += arc[i][0];
        y += arc[i][1];
        pts[2 * i] = mx(x * kx + tx);
        pts[2 * i + 1] = my(y * ky + ty);
      }
      return withBox(unwrap(pts));
    });
    const ring = (ids) => {
      const out = [];
      ids.forEach((id, k) => {
        const a = arcs[id < 0 ? ~id : id].pts;
        const n = a.length / 2;
        for (let j = k === 0 ? 0 : 1; j < n; j++) {
          const i = id < 0 ? n - 1 - j : j;
          out.push(a[2 * i], a[2 * i + 1]);
        }
      });
      return withBox(closeAroundPole(unwrap(Float64Array.from(out))));
    };
    const polygons = (g) => (g.type === 'Polygon' ? [g.arcs] : g.type === 'MultiPolygon' ? g.arcs : []);
    const arcIDs = (g) => polygons(g).flat(2).map((id) => (id < 0 ? ~id : id));

    base.land = topo.objects.land.geometries.flatMap(polygons).flat().map(ring);
    base.coast = [...new Set(topo.objects.land.geometries.flatMap(arcIDs))].map((id) => arcs[id]);
    // A border is an arc shared by two countries.
    const uses = new Map();
    for (const g of topo.objects.countries.geometries) {
      for (const id of new Set(arcIDs(g))) uses.set(id, (uses.get(id) || 0) + 1);
    }
    base.borders = [...uses].filter(([, n]) => n > 1).map(([id]) => arcs[id]);
  }

  // unwrap makes a line continuous across the antimeridian: a step of more
  // than half the world is the same step the short way round, so the line
  // runs on past x = 1 (or before x = 0); tracePaths draws each copy of it
  // the view shows.
  function unwrap(pts) {
    for (let i = 2; i < pts.length; i += 2) {
      const d = pts[i] - pts[i - 2];
      if (Math.abs(d) > 0.5) pts[i] -= Math.round(d);
    }
    return pts;
  }

  // closeAroundPole closes a ring that circles a pole (Antarctica): after
  // unwrap it ends a whole world east or west of its start, so it is closed
  // along the map's top or bottom edge.
  function closeAroundPole(pts) {
    const n = pts.length;
    if (n < 4 || Math.abs(pts[n - 2] - pts[0]) < 0.5) return pts;
    let ySum = 0;
    for (let i = 1; i < n; i += 2) ySum += pts[i];
    const edge = ySum / (n / 2) > 0.5 ? 1.001 : -0.001;
    const out = new Float64Array(n + 4);
    out.set(pts);
    out.set([pts[n - 2], edge, pts[0], edge], n);
    return out;
  }

  function withBox(pts) {
    let x0 = Infinity; let y0 = Infinity; let x1 = -Infinity; let y1 = -Infinity;
    for (let i = 0; i < pts.length; i += 2) {
      x0 = Math.min(x0, pts[i]); x1 = Math.max(x1, pts[i]);
      y0 = Math.min(y0, pts[i + 1]); y1 = Math.max(y1, pts[i + 1]);
    }
    return { pts, x0, y0, x1, y1 };
  }

  // tracePaths adds the visible lines to the current path, dropping points
  // less than half a pixel from the last one kept.
  function tracePaths(lines, closed) {
    const vx0 = wxOf(0); const vx1 = wxOf(view.w);
    const vy0 = wyOf(0); const vy1 = wyOf(view.h);
    const tol = 0.5 / view.s;
    for (const l of lines) {
      if (l.y1 < vy0 || l.y0 > vy1) continue;
      for (const off of copies(l.x0, l.x1)) {
        if (l.x1 + off < vx0 || l.x0 + off > vx1) continue;
        const p = l.pts;
        let lx = p[0]; let ly = p[1];
        ctx.moveTo(sx(lx + off), sy(ly));
        const last = p.length - 2;
        for (let i = 2; i <= last; i += 2) {
          if (i < last && Math.abs(p[i] - lx) < tol && Math.abs(p[i + 1] - ly) < tol) continue;
          lx = p[i]; ly = p[i + 1];
          ctx.lineTo(sx(lx + off), sy(ly));
        }
        if (closed) ctx.closePath();
      }
    }
  }

  // ---- State.

  const state = {
    query: null, // {kind: 'nearby' or 'box', the form's values as sent, …}
    qs: '', // the search's query string, without cursor or total
    total: null, // {n, capped} from the first page
    cursors: [null], // cursors[i] fetched page i
    page: 0,
    next: null,
    results: [],
    offset: 0, // rank of results[0] minus 1
    selected: -1,
    hover: -1,
    seq: 0,
    density: null,
    densityAbort: null,
    cities: [],
    indexVersion: '',
  };

  // ---- Drawing.

  let frame = 0;
  function redraw() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function draw() {
    frame = 0;
    ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
    ctx.fillStyle = '#dce7f2'; // the sea
    ctx.fillRect(0, 0, view.w, view.h);

    ctx.beginPath();
    tracePaths(base.land, true);
    ctx.fillStyle = '#fbfaf6';
    ctx.fill('evenodd');

    drawGraticule();
    if (el.showDensity.checked) drawDensity();

    ctx.lineJoin = 'round';
    ctx.beginPath();
    tracePaths(base.borders, false);
    ctx.strokeStyle = '#bdb6aa';
    ctx.lineWidth = 0.8;
    ctx.stroke();
    ctx.beginPath();
    tracePaths(base.coast, false);
    ctx.strokeStyle = '#93a5b8';
    ctx.lineWidth = 0.9;
    ctx.stroke();

    drawCities();
    drawQuery();
    drawMarkers();
    drawScale();
    if (document.activeElement === canvas) drawCrosshair();
  }

  // drawScale draws a scale bar for the map's centre latitude.
  function drawScale() {
    const mPerPx = (2 * Math.PI * EARTH_RADIUS_M * Math.cos(latOf(view.y) * Math.PI / 180)) / view.s;
    const max = 120 * mPerPx;
    const pow = 10 ** Math.floor(Math.log10(max));
    const m = [5, 2, 1].map((k) => k * pow).find((v) => v <= max);
    const px = m / mPerPx;
    const x1 = view.w - 16;
    const x0 = x1 - px;
    const y = view.h - 36;
    ctx.beginPath();
    ctx.moveTo(x0, y - 5); ctx.lineTo(x0, y); ctx.lineTo(x1, y); ctx.lineTo(x1, y - 5);
    ctx.lineWidth = 4;
    ctx.strokeStyle = 'rgba(255, 255, 255, 0.85)';
    ctx.stroke();
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = '#3d4852';
    ctx.stroke();
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    const label = m >= 1000 ? `${numberFormat.format(m / 1000)} km` : `${m} m`;
    ctx.lineWidth = 3;
    ctx.strokeStyle = 'rgba(255, 255, 255, 0.85)';
    ctx.strokeText(label, (x0 + x1) / 2, y - 3);
    ctx.fillStyle = '#3d4852';
    ctx.fillText(label, (x0 + x1) / 2, y - 3);
    ctx.textAlign = 'start';
  }

  function drawGraticule() {
    const step = view.s < 3000 ? 30 : view.s < 12000 ? 10 : 0;
    if (!step) return;
    ctx.beginPath();
    // Longitudes past ±180° are those of the world's next copy.
    for (let lon = Math.ceil(lonOf(wxOf(0)) / step) * step; lon <= lonOf(wxOf(view.w)); lon += step) {
      ctx.moveTo(sx(mx(lon)), sy(0));
      ctx.lineTo(sx(mx(lon)), sy(1));
    }
    for (let lat = -80; lat <= 80; lat += step) {
      ctx.moveTo(0, sy(my(lat)));
      ctx.lineTo(view.w, sy(my(lat)));
    }
    ctx.strokeStyle = 'rgba(80, 110, 140, 0.12)';
    ctx.lineWidth = 1;
    ctx.stroke();
  }

  // Density colours: light yellow to dark red on a log scale.
  const RAMP = [[255, 224, 130, 0.3], [253, 160, 70, 0.45], [232, 60, 40, 0.6], [128, 0, 38, 0.75]];
  function rampColor(t) {
    const f = Math.max(0, Math.min(1, t)) * (RAMP.length - 1);
    const i = Math.min(RAMP.length - 2, Math.floor(f));
    const u = f - i;
    const c = RAMP[i].map((v, k) => v + (RAMP[i + 1][k] - v) * u);
    return `rgba(${c[0] | 0}, ${c[1] | 0}, ${c[2] | 0}, ${c[3].toFixed(3)})`;
  }

  function drawDensity() {
    const d = state.density;
    if (!d || d.max === 0) return;
    // A grid across the antimeridian runs east past 180°.
    const width = lonSpan(d.min_lon, d.max_lon);
    const logMax = Math.log1p(d.max);
    for (const off of copies(mx(d.min_lon), mx(d.min_lon + width))) {
      for (let r = 0; r < d.rows; r++) {
        const lat0 = d.max_lat - (r * (d.max_lat - d.min_lat)) / d.rows;
        const lat1 = d.max_lat - ((r + 1) * (d.max_lat - d.min_lat)) / d.rows;
        const y0 = sy(my(lat0));
        const y1 = sy(my(lat1));
        for (let c = 0; c < d.cols; c++) {
          const n = d.counts[r * d.cols + c];
          if (!n) continue;
          const x0 = sx(mx(d.min_lon + (c * width) / d.cols) + off);
          const x1 = sx(mx(d.min_lon + ((c + 1) * width) / d.cols) + off);
          ctx.fillStyle = rampColor(d.max === 1 ? 1 : Math.log1p(n) / logMax);
          ctx.fillRect(x0, y0, x1 - x0 + 0.5, y1 - y0 + 0.5);
        }
      }
    }
  }

  function drawCities() {
    const shown = Math.max(8, Math.min(state.cities.length, Math.round(view.s / 110)));
    const boxes = [];
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    for (const c of state.cities.slice(0, shown)) {
      const x = sx(near(mx(c.lon)));
      const y = sy(my(c.lat));
      if (x < -50 || y < -20 || x > view.w + 50 || y > view.h + 20) continue;
      const tw = ctx.measureText(c.name).width;
      const b = { x0: x - 3, y0: y - 8, x1: x + 7 + tw, y1: y + 8 };
      if (boxes.some((o) => b.x0 < o.x1 && b.x1 > o.x0 && b.y0 < o.y1 && b.y1 > o.y0)) continue;
      boxes.push(b);
      ctx.beginPath();
      ctx.arc(x, y, 2.5, 0, 2 * Math.PI);
      ctx.fillStyle = '#3d4852';
      ctx.fill();
      ctx.lineWidth = 3;
      ctx.strokeStyle = 'rgba(255, 255, 255, 0.85)';
      ctx.strokeText(c.name, x + 6, y);
      ctx.fillStyle = '#3d4852';
      ctx.fillText(c.name, x + 6, y);
    }
  }

  // destination is the point radiusM metres from lat, lon on a bearing.
  function destination(lat, lon, radiusM, bearing) {
    const d = radiusM / EARTH_RADIUS_M;
    const p1 = lat * Math.PI / 180;
    const l1 = lon * Math.PI / 180;
    const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(bearing));
    const l2 = l1 + Math.atan2(Math.sin(bearing) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
    return [p2 * 180 / Math.PI, l2 * 180 / Math.PI];
  }

  function drawQuery() {
    const q = state.query;
    if (q && q.kind === 'box') {
      drawBox(q.box);
      return;
    }
    if (!q || !Number.isFinite(q.latN) || !Number.isFinite(q.lonN)) return;
    const shift = near(mx(q.lonN)) - mx(q.lonN); // to the world copy in view
    if (Number.isFinite(q.radiusN) && q.radiusN > 0 && q.radiusN <= 50000) {
      ctx.beginPath();
      for (let i = 0; i <= 128; i++) {
        let [lat, lon] = destination(q.latN, q.lonN, q.radiusN, (i / 128) * 2 * Math.PI);
        // Keep the ring continuous across the antimeridian.
        if (lon - q.lonN > 180) lon -= 360;
        if (q.lonN - lon > 180) lon += 360;
        const x = sx(mx(lon) + shift);
        const y = sy(my(lat));
        if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      }
      ctx.fillStyle = 'rgba(37, 99, 235, 0.08)';
      ctx.fill();
      ctx.setLineDash([6, 4]);
      ctx.strokeStyle = 'rgba(37, 99, 235, 0.9)';
      ctx.lineWidth = 1.5;
      ctx.stroke();
      ctx.setLineDash([]);
    }
    const x = sx(mx(q.lonN) + shift);
    const y = sy(my(q.latN));
    ctx.beginPath();
    ctx.arc(x, y, 5, 0, 2 * Math.PI);
    ctx.fillStyle = '#1f2933';
    ctx.fill();
    ctx.lineWidth = 2;
    ctx.strokeStyle = '#fff';
    ctx.stroke();
  }

  // drawBox outlines a box search's rectangle (straight lines in Web
  // Mercator), continuing east past 180° for a box across the antimeridian.
  function drawBox(b) {
    const [s, w, n, e] = [b.min_lat, b.min_lon, b.max_lat, b.max_lon].map(Number);
    if (![s, w, n, e].every(Number.isFinite)) return;
    const shift = Math.round(view.x - mx(w + lonSpan(w, e) / 2)); // to the world copy in view
    const x0 = sx(mx(w) + shift);
    const x1 = sx(mx(w + lonSpan(w, e)) + shift);
    const y0 = sy(my(n));
    const y1 = sy(my(s));
    ctx.beginPath();
    ctx.rect(x0, y0, x1 - x0, y1 - y0);
    ctx.fillStyle = 'rgba(37, 99, 235, 0.05)';
    ctx.fill();
    ctx.setLineDash([6, 4]);
    ctx.strokeStyle = 'rgba(37, 99, 235, 0.9)';
    ctx.lineWidth = 1.5;
    ctx.stroke();
    ctx.setLineDash([]);
  }

  // markerXY is where a result is drawn: in the world copy in view, so
  // that results across the antimeridian from the search are beside it.
  function markerXY(r) {
    return [sx(near(mx(r.lon))), sy(my(r.lat))];
  }

  // drawMarkers draws the results, numbered as in the list; markers too
  // close to another to hold a number are drawn as dots until zoomed in,
  // hovered or selected.
  function drawMarkers() {
    const rs = state.results;
    const pos = rs.map(markerXY);
    const crowded = pos.map(([x, y], i) => pos.some(([x2, y2], j) => j !== i && Math.hypot(x - x2, y - y2) < 18));
    const order = rs.map((_, i) => i).reverse(); // the nearest on top
    for (const i of [...order.filter((i) => i !== state.selected && i !== state.hover), state.hover, state.selected]) {
      if (i < 0 || i >= rs.length) continue;
      const [x, y] = pos[i];
      const big = i === state.selected || i === state.hover;
      const dot = crowded[i] && !big;
      ctx.beginPath();
      ctx.arc(x, y, big ? 11 : dot ? 5 : 9, 0, 2 * Math.PI);
      ctx.fillStyle = i === state.selected ? '#dc2626' : '#2563eb';
      ctx.fill();
      ctx.lineWidth = dot ? 1.5 : 2;
      ctx.strokeStyle = '#fff';
      ctx.stroke();
      if (dot) continue;
      ctx.fillStyle = '#fff';
      ctx.font = `700 ${big ? 11 : 10}px system-ui, sans-serif`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(String(state.offset + i + 1), x, y + 0.5);
      ctx.textAlign = 'start';
    }
  }

  function drawCrosshair() {
    const x = view.w / 2;
    const y = view.h / 2;
    ctx.beginPath();
    ctx.moveTo(x - 10, y); ctx.lineTo(x + 10, y);
    ctx.moveTo(x, y - 10); ctx.lineTo(x, y + 10);
    ctx.strokeStyle = '#1f2933';
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }

  // ---- Talking to searchd.

  class APIError extends Error {
    constructor(status, problem, message, retryAfter = '') {
      super(message);
      this.status = status;
      this.problem = problem;
      this.retryAfter = retryAfter; // a Retry-After in seconds, or ''
    }
  }

  // api GETs a JSON document; a non-2xx answer throws an APIError that
  // carries the problem document searchd sent.
  async function api(path, signal) {
    let resp;
    try {
      resp = await fetch(path, { signal, headers: { Accept: 'application/json' } });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new APIError(0, null, `Could not reach searchd (${e.message}).`);
    }
    let body = null;
    try {
      body = await resp.json();
    } catch (e) {
      if (e.name === 'AbortError') throw e;
    }
    if (!resp.ok) {
      const problem = body && typeof body.detail === 'string' ? body : null;
      const retry = /^\d+$/.test(resp.headers.get('Retry-After') || '') ? resp.headers.get('Retry-After') : '';
      throw new APIError(resp.status, problem, problem ? problem.detail : `${resp.status} ${resp.statusText}`, retry);
    }
    if (body === null) throw new APIError(resp.status, null, 'searchd sent an answer that is not JSON.');
    return body;
  }

  const STATUS_WORDS = {
    0: 'searchd could not be reached',
    400: 'searchd refused the request',
    404: 'Not found',
    409: 'The index changed',
    414: 'The request is too long',
    429: 'Too many requests',
    503: 'searchd is not ready',
  };

  // showError tells the person what went wrong, in words: what was being
  // done, searchd's explanation and each refused parameter with its reason.
  function showError(what, err) {
    if (err && err.name === 'AbortError') return;
    const box = el.error;
    box.replaceChildren();
    const head = document.createElement('strong');
    const status = err instanceof APIError ? err.status : -1;
    head.textContent = `${what}: ${STATUS_WORDS[status] || (status > 0 ? `error ${status}` : 'unexpected error')}.`;
    box.append(head);
    const p = document.createElement('span');
    p.className = 'detail';
    p.textContent = err && err.message ? ` ${err.message}` : '';
    // searchd's own problem documents say when to retry; an answer from
    // elsewhere (a proxy) may say it only in its Retry-After header.
    if (status === 429 && err.retryAfter && !err.problem) p.textContent += ` Try again in ${err.retryAfter} s.`;
    if (status === 409) p.textContent += ' Showing the first page of the new index.';
    box.append(p);
    const params = (err && err.problem && err.problem.invalid_params) || [];
    if (params.length) {
      const ul = document.createElement('ul');
      for (const ip of params) {
        const li = document.createElement('li');
        const code = document.createElement('code');
        code.textContent = ip.name;
        li.append(code, `: ${ip.reason}`);
        ul.append(li);
        const input = el.form.elements.namedItem(ip.name);
        if (input && input.setAttribute) input.setAttribute('aria-invalid', 'true');
      }
      box.append(ul);
    }
    if (err && err.problem && err.problem.request_id) {
      const rid = document.createElement('small');
      rid.textContent = ` (request ${err.problem.request_id})`;
      box.append(rid);
    }
    box.hidden = false;
  }

  function clearError() {
    el.error.hidden = true;
    el.error.replaceChildren();
    for (const input of el.form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  }

  // ---- Index stats.

  let statsTimer = 0;
  let statsSeq = 0;
  // loadStats shows the index being served and polls it again later. Only
  // the latest call's answer is shown and sets the next poll: searches that
  // see a new index version call it, perhaps several at once, and each
  // would otherwise start a polling loop of its own.
  async function loadStats() {
    clearTimeout(statsTimer);
    const seq = ++statsSeq;
    try {
      const st = await api('v1/index');
      if (seq !== statsSeq) return;
      state.indexVersion = st.index_version;
      const v = $('stat-version');
      v.textContent = st.index_version;
      v.dataset.value = st.index_version;
      const b = $('stat-businesses');
      b.textContent = numberFormat.format(st.businesses);
      b.dataset.value = String(st.businesses);
      const r = $('stat-regions');
      const label = (x) => `${x.name} (${numberFormat.format(x.businesses)})`;
      const names = st.regions.map(label);
      const remote = st.remote_regions || [];
      r.textContent = (st.regions.length === 1 ? names[0] : `${st.regions.length}: ${st.regions.map((x) => x.name).join(', ')}`) +
        (remote.length ? ` + ${remote.length} on other nodes` : '');
      r.title = names.join('\n') + (remote.length ? `\non other nodes:\n${remote.map(label).join('\n')}` : '');
      r.dataset.value = String(st.regions.length);
      if (el.mapStatus.dataset.kind === 'index') setMapStatus('', '');
      statsTimer = setTimeout(loadStats, 15000);
    } catch (e) {
      if (seq !== statsSeq) return;
      if (e.status === 503) {
        $('stat-version').textContent = 'loading…';
        setMapStatus('index', 'searchd is loading its index…');
        statsTimer = setTimeout(loadStats, 1000);
        return;
      }
      $('stat-version').textContent = 'unavailable';
      setMapStatus('index', `Index information unavailable: ${e.message}`);
      statsTimer = setTimeout(loadStats, 5000);
    }
  }

  function setMapStatus(kind, text) {
    el.mapStatus.dataset.kind = kind;
    el.mapStatus.textContent = text;
  }

  // ---- Density.

  let densityTimer = 0;
  function scheduleDensity() {
    clearTimeout(densityTimer);
    densityTimer = setTimeout(loadDensity, 180);
  }

  // visible is the part of the world the map shows, in world units (x
  // may run past an edge of the world into the next copy).
  function visible() {
    return {
      x0: wxOf(0), x1: wxOf(view.w),
      y0: Math.max(0, wyOf(0)), y1: Math.min(1, wyOf(view.h)),
    };
  }

  // boxOf is a visible rectangle in degrees, as the density and box
  // searches take it: the whole world's longitudes when it is a world wide,
  // else its edges in [-180, 180], west after east for a view across the
  // antimeridian.
  function boxOf({ x0, x1, y0, y1 }) {
    let w = -180;
    let e = 180;
    if (x1 - x0 < 1 - 1e-8) {
      w = lonOf(x0 - Math.floor(x0));
      e = lonOf(x1 - Math.ceil(x1) + 1);
    }
    return {
      min_lat: round(latOf(y1), 6), min_lon: round(w, 6),
      max_lat: round(latOf(y0), 6), max_lon: round(e, 6),
    };
  }

  async function loadDensity() {
    if (state.densityAbort) state.densityAbort.abort();
    if (!el.showDensity.checked || !view.s) return;
    const v = visible();
    const { x0, x1, y0, y1 } = v;
    const pw = (x1 - x0) * view.s;
    const ph = (y1 - y0) * view.s;
    let cell = Math.max(DENSITY_CELL_PX, Math.ceil(Math.sqrt((pw * ph) / DENSITY_MAX_CELLS)));
    let cols; let rows;
    for (;;) {
      cols = Math.max(1, Math.ceil(pw / cell));
      rows = Math.max(1, Math.ceil(ph / cell));
      if (cols * rows <= DENSITY_MAX_CELLS) break;
      cell++;
    }
    const qs = new URLSearchParams({ ...boxOf(v), cols, rows });
    if (el.category.value) qs.set('category', el.category.value);
    const abort = new AbortController();
    state.densityAbort = abort;
    try {
      const d = await api(`v1/index/density?${qs}`, abort.signal);
      state.density = d;
      el.densityMax.textContent = numberFormat.format(d.max);
      const midLat = (d.min_lat + d.max_lat) / 2;
      const cellKm = (lonSpan(d.min_lon, d.max_lon) / d.cols) * 111.32 * Math.cos(midLat * Math.PI / 180);
      const what = el.category.value ? el.category.value.replace('_', ' ') + ' businesses' : 'businesses';
      let note = `${numberFormat.format(d.total)} ${what} in view; cells about ${formatKm(cellKm)} wide.`;
      if (d.partial) note += ` Partial: regions ${d.missing_regions.join(', ')} could not be asked.`;
      el.densityNote.textContent = note;
      redraw();
    } catch (e) {
      if (e.name === 'AbortError') return;
      state.density = null;
      el.densityNote.textContent = `Density unavailable: ${e.message}`;
      redraw();
    }
  }

  function formatKm(km) {
    if (km < 1) return `${Math.round(km * 1000)} m`;
    return `${km < 10 ? km.toFixed(1) : numberFormat.format(Math.round(km))} km`;
  }

  // ---- Search.

  const round = (v, digits) => Number(v.toFixed(digits));

  function formatDistance(m) {
    if (m < 1000) return `${Math.round(m)} m`;
    return `${(m / 1000).toFixed(m < 10000 ? 2 : 1)} km`;
  }

  function formatPoint(lat, lon) {
    return `${lat.toFixed(5)}°, ${lon.toFixed(5)}°`;
  }

  const categoryLabel = (c) => c.replace('_', ' ');

  // filters reads the form's filters, sent as set so that searchd, not the
  // page, judges them.
  function filters() {
    return {
      limit: el.limit.value, category: el.category.value, name: el.q.value.trim(),
      price: [...el.price.querySelectorAll('input:checked')].map((i) => i.value).join(','),
      minRating: el.minRating.value, openNow: el.openNow.checked, sort: el.sort.value,
    };
  }

  // addFilters adds a search's filters to its query string, in the order
  // the API lists them.
  function addFilters(qs, q) {
    if (q.category) qs.set('category', q.category);
    if (q.price) qs.set('price', q.price);
    if (q.minRating) qs.set('min_rating', q.minRating);
    if (q.openNow) qs.set('open_now', 'true');
    if (q.name) qs.set('q', q.name);
  }

  // search runs a new nearby search from the form's values, sent as typed
  // so that searchd, not the page, judges them.
  function search() {
    const q = {
      kind: 'nearby', lat: el.lat.value.trim(), lon: el.lon.value.trim(), radius: el.radius.value.trim(),
      ...filters(),
    };
    const qs = new URLSearchParams({ lat: q.lat, lon: q.lon, radius: q.radius, limit: q.limit });
    addFilters(qs, q);
    if (q.sort === 'rating') qs.set('sort', 'rating');
    q.latN = Number(q.lat);
    q.lonN = Number(q.lon);
    // searchd searches an empty radius as its default: say and draw that.
    q.radiusN = q.radius === '' ? DEFAULT_RADIUS_M : Number(q.radius);
    return start(q, qs);
  }

  // searchBox runs a new box search over box (degrees) with the form's
  // filters, nearest the box's centre first: box searches have no rating
  // order.
  function searchBox(box) {
    const q = { kind: 'box', box, ...filters() };
    const qs = new URLSearchParams({ ...box, limit: q.limit });
    addFilters(qs, q);
    qs.set('order', 'distance');
    return start(q, qs);
  }

  // rerun repeats the last search, nearby or box, with the form's values.
  function rerun() {
    if (!state.query) return;
    if (state.query.kind === 'box') searchBox(state.query.box); else search();
  }

  function start(q, qs) {
    clearError();
    clearTimeout(nameTimer);
    state.query = q;
    state.qs = qs.toString();
    state.total = null;
    state.cursors = [null];
    state.page = 0;
    history.replaceState(null, '', `#${state.qs}`);
    redraw();
    return fetchPage();
  }

  // fetchPage fetches the current page. pager is the pager button that
  // asked for it with the keyboard's focus: disabled while the page loads,
  // it loses the focus, which is given back (to the other button on the
  // last page or the first) rather than left at the top of the document.
  async function fetchPage(pager = [el.next, el.prev].find((b) => b === document.activeElement)) {
    const seq = ++state.seq;
    const cursor = state.cursors[state.page];
    const path = state.query.kind === 'box' ? 'v1/search/box' : 'v1/search/nearby';
    // A nearby search counts its matches on its first page only: the count
    // is the same on every page and costs a walk over them. Box searches
    // always count.
    let qs = state.qs;
    if (cursor) qs += `&cursor=${encodeURIComponent(cursor)}`;
    else if (state.query.kind === 'nearby') qs += '&total=true';
    el.results.dataset.state = 'loading';
    el.results.setAttribute('aria-busy', 'true');
    el.next.disabled = true;
    el.prev.disabled = true;
    try {
      const ans = await api(`${path}?${qs}`);
      if (seq !== state.seq) return;
      state.results = ans.results;
      state.offset = state.page * Number(state.query.limit);
      state.next = ans.next_cursor;
      if (typeof ans.total === 'number') state.total = { n: ans.total, capped: ans.total_capped };
      state.selected = -1;
      state.hover = -1;
      el.details.hidden = true;
      renderResults(ans);
      if (ans.index_version !== state.indexVersion) loadStats();
    } catch (e) {
      if (seq !== state.seq) return;
      if (e instanceof APIError && e.status === 409 && cursor) {
        // The index changed since the cursor was issued: the pages seen
        // are of the old one. Run the same search again from its first
        // page (which has no cursor, so this cannot repeat) and say why.
        state.cursors = [null];
        state.page = 0;
        state.total = null;
        showError('Search', e);
        fetchPage(pager);
        return;
      }
      state.results = [];
      state.next = null;
      el.details.hidden = true;
      el.results.replaceChildren();
      el.results.dataset.state = 'error';
      el.summary.textContent = 'The search failed; see the message above.';
      delete el.summary.dataset.total;
      el.page.textContent = '';
      showError('Search', e);
    } finally {
      if (seq === state.seq) {
        el.results.removeAttribute('aria-busy');
        el.next.disabled = !state.next;
        el.prev.disabled = state.page === 0;
        if (pager && document.activeElement === document.body) {
          const to = [pager, el.next, el.prev].find((b) => !b.disabled);
          if (to) to.focus();
        }
      }
      redraw();
    }
  }

  // spoken is a span showing text that screen readers read as words.
  function spoken(className, text, words) {
    const s = document.createElement('span');
    s.className = className;
    const shown = document.createElement('span');
    shown.setAttribute('aria-hidden', 'true');
    shown.textContent = text;
    const said = document.createElement('span');
    said.className = 'sr';
    said.textContent = words;
    s.append(shown, said);
    return s;
  }

  const formatPrice = (p) => '$'.repeat(p);
  const formatRating = (r) => `★ ${r.toFixed(1)}`;
  const reviews = (n) => `${numberFormat.format(n)} review${n === 1 ? '' : 's'}`;

  function renderResults(ans) {
    const list = el.results;
    list.replaceChildren();
    list.start = state.offset + 1;
    ans.results.forEach((r, i) => {
      const li = document.createElement('li');
      li.dataset.id = r.id;
      li.dataset.distanceM = String(r.distance_m);
      li.dataset.price = r.price == null ? '' : String(r.price);
      li.dataset.rating = r.rating == null ? '' : String(r.rating);
      li.dataset.reviewCount = String(r.review_count);
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'result';
      const rank = document.createElement('span');
      rank.className = 'rank';
      rank.textContent = String(state.offset + i + 1);
      rank.setAttribute('aria-hidden', 'true');
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = r.name;
      const dist = document.createElement('span');
      dist.className = 'dist';
      dist.textContent = formatDistance(r.distance_m);
      const sub = document.createElement('span');
      sub.className = 'sub';
      const cat = document.createElement('span');
      cat.className = 'cat';
      cat.dataset.category = r.category;
      cat.textContent = categoryLabel(r.category);
      sub.append(cat);
      if (r.price != null) sub.append(spoken('price', formatPrice(r.price), `, price level ${r.price} of 4`));
      const stars = r.rating == null
        ? spoken('stars', 'unrated', ', not rated')
        : spoken('stars', `${formatRating(r.rating)} (${numberFormat.format(r.review_count)})`,
          `, rated ${r.rating} of 5 from ${reviews(r.review_count)}`);
      stars.dataset.rated = String(r.rating != null);
      sub.append(stars);
      b.append(rank, name, dist, sub);
      b.addEventListener('click', () => select(i, true));
      b.addEventListener('mouseenter', () => { state.hover = i; redraw(); });
      b.addEventListener('mouseleave', () => { state.hover = -1; redraw(); });
      b.addEventListener('focus', () => { state.hover = i; redraw(); });
      b.addEventListener('blur', () => { state.hover = -1; redraw(); });
      li.append(b);
      list.append(li);
    });
    const q = state.query;
    list.dataset.endpoint = q.kind;
    list.dataset.query = state.qs;
    list.dataset.cursor = state.cursors[state.page] || '';
    list.dataset.indexVersion = ans.index_version;
    list.dataset.state = 'done';
    let within = 'in the map view';
    if (q.kind === 'nearby') {
      const where = Number.isFinite(q.latN) ? ` of ${formatPoint(q.latN, q.lonN)}` : '';
      within = `within ${formatDistance(q.radiusN)}${where}`;
    }
    let order = q.sort === 'rating' ? 'best rated first' : 'nearest first';
    if (q.kind === 'box') order = `nearest its centre first${q.sort === 'rating' ? ' (a view cannot be ordered by rating)' : ''}`;
    const what = q.category ? `${categoryLabel(q.category)} ` : '';
    const n = ans.results.length;
    const shown = state.page || ans.next_cursor ? `showing ${state.offset + 1}–${state.offset + n}, ` : '';
    const t = state.total;
    let text;
    if (t && t.n === 0) {
      text = `No ${what}matches ${within}.`;
    } else if (t) {
      const count = `${t.capped ? 'At least ' : ''}${numberFormat.format(t.n)}`;
      text = `${count} ${what}match${t.n === 1 ? '' : 'es'} ${within}; ${n ? `${shown}${order}` : 'no more results'}.`;
    } else if (!n) {
      text = state.page ? `No more ${what}results ${within}.` : `No ${what}businesses ${within}.`;
    } else {
      text = `${state.page ? `Results ${state.offset + 1}–${state.offset + n}` : `${n} ${what}result${n === 1 ? '' : 's'}`} ${within}, ${order}.`;
    }
    if (ans.partial) text += ` Partial answer: regions ${ans.missing_regions.join(', ')} could not be asked.`;
    el.summary.textContent = text;
    if (t) {
      el.summary.dataset.total = String(t.n);
      el.summary.dataset.totalCapped = String(t.capped);
    } else {
      delete el.summary.dataset.total;
      delete el.summary.dataset.totalCapped;
    }
    el.page.textContent = state.page || ans.next_cursor ? `Page ${state.page + 1}` : '';
  }

  // detailsSeq numbers the details asked for: only the latest answer is
  // shown, whatever order the answers come in.
  let detailsSeq = 0;

  // select shows result i's details. Picked from the list, the details
  // take the focus (Escape closes them and gives it back), unless the
  // person moved it elsewhere while they loaded.
  async function select(i, fromList = false) {
    const r = state.results[i];
    if (!r) return;
    const seq = ++detailsSeq;
    const from = state.query.kind === 'box' ? 'the view’s centre' : 'the search point';
    state.selected = i;
    for (const b of el.results.querySelectorAll('.result')) b.removeAttribute('aria-current');
    const button = el.results.children[i].querySelector('button');
    button.setAttribute('aria-current', 'true');
    const [x, y] = markerXY(r);
    if (x < 0 || y < 0 || x > view.w || y > view.h) {
      view.x = mx(r.lon);
      view.y = my(r.lat);
      clampView();
      viewChanged();
    }
    redraw();
    try {
      const b = await api(`v1/businesses/${encodeURIComponent(r.id)}`);
      if (seq !== detailsSeq || state.results[i] !== r) return;
      $('details-name').textContent = b.name;
      $('details-category').textContent = categoryLabel(b.category);
      $('details-price').textContent = b.price == null ? 'not set' : `${formatPrice(b.price)} (level ${b.price} of 4)`;
      $('details-rating').textContent = b.rating == null ? 'not rated' : `${formatRating(b.rating)} from ${reviews(b.review_count)}`;
      $('details-distance').textContent = `${formatDistance(r.distance_m)} from ${from}`;
      $('details-location').textContent = formatPoint(b.lat, b.lon);
      $('details-id').textContent = b.id;
      showHours(b.hours);
      $('details-link').href = `v1/businesses/${encodeURIComponent(b.id)}`;
      el.details.dataset.id = b.id;
      el.details.hidden = false;
      if (fromList && document.activeElement === button) el.details.focus();
    } catch (e) {
      // Nor is an error about a business of results since replaced.
      if (seq !== detailsSeq || state.results[i] !== r) return;
      // The panel may show the business picked before: not this one.
      el.details.hidden = true;
      showError('Business details', e);
    }
  }

  const WEEK = [['mon', 'Monday'], ['tue', 'Tuesday'], ['wed', 'Wednesday'], ['thu', 'Thursday'],
    ['fri', 'Friday'], ['sat', 'Saturday'], ['sun', 'Sunday']];

  // showHours lists a business's weekly hours, local wall times in its own
  // time zone as searchd gives them (a close at or before the open is the
  // next day's), today's row marked.
  function showHours(h) {
    const table = $('details-hours');
    const body = table.tBodies[0];
    body.replaceChildren();
    table.hidden = !h;
    $('details-no-hours').hidden = !!h;
    $('details-zone').textContent = h ? `(${h.time_zone} time)` : '';
    if (!h) return;
    const today = weekdayIn(h.time_zone);
    for (const [key, day] of WEEK) {
      const tr = document.createElement('tr');
      tr.dataset.day = key;
      if (key === today) tr.setAttribute('aria-current', 'date');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = day;
      const td = document.createElement('td');
      const spans = h.weekly[key] || [];
      td.textContent = spans.length ? spans.map(([open, close]) => `${open}–${close}`).join(', ') : 'Closed';
      tr.append(th, td);
      body.append(tr);
    }
  }

  // weekdayIn is today's weekday, 'mon' to 'sun', in an IANA time zone, or
  // '' for a zone the browser does not know.
  function weekdayIn(zone) {
    try {
      const f = new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short' });
      return f.format(new Date()).slice(0, 3).toLowerCase();
    } catch {
      return '';
    }
  }

  // searchAt runs a search at a point from the map or a city.
  function searchAt(lat, lon) {
    el.lat.value = String(round(lat, 5));
    el.lon.value = String(round(wrapLon(lon), 5));
    return search();
  }

  // ---- Cities.

  const cityChoices = new Map(); // datalist value → city
  let cityTimer = 0;
  let cityAbort = null;

  function cityLabel(c, taken) {
    const label = `${c.name}, ${c.country}`;
    return taken.has(label) ? `${label} (${c.lat.toFixed(2)}, ${c.lon.toFixed(2)})` : label;
  }

  async function suggestCities() {
    if (cityAbort) cityAbort.abort();
    const q = el.city.value.trim();
    if (!q || cityChoices.has(q)) return;
    cityAbort = new AbortController();
    try {
      const ans = await api(`v1/cities?${new URLSearchParams({ q, limit: 10 })}`, cityAbort.signal);
      el.cityOptions.replaceChildren();
      cityChoices.clear();
      for (const c of ans.cities) {
        const label = cityLabel(c, cityChoices);
        cityChoices.set(label, c);
        const o = document.createElement('option');
        o.value = label;
        o.textContent = `population ${numberFormat.format(c.population)}`;
        el.cityOptions.append(o);
      }
    } catch (e) {
      if (e.name !== 'AbortError') showError('City list', e);
    }
  }

  // cityGo numbers the city lookups: a lookup answered after a newer one,
  // or after a search the person started meanwhile, is dropped.
  let cityGo = 0;

  async function goToCity() {
    clearError();
    const go = ++cityGo;
    const seq = state.seq;
    const stale = () => go !== cityGo || seq !== state.seq;
    const text = el.city.value.trim();
    if (!text) {
      el.city.focus();
      return;
    }
    let c = cityChoices.get(text);
    if (!c) {
      // Not a suggestion: take the most populous match, honouring a
      // trailing ", CC" country code.
      const m = /^(.*?),\s*([A-Za-z]{2})$/.exec(text);
      const q = m ? m[1] : text;
      try {
        const ans = await api(`v1/cities?${new URLSearchParams({ q, limit: 100 })}`);
        if (stale()) return;
        c = ans.cities.find((x) => !m || x.country.toUpperCase() === m[2].toUpperCase());
      } catch (e) {
        if (!stale()) showError('City lookup', e);
        return;
      }
      if (!c) {
        showError('City lookup', new APIError(404, null, `No city called “${text}” among the 5,000 most populous.`));
        return;
      }
    }
    setMapStatus('city', `${c.name}, ${c.country} · population ${numberFormat.format(c.population)}`);
    const radius = Number(el.radius.value);
    fitCircle(c.lat, c.lon, radius > 0 && radius <= 50000 ? radius : DEFAULT_RADIUS_M);
    await searchAt(c.lat, c.lon);
  }

  // ---- Map interaction.

  let pointer = null; // the pointer pressed on the map

  canvas.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    canvas.setPointerCapture(e.pointerId);
    pointer = { id: e.pointerId, x: e.offsetX, y: e.offsetY, vx: view.x, vy: view.y, dragged: false };
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!pointer || e.pointerId !== pointer.id) return;
    const dx = e.offsetX - pointer.x;
    const dy = e.offsetY - pointer.y;
    if (!pointer.dragged && Math.hypot(dx, dy) < 4) return;
    pointer.dragged = true;
    canvas.classList.add('dragging');
    view.x = pointer.vx - dx / view.s;
    view.y = pointer.vy - dy / view.s;
    clampView();
    viewChanged();
  });
  canvas.addEventListener('pointerup', (e) => {
    if (!pointer || e.pointerId !== pointer.id) return;
    const p = pointer;
    pointer = null;
    canvas.classList.remove('dragging');
    if (p.dragged) return;
    const hit = markerAt(e.offsetX, e.offsetY);
    if (hit >= 0) {
      select(hit);
      return;
    }
    setMapStatus('', '');
    searchAt(latOf(wyOf(e.offsetY)), lonOf(wxOf(e.offsetX)));
  });
  canvas.addEventListener('pointercancel', () => {
    pointer = null;
    canvas.classList.remove('dragging');
  });
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    zoomAt(Math.exp(-dy * 0.002), e.offsetX, e.offsetY);
  }, { passive: false });
  canvas.addEventListener('keydown', (e) => {
    const pan = 100 / view.s;
    switch (e.key) {
      case 'ArrowLeft': view.x -= pan; break;
      case 'ArrowRight': view.x += pan; break;
      case 'ArrowUp': view.y -= pan; break;
      case 'ArrowDown': view.y += pan; break;
      case '+': case '=': zoomAt(2); e.preventDefault(); return;
      case '-': case '_': zoomAt(0.5); e.preventDefault(); return;
      case '0': worldView(); e.preventDefault(); return;
      case 'Enter': case ' ':
        e.preventDefault();
        searchAt(latOf(view.y), lonOf(view.x));
        return;
      default: return;
    }
    e.preventDefault();
    clampView();
    viewChanged();
  });
  canvas.addEventListener('focus', redraw);
  canvas.addEventListener('blur', redraw);
  canvas.addEventListener('mousemove', (e) => {
    canvas.title = `${formatPoint(latOf(wyOf(e.offsetY)), wrapLon(lonOf(wxOf(e.offsetX))))} · click to search here`;
    const hit = markerAt(e.offsetX, e.offsetY);
    if (hit !== state.hover) {
      state.hover = hit;
      canvas.style.cursor = hit >= 0 ? 'pointer' : '';
      redraw();
    }
  });

  function markerAt(px, py) {
    for (let i = 0; i < state.results.length; i++) {
      const [x, y] = markerXY(state.results[i]);
      if (Math.hypot(x - px, y - py) <= 10) return i;
    }
    return -1;
  }

  $('zoom-in').addEventListener('click', () => zoomAt(2));
  $('zoom-out').addEventListener('click', () => zoomAt(0.5));
  $('zoom-world').addEventListener('click', worldView);

  function viewChanged() {
    redraw();
    scheduleDensity();
  }

  function resize() {
    const r = canvas.getBoundingClientRect();
    view.dpr = window.devicePixelRatio || 1;
    const first = !view.w;
    view.w = Math.max(1, r.width);
    view.h = Math.max(1, r.height);
    canvas.width = Math.round(view.w * view.dpr);
    canvas.height = Math.round(view.h * view.dpr);
    if (first) {
      worldView();
    } else {
      clampView();
      viewChanged();
    }
  }

  // ---- Form wiring.

  for (const c of CATEGORIES) {
    const o = document.createElement('option');
    o.value = c;
    o.textContent = categoryLabel(c);
    el.category.append(o);
  }

  el.form.addEventListener('submit', (e) => {
    e.preventDefault();
    search();
  });
  el.cityForm.addEventListener('submit', (e) => {
    e.preventDefault();
    goToCity();
  });
  el.city.addEventListener('input', () => {
    clearTimeout(cityTimer);
    const v = el.city.value.trim();
    if (cityChoices.has(v)) {
      goToCity(); // picked from the suggestions
      return;
    }
    cityTimer = setTimeout(suggestCities, 120);
  });
  el.radiusRange.addEventListener('input', () => {
    el.radius.value = el.radiusRange.value;
    if (state.query && state.query.kind === 'nearby') {
      state.query.radiusN = Number(el.radius.value);
      redraw();
    }
  });
  el.radius.addEventListener('input', () => {
    const v = Number(el.radius.value);
    if (Number.isFinite(v)) el.radiusRange.value = String(v);
  });
  el.radiusRange.addEventListener('change', () => {
    if (state.query && state.query.kind === 'nearby') search();
  });
  for (const c of [el.limit, el.minRating, el.sort, el.openNow, ...el.price.querySelectorAll('input')]) {
    c.addEventListener('change', rerun);
  }
  // The name filter applies as the person types, once they pause.
  let nameTimer = 0;
  el.q.addEventListener('input', () => {
    clearTimeout(nameTimer);
    nameTimer = setTimeout(rerun, 350);
  });
  el.q.addEventListener('keydown', (e) => {
    // Enter submits the form, a nearby search; after a box search it
    // repeats that one instead.
    if (e.key === 'Enter' && state.query && state.query.kind === 'box') {
      e.preventDefault();
      rerun();
    }
  });
  el.searchView.addEventListener('click', () => {
    setMapStatus('', '');
    searchBox(boxOf(visible()));
  });
  el.category.addEventListener('change', () => {
    rerun();
    scheduleDensity();
  });
  el.next.addEventListener('click', () => {
    if (!state.next) return;
    state.cursors[state.page + 1] = state.next;
    state.page++;
    fetchPage();
  });
  el.prev.addEventListener('click', () => {
    if (state.page === 0) return;
    state.page--;
    fetchPage();
  });
  function closeDetails() {
    detailsSeq++; // an answer still on its way stays closed
    el.details.hidden = true;
    const i = state.selected;
    state.selected = -1;
    const li = el.results.children[i];
    if (li) {
      const b = li.querySelector('button');
      b.removeAttribute('aria-current');
      b.focus();
    }
    redraw();
  }
  $('details-close').addEventListener('click', closeDetails);
  el.details.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') closeDetails();
  });
  el.showDensity.addEventListener('change', () => {
    if (el.showDensity.checked) loadDensity(); else redraw();
  });

  // ---- Start.

  new ResizeObserver(resize).observe(canvas);
  resize();
  loadStats();
  setMapStatus('outline', 'Loading country outlines…');
  api('static/countries-50m.json').then((topo) => {
    decodeTopology(topo);
    canvas.dataset.outlines = 'ready';
    if (el.mapStatus.dataset.kind === 'outline') setMapStatus('', '');
    redraw();
  }).catch((e) => setMapStatus('outline', `Country outlines unavailable: ${e.message}`));
  api(`v1/cities?limit=100`).then((ans) => {
    state.cities = ans.cities;
    redraw();
  }).catch((e) => showError('City labels', e));

  // choose picks value in a menu. A value the menu lacks (a hand-made or
  // older link's: limit=30, category=cafe,bar) is added to it, so that it
  // is shown and sent as given, and searchd judges it as it does typed
  // values; otherwise the menu would show nothing and the search would
  // drop the filter.
  function choose(select, value) {
    if (![...select.options].some((o) => o.value === value)) select.append(new Option(value, value));
    select.value = value;
  }

  // setFilters sets the form's filters from a link's; those it lacks are
  // the form's defaults.
  function setFilters(h) {
    choose(el.limit, h.get('limit') || '20');
    choose(el.category, h.get('category') || '');
    const prices = (h.get('price') || '').split(',');
    for (const c of el.price.querySelectorAll('input')) c.checked = prices.includes(c.value);
    choose(el.minRating, h.get('min_rating') || '');
    el.openNow.checked = h.get('open_now') === 'true';
    el.q.value = h.get('q') || '';
    // Only the rating order is sent: any other is nearest first.
    el.sort.value = h.get('sort') === 'rating' ? 'rating' : 'distance';
  }

  // fitBox shows a box (degrees, west to east, across the antimeridian
  // when west > east) on the whole map.
  function fitBox(b) {
    const x0 = mx(Number(b.min_lon));
    const x1 = x0 + lonSpan(Number(b.min_lon), Number(b.max_lon)) / 360;
    const y0 = my(Number(b.max_lat));
    const y1 = my(Number(b.min_lat));
    if (!(x1 > x0 && y1 > y0)) return;
    view.s = Math.min(view.w / (x1 - x0), view.h / (y1 - y0));
    clampView();
    view.x = (x0 + x1) / 2;
    view.y = (y0 + y1) / 2;
    clampView();
    viewChanged();
  }

  // A link with #lat=…&lon=… runs that search; one with #min_lat=… a box
  // search: when the page opens, and when a link is opened in a page
  // already showing (the hash changes but the page does not reload).
  const boxKeys = ['min_lat', 'min_lon', 'max_lat', 'max_lon'];
  function openLink() {
    const h = new URLSearchParams(location.hash.slice(1));
    if (h.has('lat') && h.has('lon')) {
      el.lat.value = h.get('lat');
      el.lon.value = h.get('lon');
      if (h.has('radius')) {
        el.radius.value = h.get('radius');
        el.radiusRange.value = h.get('radius');
      }
      setFilters(h);
      const lat = Number(h.get('lat'));
      const lon = Number(h.get('lon'));
      const radius = Number(el.radius.value);
      if (Number.isFinite(lat) && Number.isFinite(lon)) fitCircle(lat, lon, radius > 0 && radius <= 50000 ? radius : DEFAULT_RADIUS_M);
      search();
    } else if (boxKeys.every((k) => h.has(k))) {
      setFilters(h);
      const box = Object.fromEntries(boxKeys.map((k) => [k, h.get(k)]));
      fitBox(box);
      searchBox(box);
    }
  }
  openLink();
  window.addEventListener('hashchange', () => {
    // The page's own links (replaceState) fire no hashchange; a link back
    // to the search shown changes nothing.
    if (location.hash.slice(1) !== state.qs) openLink();
  });
})();
