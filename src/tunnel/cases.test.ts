import { loadConfig } from '../config';
import { CASE_BASE_ENV, TUNNEL_CASES } from './cases';
import type { EnabledTunnelConfig } from '../config';
import { buildTunnelConfig } from './tunnel.service';
import { validateTunnelYaml } from './validate';

/** The table of src/tunnel/cases.ts: what the generator answers for each setting. */
function build(env: Record<string, string | undefined>) {
  const config = loadConfig({ ...CASE_BASE_ENV, ...env });
  return buildTunnelConfig(config, config.tunnel as EnabledTunnelConfig, 4000, () => true);
}

describe('tunnel cases', () => {
  it.each(TUNNEL_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { text, issues } = build(c.env);
    if (c.expect === 'valid') {
      expect(issues).toEqual([]);
      // what the generator writes reads back valid
      expect(validateTunnelYaml(text)).toEqual([]);
    } else {
      expect(issues.map((i) => i.rule)).toContain(c.expect);
      expect(issues[0].variable).toMatch(/^CLOUDFLARE_/);
    }
  });

  it('writes every case it accepts without a character go-yaml refuses', () => {
    for (const c of TUNNEL_CASES.filter((x) => x.expect === 'valid')) {
      // eslint-disable-next-line no-control-regex -- matching control characters is the point
      expect([c.name, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffe\uffff]/.test(build(c.env).text)]).toEqual([c.name, false]);
    }
  });
});
