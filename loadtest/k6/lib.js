// nearby's k6 scenarios: the same scenarios, parameters and queries as the
// Go runner (go run ./cmd/loadtest), read from the same files:
// scenarios.json (names, parameters, default rates and thresholds) and
// queries.json (the search workload, written by
// "go run ./cmd/loadtest queries"). loadtest/k6_test.go checks that this
// file and the Go runner agree. See docs/LOADTEST.md.
//
// Environment variables (k6 run -e NAME=value, or the environment):
//   BASE_URL     searchd base URL (default http://127.0.0.1:8080)
//   OWNER_URL    owner-api base URL (owner needs it; mixed leaves owner out without it)
//   OWNER_TOKEN  owner-api bearer token
//   RATE         open loop: iterations started per second (default: the scenario's)
//   CONCURRENCY  closed loop: virtual users, each waiting for its answers (instead of RATE)
//   DURATION     how long to start iterations (default 30s)
//   MAX_VUS      open loop: most virtual users k6 may use (default 1000)
//   TIMEOUT      each request's timeout (default 10s, the Go runner's; k6's own is 60s)
//   THRESHOLDS   pass/fail criteria in the Go runner's syntax, e.g.
//                'p99<20ms,p95<10ms,errors<0.1%'; 'none' for none (default: the scenario's)
//   ALLOW_REMOTE set to 1 to allow targets that are not loopback addresses

import http from 'k6/http';
import { check } from 'k6';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';

import { checkTarget, createdID, effectiveWeights, k6Thresholds, pageURL, pickScenario } from './common.js';

// Both files sit next to this one (and next to the entry scripts). The
// query file is parsed once, not once per VU: SharedArray runs its
// function a single time and shares the result.
const SPEC = JSON.parse(open('./scenarios.json'));
const QUERIES = new SharedArray('queries', () => JSON.parse(open(`./${SPEC.queries.file}`)).queries);
const CATEGORIES = new SharedArray('categories', () => JSON.parse(open(`./${SPEC.queries.file}`)).categories);

const SCENARIOS = {};
for (const sc of SPEC.scenarios) {
  SCENARIOS[sc.name] = sc;
}
// Every request name, the k6 "name" tag thresholds may select.
const REQUESTS = [...new Set(SPEC.scenarios.flatMap((sc) => sc.requests))];

const env = (name, def) => (__ENV[name] !== undefined && __ENV[name] !== '' ? __ENV[name] : def);
const ALLOW_REMOTE = env('ALLOW_REMOTE', '') === '1';
const BASE = checkTarget(env('BASE_URL', 'http://127.0.0.1:8080'), ALLOW_REMOTE, 'BASE_URL');
const OWNER = env('OWNER_URL', '') === '' ? '' : checkTarget(env('OWNER_URL', ''), ALLOW_REMOTE, 'OWNER_URL');
const TOKEN = env('OWNER_TOKEN', '');
// Each request's timeout, the Go runner's default (k6's own is 60s).
const TIMEOUT = env('TIMEOUT', '10s');
const WEIGHTS = effectiveWeights(SCENARIOS.mixed.weights, OWNER !== '');

// The statuses each request accepts, as in the Go runner: anything else
// counts in http_req_failed (k6 by default takes any 2xx or 3xx for a
// success, and with redirects not followed a 3xx would pass).
const OK = http.expectedStatuses(200);
const CREATED = http.expectedStatuses(201, 200);
const UPDATED = http.expectedStatuses(200, 204);
const DELETED = http.expectedStatuses(204, 200);

// scenarioOptions returns the k6 options of a scenario: a
// constant-arrival-rate executor (open loop; k6 drops iterations it has no
// VU for, and the dropped_iterations threshold fails the run then) or
// constant VUs (closed loop), and the thresholds.
export function scenarioOptions(name) {
  const sc = SCENARIOS[name];
  if (!sc) {
    throw new Error(`unknown scenario ${name}`);
  }
  if (name === 'owner' && OWNER === '') {
    throw new Error('the owner scenario needs OWNER_URL');
  }
  const duration = env('DURATION', '30s');
  let executor;
  if (env('CONCURRENCY', '') !== '' && env('RATE', '') !== '') {
    // As the Go runner: one would be ignored without a word.
    throw new Error('give RATE (open loop) or CONCURRENCY (closed loop), not both');
  }
  if (env('CONCURRENCY', '') !== '') {
    executor = { executor: 'constant-vus', vus: Number(env('CONCURRENCY')), duration };
  } else {
    const rate = Number(env('RATE', sc.default_rate));
    const maxVUs = Number(env('MAX_VUS', 1000));
    // k6 wants a whole number of iterations per time unit.
    const perMinute = !Number.isInteger(rate);
    executor = {
      executor: 'constant-arrival-rate',
      rate: perMinute ? Math.round(rate * 60) : rate,
      timeUnit: perMinute ? '1m' : '1s',
      duration,
      preAllocatedVUs: Math.min(maxVUs, Math.max(10, Math.ceil(rate / 10))),
      maxVUs,
    };
  }
  const given = env('THRESHOLDS', '');
  const list = given === '' ? sc.thresholds : given === 'none' ? [] : given.split(',');
  const thresholds = k6Thresholds(list, REQUESTS);
  if (executor.executor === 'constant-arrival-rate') {
    thresholds.dropped_iterations = ['count<1'];
  }
  return {
    scenarios: { [name]: { ...executor, exec: 'default' } },
    thresholds,
    summaryTrendStats: ['min', 'med', 'avg', 'p(90)', 'p(95)', 'p(99)', 'p(99.9)', 'max'],
    // Redirects are not followed, as by the Go runner: k6 would follow up
    // to 10, to any host, past the loopback check of the URLs.
    maxRedirects: 0,
  };
}

// query returns this iteration's query: the workload in order, cycled, as
// the Go runner does.
function query() {
  return QUERIES[exec.scenario.iterationInTest % QUERIES.length];
}

function get(url, name) {
  const res = http.get(url, { tags: { name }, responseCallback: OK, timeout: TIMEOUT });
  check(res, { [`${name} 200`]: (r) => r.status === 200 });
  return res;
}

// search: a query from the mix, then with probability next_page each, up
// to max_pages pages in all.
export function search() {
  const sc = SCENARIOS.search;
  const q = query();
  let follow = Math.random() < sc.next_page;
  let res = get(BASE + q.path, 'search');
  for (let pages = 1; follow && pages < sc.max_pages && res.status === 200; pages++) {
    const cursor = res.json('next_cursor');
    if (!cursor) {
      break;
    }
    follow = Math.random() < sc.next_page;
    res = get(pageURL(BASE, q, cursor), 'search_page');
  }
}

// details: a query from the mix, then one of its first top results.
export function details() {
  const sc = SCENARIOS.details;
  const res = get(BASE + query().path, 'search');
  if (res.status !== 200) {
    return;
  }
  const results = res.json('results') || [];
  if (results.length === 0) {
    return;
  }
  const id = results[Math.floor(Math.random() * Math.min(results.length, Math.max(sc.top, 1)))].id;
  get(`${BASE}/v1/businesses/${encodeURIComponent(id)}`, 'details');
}

function header(res, name) {
  for (const k of Object.keys(res.headers)) {
    if (k.toLowerCase() === name.toLowerCase()) {
      return res.headers[k];
    }
  }
  return '';
}

function ownerParams(name, expected, ifMatch) {
  const headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
  if (TOKEN !== '') {
    headers.Authorization = `Bearer ${TOKEN}`;
  }
  if (ifMatch) {
    headers['If-Match'] = ifMatch;
  }
  return { headers, tags: { name }, responseCallback: expected, timeout: TIMEOUT };
}

// owner: create a shop where the query is, read it, rename it with the
// ETag, delete it.
export function owner() {
  const q = query();
  const i = exec.scenario.iterationInTest;
  const category = q.categories.length > 0 ? q.categories[0] : CATEGORIES[i % CATEGORIES.length];
  const name = `Loadtest Shop k6-${i}`;
  const base = `${OWNER}/v1/businesses`;

  let res = http.post(base, JSON.stringify({ name, category, lat: q.lat, lon: q.lon }), ownerParams('owner_create', CREATED));
  if (!check(res, { 'owner_create 201': (r) => r.status === 201 || r.status === 200 })) {
    return;
  }
  let body = null;
  try {
    body = res.json();
  } catch (e) {
    body = null;
  }
  const id = createdID(body, header(res, 'Location'));
  if (!check(id, { 'owner_create returned an id': (v) => v !== '' })) {
    return;
  }
  let etag = header(res, 'ETag');
  const url = `${base}/${encodeURIComponent(id)}`;

  res = http.get(url, ownerParams('owner_read', OK));
  check(res, { 'owner_read 200': (r) => r.status === 200 });
  etag = header(res, 'ETag') || etag;

  res = http.patch(url, JSON.stringify({ name: `${name} (renamed)` }), ownerParams('owner_update', UPDATED, etag));
  check(res, { 'owner_update 200': (r) => r.status === 200 || r.status === 204 });
  etag = header(res, 'ETag') || etag;

  res = http.del(url, null, ownerParams('owner_delete', DELETED, etag));
  check(res, { 'owner_delete 204': (r) => r.status === 204 || r.status === 200 });
}

// ceiling: GET /healthz, the HTTP stack without search work.
export function ceiling() {
  get(`${BASE}/healthz`, 'healthz');
}

// mixed: one of the other scenarios, drawn by weight.
export function mixed() {
  ITERATIONS[pickScenario(WEIGHTS, Math.random())]();
}

// ITERATIONS maps each scenario name to its iteration.
export const ITERATIONS = { search, details, owner, mixed, ceiling };
