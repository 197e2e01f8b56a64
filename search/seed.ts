// Per-candidate seeds now live with the other derived seeds in common/seed.ts; this re-export keeps
// search/loop.ts's import working until it imports common/seed.js itself.
export { candidateSeed } from '../common/seed.js';
