import { diff, MASKED } from './audit.service';

describe('audit diff', () => {
  it('lists only changed fields, with before and after', () => {
    expect(diff({ title: 'a', priority: 1 }, { title: 'b', priority: 1 }, new Set())).toEqual({ title: { before: 'a', after: 'b' } });
  });

  it('records a creation and a deletion against nothing', () => {
    expect(diff(null, { title: 'a' }, new Set())).toEqual({ title: { before: null, after: 'a' } });
    expect(diff({ title: 'a' }, null, new Set())).toEqual({ title: { before: 'a', after: null } });
  });

  it('masks secret fields and shows dates as ISO strings', () => {
    const d = new Date('2026-01-02T03:04:05.000Z');
    expect(diff({ configuration: { token: 'x' }, at: null }, { configuration: { token: 'y' }, at: d }, new Set(['configuration']))).toEqual({
      configuration: { before: MASKED, after: MASKED },
      at: { before: null, after: '2026-01-02T03:04:05.000Z' },
    });
  });
});
