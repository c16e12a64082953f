// k6 run loadtest/k6/owner.js: the owner scenario of scenarios.json.
// Parameters by environment variables: see lib.js and docs/LOADTEST.md.
import { ITERATIONS, scenarioOptions } from './lib.js';

export const options = scenarioOptions('owner');

export default ITERATIONS.owner;
