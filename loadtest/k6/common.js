// Pure helpers of nearby's k6 scripts: no k6 modules, so that the Go tests
// can run them under node and compare them with the Go runner
// (loadtest/k6_test.go). Keep them in step with loadtest/*.go.

// isLoopback reports whether a base URL's host is a loopback address
// (127.0.0.0/8, ::1 or localhost), like loadtest.CheckTarget.
export function isLoopback(url) {
  const m = /^https?:\/\/(?:\[([^\]]+)\]|([^/:?#@]+))(?::\d+)?(?:\/[^?#]*)?$/i.exec(url);
  if (!m) {
    return false;
  }
  if (m[1] !== undefined) {
    return /^(?=.*:)(0*:)*:?0*1$/.test(m[1]) || /^::ffff:127\.\d+\.\d+\.\d+$/i.test(m[1]);
  }
  const host = m[2];
  if (host.toLowerCase() === 'localhost') {
    return true;
  }
  // Decimal octets without leading zeros, as Go's net.ParseIP reads them:
  // some resolvers take 0127.0.0.1 for octal, 87.0.0.1.
  const o = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/.exec(host);
  return o !== null && o[1] === '127' && o.slice(2).every((x) => Number(x) <= 255);
}

// checkTarget returns the base URL without a trailing slash, or throws
// unless it is loopback or remote targets are allowed.
export function checkTarget(url, allowRemote, what) {
  if (!/^https?:\/\/[^/?#]+/i.test(url) || /[?#]/.test(url)) {
    throw new Error(`${what} ${url}: want a base URL such as http://127.0.0.1:8080`);
  }
  if (!allowRemote && !isLoopback(url)) {
    throw new Error(`${what} ${url} is not a loopback address (set ALLOW_REMOTE=1 to load-test your own deployment)`);
  }
  return url.replace(/\/+$/, '');
}

// Units of latency limits, in milliseconds.
const UNITS = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };

// parseDuration parses a Go duration such as "20ms" or "1.5s" into
// milliseconds (only what thresholds use: one number and one unit).
function parseDuration(s) {
  const m = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)$/.exec(s);
  if (!m) {
    throw new Error(`bad duration ${s}`);
  }
  return Number(m[1]) * UNITS[m[2]];
}

// k6Thresholds turns thresholds in the Go runner's syntax
// ("[request:]metric<limit", see loadtest.ParseThresholds) into k6
// thresholds on http_req_duration and http_req_failed, tagged by request
// name when one is given. A name not in requests is refused, as by the Go
// runner: a misspelt one would select no samples, and k6 passes those.
export function k6Thresholds(list, requests) {
  const out = {};
  for (const raw of list) {
    const expr = raw.trim();
    const m = /^(?:([^:<]+):)?([a-z0-9.]+)(<=?)(.+)$/.exec(expr);
    if (!m) {
      throw new Error(`bad threshold ${expr}`);
    }
    const [, request, metric, op, limit] = m;
    if (request !== undefined && !requests.includes(request)) {
      throw new Error(`unknown request ${request} in threshold ${expr} (requests: ${requests.join(', ')}; no name for all of them)`);
    }
    const tag = request ? `{name:${request}}` : '';
    let key;
    let rule;
    if (metric === 'errors') {
      // A percentage moves the decimal point in the text: 0.9 / 100 is a
      // hair above 0.009, which would pass 9 errors in 1000 for errors<0.9%.
      const pct = limit.endsWith('%');
      const num = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:e([+-]?\d+))?$/i.exec(pct ? limit.slice(0, -1) : limit);
      const v = num === null ? NaN : Number(`${num[1]}e${Number(num[2] || 0) - (pct ? 2 : 0)}`);
      if (!(v >= 0 && v <= 1)) {
        throw new Error(`bad error share in ${expr}`);
      }
      key = `http_req_failed${tag}`;
      rule = `rate${op}${v}`;
    } else {
      const ms = parseDuration(limit);
      let agg;
      if (metric === 'mean') {
        agg = 'avg';
      } else if (metric === 'max') {
        agg = 'max';
      } else if (/^p\d+(\.\d+)?$/.test(metric) && Number(metric.slice(1)) > 0 && Number(metric.slice(1)) <= 100) {
        agg = `p(${metric.slice(1)})`;
      } else {
        throw new Error(`unknown metric in ${expr}`);
      }
      key = `http_req_duration${tag}`;
      rule = `${agg}${op}${ms}`;
    }
    (out[key] = out[key] || []).push(rule);
  }
  return out;
}

// effectiveWeights returns a mixed scenario's weights, without owner when
// there is no owner URL, renormalised to sum to 1.
export function effectiveWeights(weights, hasOwner) {
  const ws = weights.filter((w) => hasOwner || w.scenario !== 'owner');
  const sum = ws.reduce((s, w) => s + w.weight, 0);
  return ws.map((w) => ({ scenario: w.scenario, weight: w.weight / sum }));
}

// pickScenario maps u in [0, 1) to a scenario by weight.
export function pickScenario(weights, u) {
  for (const w of weights) {
    if (u < w.weight) {
      return w.scenario;
    }
    u -= w.weight;
  }
  return weights[weights.length - 1].scenario;
}

// pageURL is the URL of a search's next page.
export function pageURL(base, query, cursor) {
  return `${base}${query.path}&cursor=${encodeURIComponent(cursor)}`;
}

// createdID finds a new business's id: "id" in the body (a string or a
// number), else the last segment of the Location header; '' if neither.
export function createdID(body, location) {
  if (body && (typeof body.id === 'string' || typeof body.id === 'number') && String(body.id) !== '') {
    return String(body.id);
  }
  const i = (location || '').lastIndexOf('/');
  return i >= 0 && i < location.length - 1 ? location.slice(i + 1) : '';
}
