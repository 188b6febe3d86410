// The bounded pool of the fuzz suites' script runs and the bench's concurrent puts: the engine's own, at most `limit`
// in flight, results in input order.
export { mapBounded as pool } from '../../src/engine/bounded.js';
