import { exampleOperations, exampleSubscriptions } from './examples';

/** Where the page loads its files from (served by ide.router.ts). */
export const ASSET_PATH = '/graphiql/assets';

/**
 * Only this origin: scripts are files (no inline code, no eval); the page's settings travel in a
 * JSON data block, which browsers never execute. GraphiQL's stylesheet embeds its fonts and icons
 * as data: URLs. Inline styles are allowed because GraphiQL's dialogs (settings, shortcuts) inject
 * <style> elements whose text varies (so no hash fits); a style cannot load anything from elsewhere,
 * since font-src and img-src stay on this origin.
 */
export const IDE_CSP_DIRECTIVES = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  fontSrc: ["'self'", 'data:'],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
};

/** The placeholder in the headers editor; the page's fetcher drops an Authorization left blank. */
export const DEFAULT_HEADERS = '{\n  "Authorization": "Bearer "\n}';

const WELCOME = `# taskmaster-gateway: GraphiQL, served by the gateway
# itself (works offline). Run: Ctrl-Enter (Cmd-Enter).
# Each tab is a dashboard flow; with the demo data
# (npm run db:seed) they all return data. Docs: book icon.
# Need a token? Fill in "Authorization" in Headers below;
# every tab whose Authorization is left blank uses it too.
# Docs and completion need the schema, which needs the
# token: once it is in, press Shift-Ctrl-R (re-fetch schema).
# The last tab is a subscription: it runs over a WebSocket
# (graphql-ws) and shows each change as it happens.

`;

export interface IdePageSettings {
  endpoint: string;
  /** Every request needs a token (AUTH_ANONYMOUS_READ off): without one the page sends nothing. */
  tokenRequired: boolean;
  defaultHeaders: string;
  tabs: { query: string; variables?: string; headers: string }[];
}

export function ideSettings(endpoint: string, now: Date, tokenRequired = true): IdePageSettings {
  return {
    endpoint,
    tokenRequired,
    defaultHeaders: DEFAULT_HEADERS,
    tabs: [...exampleOperations(now), ...exampleSubscriptions()].map((op, i) => ({
      query: `${i === 0 ? WELCOME : `# ${op.title}\n`}${op.query}\n`,
      ...(op.variables ? { variables: JSON.stringify(op.variables, null, 2) } : {}),
      headers: DEFAULT_HEADERS,
    })),
  };
}

/** JSON that can sit inside a <script> element: no "</script>" or "<!--" can close or confuse it. */
function jsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderIdePage(settings: IdePageSettings): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>taskmaster-gateway · GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ASSET_PATH}/graphiql.min.css">
<link rel="stylesheet" href="${ASSET_PATH}/ide.css">
</head>
<body>
<div id="graphiql"><p class="ide-loading">Loading GraphiQL…</p></div>
<noscript>GraphiQL needs JavaScript. Without it, POST queries to ${escapeHtml(settings.endpoint)} as JSON.</noscript>
<script type="application/json" id="ide-settings">${jsonForHtml(settings)}</script>
<script src="${ASSET_PATH}/react.production.min.js"></script>
<script src="${ASSET_PATH}/react-dom.production.min.js"></script>
<script src="${ASSET_PATH}/graphiql.min.js"></script>
<script src="${ASSET_PATH}/graphql-ws.min.js"></script>
<script src="${ASSET_PATH}/ide.js"></script>
</body>
</html>
`;
}

export const IDE_CSS = `html, body, #graphiql { height: 100%; margin: 0; }
.ide-loading { font: 16px system-ui, sans-serif; padding: 2rem; }
`;

/**
 * The page's own script (served as ide.js, so the CSP needs no inline script): reads the settings
 * block and renders GraphiQL against the gateway's endpoint on this origin.
 */
export const IDE_JS = `(function () {
  'use strict';
  var settings = JSON.parse(document.getElementById('ide-settings').textContent);
  var endpoint = new URL(settings.endpoint, window.location.href).toString();

  // The headers editor starts with an empty "Authorization": "Bearer " to fill in; sent as is,
  // it would be a malformed credential. Headers are per tab: a blank one takes the token last
  // filled in on any tab (kept in memory only), so a token pasted once serves every tab.
  var lastAuthorization = null;
  function blank(auth) { return /^(bearer)?\\s*$/i.test(auth || ''); }
  // Accept names application/json, so that a query GraphQL refuses (a typo in a field) is answered
  // 200 with its errors, as GraphQL over HTTP asks for that type, and shows in the result pane
  // without a failed request in the browser's console.
  function withoutBlankAuthorization(init) {
    var headers = new Headers((init && init.headers) || {});
    headers.set('accept', 'application/json');
    var auth = headers.get('authorization');
    if (auth !== null && blank(auth)) {
      headers.delete('authorization');
      if (lastAuthorization) headers.set('authorization', lastAuthorization);
    } else if (auth !== null) {
      lastAuthorization = auth;
    }
    return Object.assign({}, init, { headers: headers });
  }
  // Without any token, every request would be a 401 (GraphiQL's schema fetch on load among them):
  // say what to do in the result pane instead, without sending anything.
  var NO_TOKEN = JSON.stringify({
    errors: [{
      message: 'No token yet: fill in "Authorization": "Bearer <token>" in Headers below, then run again (Shift-Ctrl-R re-fetches the schema for docs).',
      extensions: { code: 'UNAUTHENTICATED' },
    }],
  });
  function send(url, init) {
    var sent = withoutBlankAuthorization(init);
    if (settings.tokenRequired && !sent.headers.has('authorization'))
      return Promise.resolve(new Response(NO_TOKEN, { status: 200, headers: { 'content-type': 'application/json' } }));
    return window.fetch(url, sent);
  }

  // Subscriptions go over graphql-ws on the same origin and path. The socket's connection_init
  // carries the Authorization header of the tab that runs the subscription (or the last token, as
  // above, when it is blank); it is opened per
  // subscription run (lazy) and closed when none runs, so a changed token is used next time.
  var latestHeaders = {};
  var wsClient = graphqlWs.createClient({
    url: endpoint.replace(/^http/, 'ws'),
    lazy: true,
    retryAttempts: 0,
    connectionParams: function () {
      // A blank Authorization takes the token filled in on another tab, as over HTTP.
      var auth = latestHeaders.Authorization || latestHeaders.authorization || '';
      if (blank(auth)) auth = lastAuthorization || '';
      else lastAuthorization = auth;
      return blank(auth) ? {} : { Authorization: auth };
    },
  });
  var baseFetcher = GraphiQL.createFetcher({
    url: endpoint,
    wsClient: wsClient,
    enableIncrementalDelivery: false,
    fetch: send,
  });
  // Right after the text changes (a rename, a fresh query typed over the old one), GraphiQL may
  // still send the tab's old operationName, which names nothing in the document (a 400). With one
  // operation in the document, that is the one run: by its name, or by none when it is anonymous.
  // The operations, in order: a name, or null for an anonymous one (top-level braces, strings,
  // comments and argument lists told apart; fragments are not operations).
  function operations(query) {
    var text = query.replace(/"""[\\s\\S]*?"""|"(?:[^"\\\\\\n]|\\\\.)*"|#[^\\n]*/g, ' ');
    var tokens = text.match(/[{}()@]|[_A-Za-z][_0-9A-Za-z]*/g) || [];
    var ops = [];
    var depth = 0;
    var parens = 0;
    var started = false;
    for (var i = 0; i < tokens.length; i++) {
      var token = tokens[i];
      if (token === '(') parens++;
      else if (token === ')') parens--;
      else if (parens > 0) continue;
      else if (token === '{') {
        if (depth === 0 && !started) ops.push(null);
        depth++;
      } else if (token === '}') {
        depth--;
        if (depth === 0) started = false;
      } else if (depth === 0 && !started && /^(query|mutation|subscription|fragment)$/.test(token)) {
        started = true;
        var next = tokens[i + 1];
        if (token !== 'fragment') ops.push(next && /^[_A-Za-z]/.test(next) ? next : null);
      }
    }
    return ops;
  }
  function fetcher(params, options) {
    latestHeaders = (options && options.headers) || {};
    if (params.operationName && typeof params.query === 'string') {
      var ops = operations(params.query);
      if (ops.indexOf(params.operationName) < 0 && ops.length === 1) {
        params = Object.assign({}, params);
        if (ops[0]) params.operationName = ops[0];
        else delete params.operationName;
      }
    }
    return baseFetcher(params, options);
  }

  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultTabs: settings.tabs,
      defaultHeaders: settings.defaultHeaders,
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      // Tokens stay in the tab; they are not written to localStorage.
      shouldPersistHeaders: false,
    }),
  );
})();
`;
