import { readFile } from 'node:fs/promises';
import helmet from 'helmet';
import { preferredType, sendText, type HttpRequest, type HttpResponse, type Route } from '../http/respond';
import { ideAssetFiles } from './ide.assets';
import { IDE_CSP_DIRECTIVES, IDE_CSS, IDE_JS, ideSettings, renderIdePage } from './ide.page';

/** The paths that answer with the IDE, besides GET /graphql for a browser. */
export const IDE_PATHS = ['/graphiql', '/playground'] as const;

/** A browser navigating to /graphql asks for HTML first; GraphQL clients ask for JSON. */
function wantsHtml(req: HttpRequest): boolean {
  const accept = req.headers.accept ?? '';
  return (
    accept.includes('text/html') &&
    preferredType(req, ['text/html', 'application/json', 'application/graphql-response+json']) === 'text/html'
  );
}

/**
 * helmet's headers with the page's own CSP, on every IDE response (also with SECURITY_HEADERS off).
 * HSTS is left to the API's headers, which send it in production only.
 */
const ideHeaders = helmet({
  contentSecurityPolicy: { useDefaults: false, directives: IDE_CSP_DIRECTIVES },
  xFrameOptions: { action: 'deny' },
  strictTransportSecurity: false,
});

/**
 * GraphiQL, served entirely from the gateway: the page at /graphiql and /playground, and at
 * GET /graphql when a browser asks for HTML (a GET carrying a query still goes to Apollo); its
 * files from installed npm packages under /graphiql/assets. Mounted only when GRAPHQL_IDE is on.
 */
export function createIdeRoute({
  endpoint = '/graphql',
  tokenRequired = true,
}: { endpoint?: string; tokenRequired?: boolean } = {}): Route {
  const assets = ideAssetFiles();
  const send = (req: HttpRequest, res: HttpResponse, contentType: string, body: string | Buffer, cacheControl: string) => {
    ideHeaders(req, res, () => {});
    sendText(res, 200, contentType, body, { 'Cache-Control': cacheControl });
  };

  return async (req, res, url) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = url.pathname;
    if ((path === endpoint && !url.searchParams.has('query') && wantsHtml(req)) || (IDE_PATHS as readonly string[]).includes(path)) {
      send(req, res, 'text/html; charset=utf-8', renderIdePage(ideSettings(endpoint, new Date(), tokenRequired)), 'no-store');
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
      send(
        req,
        res,
        name === 'ide.js' ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8',
        name === 'ide.js' ? IDE_JS : IDE_CSS,
        'no-cache',
      );
      return true;
    }
    const asset = Object.hasOwn(assets, name) ? assets[name] : undefined;
    if (!asset) return false;
    send(req, res, asset.contentType, await readFile(asset.file), 'public, max-age=3600');
    return true;
  };
}
