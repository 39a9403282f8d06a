import { dirname, join } from 'node:path';

/**
 * The files the IDE page loads, all from installed npm packages (nothing from a CDN). Only these
 * names are served: the URL never reaches the file system.
 */
function packageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

export interface IdeAsset {
  file: string;
  contentType: string;
}

export function ideAssetFiles(): Readonly<Record<string, IdeAsset>> {
  const graphiql = packageDir('graphiql');
  const react = packageDir('react');
  const reactDom = packageDir('react-dom');
  const graphqlWs = packageDir('graphql-ws');
  const js = 'text/javascript; charset=utf-8';
  return Object.freeze({
    // graphiql.min.js is the same file as dist/index.umd.js, whose source map it names.
    'graphiql.min.js': { file: join(graphiql, 'graphiql.min.js'), contentType: js },
    'index.umd.js.map': { file: join(graphiql, 'dist', 'index.umd.js.map'), contentType: 'application/json; charset=utf-8' },
    'graphiql.min.css': { file: join(graphiql, 'graphiql.min.css'), contentType: 'text/css; charset=utf-8' },
    'react.production.min.js': { file: join(react, 'umd', 'react.production.min.js'), contentType: js },
    'react-dom.production.min.js': { file: join(reactDom, 'umd', 'react-dom.production.min.js'), contentType: js },
    // graphql-ws's browser client (global `graphqlWs`): GraphiQL runs subscriptions through it.
    'graphql-ws.min.js': { file: join(graphqlWs, 'umd', 'graphql-ws.min.js'), contentType: js },
  });
}
