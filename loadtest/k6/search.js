// k6 run loadtest/k6/search.js: the search scenario of scenarios.json.
// Parameters by environment variables: see lib.js and docs/LOADTEST.md.
import { ITERATIONS, scenarioOptions } from './lib.js';

export const options = scenarioOptions('search');

export default ITERATIONS.search;
