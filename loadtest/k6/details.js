// k6 run loadtest/k6/details.js: the details scenario of scenarios.json.
// Parameters by environment variables: see lib.js and docs/LOADTEST.md.
import { ITERATIONS, scenarioOptions } from './lib.js';

export const options = scenarioOptions('details');

export default ITERATIONS.details;
