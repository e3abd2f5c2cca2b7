// Table tests of the condition builder's model (static/condition.js), run
// by TestConditionModel in httpapi/ui/editor_test.go with node --test.
import assert from 'node:assert/strict';
import test from 'node:test';
import { emptyBuilder, fromQuery, parseRaw, sameQuery, toQuery } from '../static/condition.js';

const V = 'http://adlnet.gov/expapi/verbs/passed';

test('toQuery writes the filled clauses in order', () => {
  for (const [values, want] of [
    [{}, {}],
    [{ verb: V }, { 'statement.verb.id': V }],
    [{ verb: `  ${V} ` }, { 'statement.verb.id': V }],
    [{ grouping: 'g', verb: V, success: 'true' }, {
      'statement.verb.id': V, 'statement.result.success': true, 'statement.context.contextActivities.grouping.id': 'g',
    }],
    [{ success: 'false' }, { 'statement.result.success': false }],
    [{ scoreMin: '0.5' }, { 'statement.result.score.scaled': { $gte: 0.5 } }],
    [{ scoreMin: '0', scoreMax: '1' }, { 'statement.result.score.scaled': { $gte: 0, $lte: 1 } }],
    [{ activity: 'a', activityType: 't', parent: 'p' }, {
      'statement.object.id': 'a', 'statement.object.definition.type': 't', 'statement.context.contextActivities.parent.id': 'p',
    }],
  ]) {
    const r = toQuery({ ...emptyBuilder(), ...values });
    assert.equal(JSON.stringify(r.query), JSON.stringify(want), JSON.stringify(values));
  }
});

test('toQuery names the wrong value', () => {
  assert.deepEqual(toQuery({ ...emptyBuilder(), scoreMax: 'high' }), { error: '“high” is not a number.', key: 'scoreMax' });
  assert.equal(toQuery({ ...emptyBuilder(), scoreMin: '0.9', scoreMax: '0.1' }).key, 'scoreMin');
});

test('fromQuery round-trips what the builder writes, and only that', () => {
  for (const q of [
    {},
    { 'statement.verb.id': V },
    { 'statement.verb.id': V, 'statement.result.score.scaled': { $gte: 0.25, $lte: 0.75 } },
    { 'statement.object.id': 'a', 'statement.result.success': true },
    { 'statement.result.score.scaled': { $lte: 1 } },
  ]) {
    const b = fromQuery(q);
    assert.ok(b, JSON.stringify(q));
    assert.equal(JSON.stringify(toQuery(b).query), JSON.stringify(q));
  }
  for (const q of [
    null, [], 'x',
    { 'statement.verb.id': { $in: [V] } },
    { 'statement.verb.id': 5 },
    { 'statement.verb.id': '' },
    { 'statement.verb.id': ' padded' },
    { 'statement.result.success': 'true' },
    { 'statement.result.score.scaled': 0.5 },
    { 'statement.result.score.scaled': { $gt: 0.5 } },
    { 'statement.result.score.scaled': { $gte: '0.5' } },
    { 'statement.result.score.scaled': {} },
    { 'statement.actor.mbox': 'mailto:a@b' },
    { $or: [] },
    { lrs_id: { $oid: '5a0000000000000000000001' } },
    // Another key order is another stored string.
    { 'statement.result.success': true, 'statement.verb.id': V },
  ]) {
    assert.equal(fromQuery(q), null, JSON.stringify(q));
  }
});

test('parseRaw accepts JSON objects only', () => {
  assert.deepEqual(parseRaw('{"a": 1}'), { query: { a: 1 } });
  for (const [text, error] of [['', /Write a query/], ['  ', /Write a query/], ['{', /Not valid JSON/], ['[1]', /JSON object/], ['null', /JSON object/], ['"x"', /JSON object/]]) {
    assert.match(parseRaw(text).error, error, text);
  }
});

test('sameQuery compares JSON, key order included', () => {
  assert.equal(sameQuery('{ "a" : 1, "b": [2] }', { a: 1, b: [2] }), true);
  assert.equal(sameQuery('{"b": 1, "a": 1}', { a: 1, b: 1 }), false);
  assert.equal(sameQuery('{', {}), false);
});
