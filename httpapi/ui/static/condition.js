// The condition builder's model: the common clauses of a waypoint's
// conditions as form values, and their conversion to and from the MongoDB
// query a waypoint stores. Pure functions, tested by e2e/condition.test.mjs.
//
// A query the builder can show is an object whose members are among
// CLAUSES, each in the clause's own shape; anything else (another path,
// an operator, Extended JSON such as {"$oid": …}) is edited as raw JSON.

// CLAUSES are the builder's clauses, in the order they are written to the
// query. kind says the value's shape: a string compared for equality, a
// boolean, or a {$gte, $lte} range of numbers.
export const CLAUSES = [
  { key: 'verb', path: 'statement.verb.id', kind: 'string' },
  { key: 'activity', path: 'statement.object.id', kind: 'string' },
  { key: 'activityType', path: 'statement.object.definition.type', kind: 'string' },
  { key: 'success', path: 'statement.result.success', kind: 'boolean' },
  { key: 'score', path: 'statement.result.score.scaled', kind: 'range' },
  { key: 'parent', path: 'statement.context.contextActivities.parent.id', kind: 'string' },
  { key: 'grouping', path: 'statement.context.contextActivities.grouping.id', kind: 'string' },
];

// emptyBuilder returns the builder's values for no clause at all. Every
// value is a string, as form controls hold them; success is '', 'true' or
// 'false'.
export function emptyBuilder() {
  return { verb: '', activity: '', activityType: '', success: '', scoreMin: '', scoreMax: '', parent: '', grouping: '' };
}

// toQuery converts builder values to a query object. It returns
// { query } or { error, key } naming the builder value that is wrong.
export function toQuery(b) {
  const query = {};
  for (const c of CLAUSES) {
    switch (c.kind) {
      case 'string': {
        const v = (b[c.key] || '').trim();
        if (v) query[c.path] = v;
        break;
      }
      case 'boolean':
        if (b.success === 'true' || b.success === 'false') query[c.path] = b.success === 'true';
        break;
      case 'range': {
        const range = {};
        for (const [op, key] of [['$gte', 'scoreMin'], ['$lte', 'scoreMax']]) {
          const text = (b[key] || '').trim();
          if (!text) continue;
          const n = Number(text);
          if (!Number.isFinite(n)) return { error: `“${text}” is not a number.`, key };
          range[op] = n;
        }
        if (range.$gte !== undefined && range.$lte !== undefined && range.$gte > range.$lte) {
          return { error: 'The lowest score is above the highest: nothing can match.', key: 'scoreMin' };
        }
        if (Object.keys(range).length) query[c.path] = range;
        break;
      }
    }
  }
  return { query };
}

// fromQuery converts a query object to builder values, or returns null when
// the builder cannot show it exactly.
export function fromQuery(query) {
  if (query === null || typeof query !== 'object' || Array.isArray(query)) return null;
  const b = emptyBuilder();
  const byPath = new Map(CLAUSES.map((c) => [c.path, c]));
  for (const [path, v] of Object.entries(query)) {
    const c = byPath.get(path);
    if (!c) return null;
    switch (c.kind) {
      case 'string':
        if (typeof v !== 'string' || v !== v.trim() || v === '') return null;
        b[c.key] = v;
        break;
      case 'boolean':
        if (typeof v !== 'boolean') return null;
        b.success = String(v);
        break;
      case 'range': {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
        const ops = Object.keys(v);
        if (!ops.length || ops.some((op) => (op !== '$gte' && op !== '$lte') || typeof v[op] !== 'number')) return null;
        if (v.$gte !== undefined) b.scoreMin = String(v.$gte);
        if (v.$lte !== undefined) b.scoreMax = String(v.$lte);
        break;
      }
    }
  }
  // The builder writes its clauses in CLAUSES order; a query in another
  // order is a different stored string, so it stays raw to round-trip.
  const again = toQuery(b);
  return again.query && JSON.stringify(again.query) === JSON.stringify(query) ? b : null;
}

// parseRaw parses raw JSON conditions. It returns { query } for a JSON
// object, or { error } saying why not. Extended JSON is JSON, so what
// parses here is what the API reads; the API judges the operators.
export function parseRaw(text) {
  if (!text.trim()) return { error: 'Write a query, for example {"statement.verb.id": "…"}; {} matches every statement.' };
  let query;
  try {
    query = JSON.parse(text);
  } catch (err) {
    return { error: `Not valid JSON: ${err.message}` };
  }
  if (query === null || typeof query !== 'object' || Array.isArray(query)) return { error: 'The query must be a JSON object.' };
  return { query };
}

// pretty formats a query for the raw editor.
export function pretty(query) {
  return JSON.stringify(query, null, 2);
}

// sameQuery reports whether conditions text and a query object are the
// same JSON (key order included), so that an untouched waypoint keeps its
// stored string byte for byte.
export function sameQuery(text, query) {
  try {
    return JSON.stringify(JSON.parse(text)) === JSON.stringify(query);
  } catch {
    return false;
  }
}
