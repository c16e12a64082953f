// k6 run loadtest/k6/mixed.js: the mixed scenario of scenarios.json.
// Parameters by environment variables: see lib.js and docs/LOADTEST.md.
import { ITERATIONS, scenarioOptions } from './lib.js';

export const options = scenarioOptions('mixed');

export default ITERATIONS.mixed;
