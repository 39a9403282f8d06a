import { parse } from 'yaml';
import { emitYaml, isPlainSafe, quote, Quoted } from './yaml';

describe('emitYaml', () => {
  it('writes block mappings and sequences, two spaces deep, keys in the given order', () => {
    const text = emitYaml({
      b: 1,
      a: true,
      list: ['x', { k: 'v', m: { deep: [] } }, [1, 2]],
      empty: {},
      none: null,
      q: new Quoted('127.0.0.1:1'),
    });
    expect(text).toBe(`b: 1
a: true
list:
  - x
  - k: v
    m:
      deep: []
  - - 1
    - 2
empty: {}
none: null
q: "127.0.0.1:1"
`);
    expect(parse(text)).toEqual({
      b: 1,
      a: true,
      list: ['x', { k: 'v', m: { deep: [] } }, [1, 2]],
      empty: {},
      none: null,
      q: '127.0.0.1:1',
    });
  });

  it('quotes keys too: YAML 1.1 reads a key n or on as a boolean', () => {
    expect(emitYaml({ n: 'x', on: 'y', ok: 'z' })).toBe('"n": x\n"on": "y"\nok: z\n');
  });

  it('refuses numbers YAML cannot hold', () => {
    expect(() => emitYaml({ n: Number.NaN })).toThrow(TypeError);
  });
});

describe('isPlainSafe', () => {
  it.each([
    '6ff42ae2-765d-4adf-8112-31c55c1551ef',
    '/etc/cloudflared/x.json',
    '^/graphql(/|$)',
    'http://127.0.0.1:4000',
    'http_status:404',
    '1m30s',
    'graphql.example.com',
  ])('writes %s plain', (text) => {
    expect(isPlainSafe(text)).toBe(true);
  });
  it.each([
    '',
    'on',
    'yes',
    'null',
    '~',
    '123',
    '1.5',
    '0o17',
    '2001-12-14',
    '*.example.com',
    '-5s',
    'a: b',
    'a #b',
    '# x',
    'x:',
    "it's",
    '[x]',
    'a b',
  ])('quotes %p', (text) => {
    expect(isPlainSafe(text)).toBe(false);
  });
  it('quotes with escapes YAML reads back, line separators included', () => {
    for (const text of ['a"b', 'a\\b', 'a\nb', '\u2028', '\u0085', 'é']) expect(parse(`k: ${quote(text)}`).k).toBe(text);
  });
});
