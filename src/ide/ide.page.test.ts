import { Script } from 'node:vm';
import { exampleOperations, exampleSubscriptions } from './examples';
import { IDE_JS, ideSettings, renderIdePage } from './ide.page';

describe('renderIdePage', () => {
  it('embeds the settings as JSON that cannot close its script element', () => {
    const settings = { ...ideSettings('/graphql', new Date()), endpoint: '/graphql</script><script>alert(1)</script><!--' };
    const html = renderIdePage(settings);
    expect(html).not.toContain('</script><script>alert(1)');
    expect(html).not.toContain('<!--');
    const json = /<script type="application\/json" id="ide-settings">(.*?)<\/script>/s.exec(html)![1];
    expect(JSON.parse(json)).toEqual(settings);
  });

  it('opens one tab per example operation, each with the Authorization header to fill in', () => {
    const now = new Date('2026-01-01T00:00:30Z');
    const { tabs } = ideSettings('/graphql', now);
    const examples = [...exampleOperations(now), ...exampleSubscriptions()];
    expect(tabs).toHaveLength(examples.length);
    tabs.forEach((tab, i) => {
      expect(tab.query).toContain(examples[i].query);
      expect(JSON.parse(tab.headers)).toEqual({ Authorization: 'Bearer ' });
      expect(tab.variables === undefined ? undefined : JSON.parse(tab.variables)).toEqual(examples[i].variables);
    });
    // The chart covers the last day, ending on the next whole minute.
    expect(examples.find((e) => e.title === 'Latency chart')!.variables).toEqual({
      from: '2025-12-31T00:01:00.000Z',
      to: '2026-01-01T00:01:00.000Z',
    });
  });

  it('ships the page script with its regular expressions intact (a template literal eats a lone backslash)', () => {
    // The one blank-token check (HTTP fetcher and WebSocket connection_init) must see "Bearer " as blank.
    const blank = [...IDE_JS.matchAll(/\/\^\(bearer\)\?(.*?)\$\/i/g)].map((m) => new RegExp(`^(bearer)?${m[1]}$`, 'i'));
    expect(blank).toHaveLength(1);
    for (const re of blank) expect([re.test('Bearer '), re.test('Bearer abc')]).toEqual([true, false]);
    // The page script parses (a regular expression with a line break in it would not).
    expect(() => new Script(IDE_JS)).not.toThrow();
  });
});
