import { isDnsName, isHost, isIPv6, parseGoDuration, parseServiceUrl, splitHostPort } from './syntax';

describe('parseGoDuration (time.ParseDuration)', () => {
  it.each([
    ['30s', 30e9],
    ['1m30s', 90e9],
    ['1.5s', 1.5e9],
    ['2h', 7200e9],
    ['500ms', 500e6],
    ['10us', 10e3],
    ['10µs', 10e3],
    ['1h2m3s4ms', 3723004e6],
    ['.5s', 0.5e9],
    ['5.s', 5e9],
    ['0', 0],
    ['-5s', -5e9],
    ['+5s', 5e9],
  ])('%s = %d ns', (text, ns) => {
    expect(parseGoDuration(text)).toBe(ns);
  });

  it.each(['30', '"30s"', '', 's', '1d', '1 s', ' 1s', '1S', '1.s.s', '.s', '1e3s', '3000000h'])('refuses %p', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});

describe('hosts', () => {
  it.each([
    'example.com',
    'a-b.example.co.uk',
    '127.0.0.1',
    'localhost',
    '[::1]',
    '[2001:db8::1]',
    '[::ffff:127.0.0.1]',
    'gateway_1',
    'a_b.example.com',
  ])('accepts %s', (host) => {
    expect(isHost(host)).toBe(true);
  });
  it.each(['', 'exa mple.com', '-a.example.com', 'a_b.example.com.', '::1', '[::1', '[1::2::3]', 'example.com.', '256.1.1.1.1'])(
    'refuses %p',
    (host) => {
      expect(isHost(host)).toBe(false);
    },
  );
  it('IPv6 forms', () => {
    expect(isIPv6('1:2:3:4:5:6:7:8')).toBe(true);
    expect(isIPv6('1:2:3:4:5:6:7')).toBe(false);
    expect(isIPv6('1:2:3:4:5:6:7:8:9')).toBe(false);
    expect(isIPv6('::')).toBe(true);
    expect(isIPv6('12345::')).toBe(false);
  });
  it('DNS names need two labels and a non-numeric top label', () => {
    expect(isDnsName('example.com')).toBe(true);
    expect(isDnsName('example')).toBe(false);
    expect(isDnsName('1.2.3.4')).toBe(false);
    expect(isDnsName(`${'a'.repeat(64)}.com`)).toBe(false);
  });
  it('splitHostPort', () => {
    expect(splitHostPort('127.0.0.1:20241')).toEqual({ host: '127.0.0.1', port: 20241 });
    expect(splitHostPort('[::1]:20241')).toEqual({ host: '[::1]', port: 20241 });
    expect(splitHostPort('localhost')).toBeUndefined();
    expect(splitHostPort('::1:20241')).toBeUndefined();
    expect(splitHostPort('host:0')).toBeUndefined();
  });
});

describe('parseServiceUrl', () => {
  it('takes scheme://host[:port] only', () => {
    expect(parseServiceUrl('http://127.0.0.1:4000')).toEqual({ scheme: 'http', host: '127.0.0.1', port: 4000 });
    expect(parseServiceUrl('HTTPS://Origin.internal')).toEqual({ scheme: 'https', host: 'Origin.internal', port: undefined });
    expect(parseServiceUrl('tcp://[::1]:5432')).toEqual({ scheme: 'tcp', host: '[::1]', port: 5432 });
  });
  it.each([
    ['localhost:4000', 'no-scheme-or-host'],
    ['http://', 'no-scheme-or-host'],
    ['http://:4000', 'no-scheme-or-host'],
    ['http://127.0.0.1:4000/', 'path'],
    ['http://a@127.0.0.1', 'userinfo'],
    ['http://127.0.0.1?x', 'query'],
    ['http://127.0.0.1/a?x', 'query'],
    ['http://127.0.0.1:65536', 'bad-port'],
    ['http://127.0.0.1:', 'bad-port'],
    ['http://a b:80', 'bad-host'],
  ])('%s: %s', (text, problem) => {
    expect(parseServiceUrl(text)).toBe(problem);
  });
});
