// k6 run loadtest/k6/ceiling.js: the ceiling scenario of scenarios.json.
// Parameters by environment variables: see lib.js and docs/LOADTEST.md.
import { ITERATIONS, scenarioOptions } from './lib.js';

export const options = scenarioOptions('ceiling');

export default ITERATIONS.ceiling;
