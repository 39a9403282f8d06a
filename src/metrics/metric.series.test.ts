import { checkSeries, parseBucket } from './metric.series';

describe('metric series buckets', () => {
  it('reads durations from one minute to one day', () => {
    expect(parseBucket('1m')).toBe(60);
    expect(parseBucket('15m')).toBe(900);
    expect(parseBucket('1h')).toBe(3600);
    expect(parseBucket('1d')).toBe(86400);
    expect(parseBucket('90s')).toBe(90);
  });

  it.each(['30s', '2d', '0m', '1', 'm', '1w', ' 1m', '1.5h', '-1m'])('refuses %s', (bucket) => {
    expect(() => parseBucket(bucket)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
  });

  it('caps the number of buckets and wants from before to', () => {
    const from = new Date('2026-01-01T00:00:00Z');
    expect(checkSeries(from, new Date('2026-01-04T11:20:00Z'), '1m')).toBe(60); // exactly 5,000 buckets
    expect(() => checkSeries(from, new Date('2026-01-04T11:20:01Z'), '1m')).toThrow(/at most 5000/);
    expect(() => checkSeries(from, from, '1m')).toThrow(/after from/);
  });
});
