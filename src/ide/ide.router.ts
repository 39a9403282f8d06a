import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { preferredType, sendText, type Route } from '../http-kit';
import { ideAssetFiles } from './ide.assets';
import { IDE_CONTENT_SECURITY_POLICY, IDE_CSS, IDE_JS, ideSettings, renderIdePage } from './ide.page';

/** The paths that answer with the IDE, besides GET /graphql for a browser. */
export const IDE_PATHS = ['/graphiql', '/playground'] as const;

/** A browser navigating to /graphql asks for HTML first; GraphQL clients ask for JSON. */
function wantsHtml(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('text/html') && preferredType(req, ['text/html', 'application/json', 'application/graphql-response+json']) === 'text/html';
}

const SECURITY_HEADERS = {
  'Content-Security-Policy': IDE_CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/**
 * GraphiQL, served entirely from the gateway: the page at /graphiql and /playground, and at
 * GET /graphql when a browser asks for HTML (a GET carrying a query still goes to Apollo); its
 * files from installed npm packages under /graphiql/assets. Mounted only when GRAPHQL_IDE is on.
 */
export function createIdeRoute(endpoint = '/graphql'): Route {
  const assets = ideAssetFiles();
  const page = (res: ServerResponse) =>
    sendText(res, 200, 'text/html; charset=utf-8', renderIdePage(ideSettings(endpoint, new Date())), { ...SECURITY_HEADERS, 'Cache-Control': 'no-store' });

  return async (req, res, url) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = url.pathname;
    if ((path === endpoint && !url.searchParams.has('query') && wantsHtml(req)) || (IDE_PATHS as readonly string[]).includes(path)) {
      page(res);
      return true;
    }
    const prefix = '/graphiql/assets/';
    if (!path.startsWith(prefix)) return false;
    let name: string;
    try {
      name = decodeURIComponent(path.slice(prefix.length));
    } catch {
      return false;
    }
    if (name === 'ide.js' || name === 'ide.css') {
      sendText(res, 200, name === 'ide.js' ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8', name === 'ide.js' ? IDE_JS : IDE_CSS, {
        ...SECURITY_HEADERS,
        'Cache-Control': 'no-cache',
      });
      return true;
    }
    const asset = Object.hasOwn(assets, name) ? assets[name] : undefined;
    if (!asset) return false;
    sendText(res, 200, asset.contentType, await readFile(asset.file), { ...SECURITY_HEADERS, 'Cache-Control': 'public, max-age=3600' });
    return true;
  };
}
