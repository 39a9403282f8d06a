/**
 * `npm run tunnel:config`: prints the cloudflared config that start-up would write, from the same
 * environment, after the same checks (credentials file, validation). Exits non-zero with the reason
 * when start-up would refuse it. `npm run tunnel:config -- --check FILE` validates an existing file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '../src/config';
import { checkCredentialsFile } from '../src/tunnel/credentials';
import { buildTunnelConfig } from '../src/tunnel/tunnel.service';
import { formatIssues, validateTunnelYaml } from '../src/tunnel/validate';

function main(argv: string[]): number {
  if (argv[0] === '--check') {
    const file = argv[1];
    if (!file) {
      console.error('usage: npm run tunnel:config -- --check FILE');
      return 2;
    }
    const issues = validateTunnelYaml(readFileSync(file, 'utf8'), { fileExists: existsSync });
    if (issues.length > 0) {
      console.error(`${file} would not work with cloudflared:\n${formatIssues(issues)}`);
      return 1;
    }
    console.log('OK');
    return 0;
  }

  const config = loadConfig();
  if (!config.tunnel.enabled) {
    console.error('CLOUDFLARE_ENABLED is not true: start-up writes no tunnel config.');
    return 0;
  }
  if (config.port === 0) {
    console.error(
      'PORT=0: the port is chosen when the gateway starts, so the GraphQL origin is not known yet; set PORT to preview the config.',
    );
    return 1;
  }
  checkCredentialsFile(config.tunnel.credentialsFile, config.tunnel.tunnelId);
  const built = buildTunnelConfig(config, config.tunnel, config.port);
  if (built.issues.length > 0) {
    console.error(`The tunnel config would not work; start-up would refuse it:\n${formatIssues(built.issues)}`);
    return 1;
  }
  process.stdout.write(built.text);
  console.error(`(start-up writes this to ${config.tunnel.configFile}, mode 0600)`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`Invalid configuration: ${error.message}`);
  process.exitCode = 2;
}
