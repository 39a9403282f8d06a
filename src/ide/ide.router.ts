import { Router, type Request, type RequestHandler, type Response } from 'express';
import { ideAssetFiles } from './ide.assets';
import { IDE_CONTENT_SECURITY_POLICY, IDE_CSS, IDE_JS, ideSettings, renderIdePage } from './ide.page';

/** The paths that answer with the IDE, besides GET /graphql for a browser. */
export const IDE_PATHS = ['/graphiql', '/playground'] as const;

/** A browser navigating to /graphql asks for HTML first; GraphQL clients ask for JSON. */
function wantsHtml(req: Request): boolean {
  const accept = req.get('accept') ?? '';
  return accept.includes('text/html') && req.accepts(['text/html', 'application/json', 'application/graphql-response+json']) === 'text/html';
}

function securityHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', IDE_CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
}

/**
 * GraphiQL, served entirely from the gateway: the page at /graphiql and /playground, and at
 * GET /graphql when a browser asks for HTML (a GET carrying a query still goes to Apollo); its
 * files from installed npm packages under /graphiql/assets. Mounted only when GRAPHQL_IDE is on.
 */
export function createIdeRouter(endpoint = '/graphql'): Router {
  const assets = ideAssetFiles();
  const router = Router();

  const page: RequestHandler = (_req, res) => {
    securityHeaders(res);
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(renderIdePage(ideSettings(endpoint, new Date())));
  };

  router.get(endpoint, (req, res, next) => {
    if (req.query.query === undefined && wantsHtml(req)) page(req, res, next);
    else next();
  });
  for (const path of IDE_PATHS) router.get(path, page);

  router.get('/graphiql/assets/:name', (req, res, next) => {
    const name = req.params.name as string;
    securityHeaders(res);
    if (name === 'ide.js' || name === 'ide.css') {
      res.setHeader('Cache-Control', 'no-cache');
      res.type(name === 'ide.js' ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8').send(name === 'ide.js' ? IDE_JS : IDE_CSS);
      return;
    }
    const asset = Object.hasOwn(assets, name) ? assets[name] : undefined;
    if (!asset) {
      next();
      return;
    }
    res.sendFile(asset.file, { headers: { 'Content-Type': asset.contentType }, maxAge: '1h' }, (error) => {
      if (error) next(error);
    });
  });
  return router;
}
