/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { DEMO_TASK_ID } from '../src/seed/demo-ids';
import { seedDemoData } from '../src/seed/seed';
import { launchChromium, type TestBrowser } from './support/browser';
import { startTestGateway, type TestGateway } from './support/gateway';

/** The element of a CodeMirror 5 editor: GraphiQL 3 keeps the editor instance on it. */
type CodeMirrorHost = Element & { CodeMirror: { getValue(): string; setValue(value: string): void } };

/**
 * A real Chromium opens the IDE, runs a query and reads the answer from the page, while every
 * request the page makes is recorded: all of them must go to the gateway's own origin.
 */
let t: TestGateway;
let browser: TestBrowser;
beforeAll(async () => {
  t = await startTestGateway();
  await seedDemoData(t.gateway.dataSource);
  browser = await launchChromium();
}, 120_000);
/** A second browser with a new profile (the last test's), closed even when that test fails. */
let fresh: TestBrowser | undefined;
afterAll(async () => {
  await fresh?.close();
  await browser?.close();
  await t?.close();
});

/** The text of the CodeMirror editors inside the elements matching `selector`, one after another. */
/** Waits until GraphiQL's result pane shows an answer (data or errors). */
async function resultShown(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const value = document.querySelector<CodeMirrorHost>('.result-window .CodeMirror')?.CodeMirror.getValue() ?? '';
      return value.includes('"data"') || value.includes('"errors"');
    },
    undefined,
    { timeout: 30_000 },
  );
}

function editorText(page: Page, selector: string): Promise<string> {
  return page.evaluate(
    (sel) => [...document.querySelectorAll(`${sel} .CodeMirror`)].map((e) => (e as any).CodeMirror.getValue() as string).join('\n'),
    selector,
  );
}

it('opens GraphiQL at /graphql, runs a query from the page, and never leaves the origin', async () => {
  const requests: string[] = [];
  const problems: string[] = [];
  browser.context.on('request', (request) => requests.push(request.url()));
  const page = await browser.context.newPage();
  const sockets: string[] = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  // A violation of the page's Content-Security-Policy is an event; collect them all.
  await page.addInitScript(() => {
    (window as any).__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as any).__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });

  const response = await page.goto(`${t.baseUrl}/graphql`);
  expect(response?.headers()['content-type']).toMatch(/^text\/html/);
  await page.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror', { timeout: 30_000 });

  // The example operations are there as tabs, and the headers editor offers Authorization.
  const tabs = await page.locator('.graphiql-tab').allInnerTexts();
  expect(tabs.map((s) => s.trim())).toEqual(
    expect.arrayContaining(['TaskBoard', 'TaskDetail', 'LatencyChart', 'CreateTask', 'StartTask', 'TaskBoardLive']),
  );
  expect(await editorText(page, '.graphiql-editor-tool')).toContain('"Authorization": "Bearer "');

  // Every request needs a token: fill in the offered Authorization header, as a user would.
  await page.evaluate((token) => {
    const editors = [...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')].map((e) => (e as any).CodeMirror);
    const headers = editors.find((editor) => editor.getValue().includes('"Authorization"'));
    headers.setValue(JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2));
  }, t.adminToken);
  expect(await editorText(page, '.graphiql-editor-tool')).toContain(`"Authorization": "Bearer ${t.adminToken}"`);

  await page.evaluate((id) => {
    const editor = document.querySelector<CodeMirrorHost>('.graphiql-query-editor .CodeMirror')!.CodeMirror;
    editor.setValue(`query OpenTask { task(id: "${id}") { id title status } }`);
  }, DEMO_TASK_ID);
  // GraphiQL reads the operation name from the edited text a moment after the change.
  await page.waitForTimeout(500);
  await page.click('.graphiql-execute-button');
  await resultShown(page);
  const origin = new URL(t.baseUrl).origin;
  const result = JSON.parse(await editorText(page, '.result-window'));
  expect(result.data).toEqual({
    task: { id: DEMO_TASK_ID, title: 'Dashboard: task board with filters and paging', status: 'IN_PROGRESS' },
  });
  expect(result.errors).toBeUndefined();

  // The subscription tab runs over graphql-ws (the gateway's own graphql-ws.min.js): a task created
  // meanwhile shows up in the result pane.
  await page.locator('.graphiql-tab', { hasText: 'TaskBoardLive' }).click();
  await page.evaluate((token) => {
    const editors = [...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')].map((e) => (e as any).CodeMirror);
    editors
      .find((editor) => editor.getValue().includes('"Authorization"'))
      .setValue(JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2));
  }, t.adminToken);
  await page.waitForTimeout(500);
  await page.click('.graphiql-execute-button');
  const until = Date.now() + 15_000;
  let created = '';
  while (Date.now() < until) {
    // The subscription may still be starting: keep creating tasks until one is shown.
    const res = await t.gql(`mutation { createTask(input: { title: "seen live in the IDE", priority: 1 }) { id } }`);
    created = res.body.data.createTask.id;
    await page.waitForTimeout(300);
    const shown = await editorText(page, '.result-window');
    if (shown.includes(created)) break;
  }
  const live = JSON.parse(await editorText(page, '.result-window'));
  expect(live.data.taskChanged).toMatchObject({
    operation: 'CREATED',
    taskId: created,
    task: { title: 'seen live in the IDE', status: 'PENDING' },
  });
  expect(sockets).toEqual([`${origin.replace(/^http/, 'ws')}/graphql`]);
  await page.click('.graphiql-execute-button'); // stops the subscription

  // The documentation explorer and the dialogs load nothing from elsewhere either.
  for (const label of ['Show Documentation Explorer', 'Open settings dialog', 'Open short keys dialog']) {
    await page.click(`[aria-label="${label}"]`);
    await page.waitForTimeout(300);
    await page.keyboard.press('Escape');
  }

  mkdirSync(join(__dirname, '..', '.data'), { recursive: true });
  await page.screenshot({ path: join(__dirname, '..', '.data', 'ide-test.png') });

  expect(requests.length).toBeGreaterThanOrEqual(7); // the page, 6 assets, and the GraphQL calls
  expect(requests.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin)).toEqual([]);
  expect(requests).toEqual(
    expect.arrayContaining([
      `${origin}/graphiql/assets/graphiql.min.js`,
      `${origin}/graphiql/assets/graphql-ws.min.js`,
      `${origin}/graphql`,
    ]),
  );
  expect(await page.evaluate(() => (window as any).__cspViolations)).toEqual([]);
  // GraphiQL's schema fetch on load, before a token is filled in, is answered by the page itself
  // (no 401 in the console); nothing the page asks for fails.
  expect(problems).toEqual([]);
  await page.close();
}, 120_000);

/** The result pane's text once the next GraphQL response (not introspection) has arrived after `act`. */
async function runAndRead(page: Page, act: () => Promise<void>): Promise<{ status: number; result: any }> {
  const response = page.waitForResponse(
    (r) => r.url().endsWith('/graphql') && r.request().method() === 'POST' && !/IntrospectionQuery/.test(r.request().postData() ?? ''),
    { timeout: 30_000 },
  );
  await act();
  const status = (await response).status();
  await resultShown(page);
  await page.waitForTimeout(100);
  return { status, result: JSON.parse(await editorText(page, '.result-window')) };
}

/** Replaces the query editor's text as a person does: click in it, select all, type. */
async function typeQuery(page: Page, text: string): Promise<void> {
  await page.click('.graphiql-query-editor .CodeMirror');
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(text);
}

/** Clears the result pane, so that the next answer shown is the next one received. */
function clearResult(page: Page): Promise<void> {
  return page.evaluate(() => document.querySelector<CodeMirrorHost>('.result-window .CodeMirror')!.CodeMirror.setValue(''));
}

function setQuery(page: Page, text: string): Promise<void> {
  return page.evaluate(
    (value) => document.querySelector<CodeMirrorHost>('.graphiql-query-editor .CodeMirror')!.CodeMirror.setValue(value),
    text,
  );
}

it('as a person uses it: token pasted, every prefilled tab run, a new tab, a renamed operation, a refused query: data or a GraphQL error, no failed request', async () => {
  const statuses: number[] = [];
  // A new profile: GraphiQL keeps tabs in localStorage, and the test above edited one.
  fresh = await launchChromium();
  const page = await fresh.context.newPage();
  page.on('response', (r) => {
    if (r.url().endsWith('/graphql') && r.request().method() === 'POST') statuses.push(r.status());
  });
  await page.goto(`${t.baseUrl}/graphql`);
  await page.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror', { timeout: 30_000 });
  // Before a token: the page says what to do.
  expect(await editorText(page, '.graphiql-query-editor')).toMatch(/Fill in "Authorization" in Headers below/);
  await page.evaluate((token) => {
    const editors = [...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')].map((e) => (e as any).CodeMirror);
    editors
      .find((editor) => editor.getValue().includes('"Authorization"'))
      .setValue(JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2));
  }, t.adminToken);
  // GraphiQL takes an edit into the tab's state a moment later (debounced): run the first tab until
  // the token goes out with it, as a person would press Run again. Without it, the page answers
  // itself (UNAUTHENTICATED, saying what to do) and sends nothing.
  let sent = false;
  for (let attempt = 0; attempt < 20 && !sent; attempt++) {
    await page.waitForTimeout(300);
    await page.evaluate(() => document.querySelector<CodeMirrorHost>('.result-window .CodeMirror')!.CodeMirror.setValue(''));
    await page.click('.graphiql-execute-button');
    await page.waitForFunction(() =>
      /"(data|errors)"/.test(document.querySelector<CodeMirrorHost>('.result-window .CodeMirror')!.CodeMirror.getValue()),
    );
    const shown = JSON.parse(await editorText(page, '.result-window'));
    if (shown.errors)
      expect(shown.errors[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' }, message: expect.stringMatching(/Headers below/) });
    sent = shown.data !== undefined;
  }
  expect(sent).toBe(true);

  // The first tab (TaskBoard) replaced by typing a fresh anonymous query, run at once: GraphiQL
  // still sends operationName "TaskBoard"; the page drops a name the document lacks.
  const firstTab = page.locator('.graphiql-tab').first();
  await clearResult(page);
  const typed = await runAndRead(page, async () => {
    await typeQuery(page, '{ __typename');
    expect((await editorText(page, '.graphiql-query-editor')).trim()).toBe('{ __typename}'); // the bracket closed itself
    await page.click('.graphiql-execute-button');
  });
  expect([typed.status, typed.result]).toEqual([200, { data: { __typename: 'Query' }, extensions: expect.anything() }]);
  // Typed into a rename, run at once; then to another tab and back, and run again.
  await clearResult(page);
  const typedRename = await runAndRead(page, async () => {
    await typeQuery(page, 'query MyBoard { tasks(first: 1) { totalCount');
    await page.click('.graphiql-execute-button');
  });
  expect(typedRename.status).toBe(200);
  expect(typedRename.result.data.tasks.totalCount).toBeGreaterThan(0);
  expect((await firstTab.innerText()).trim()).toBe('MyBoard');
  await page.locator('.graphiql-tab').nth(1).locator('button').first().click();
  await page.waitForTimeout(300);
  await firstTab.locator('button').first().click();
  await page.waitForTimeout(300);
  expect(await editorText(page, '.graphiql-query-editor')).toContain('query MyBoard');
  await clearResult(page);
  const back = await runAndRead(page, () => page.click('.graphiql-execute-button'));
  expect(back.status).toBe(200);
  expect(back.result.data.tasks.totalCount).toBeGreaterThan(0);

  const tabCount = await page.locator('.graphiql-tab').count();
  expect(tabCount).toBeGreaterThanOrEqual(5);
  const outcomes: string[] = [];
  for (let i = 0; i < tabCount; i++) {
    await page.locator('.graphiql-tab').nth(i).locator('button').first().click();
    await page.waitForTimeout(300);
    const name = (await page.locator('.graphiql-tab').nth(i).innerText()).trim();
    // The subscription tab answers over the WebSocket, not a POST; its Authorization is blank, so
    // the socket uses the token filled in on the first tab, as requests over HTTP do.
    if (/^\s*(#.*\n\s*)*subscription\b/.test(await editorText(page, '.graphiql-query-editor'))) {
      await page.click('.graphiql-execute-button');
      // The subscription may still be starting: keep creating tasks until one is shown.
      let created = '';
      for (let tries = 0; tries < 50; tries++) {
        created = (await t.gql(`mutation { createTask(input: { title: "live, token from another tab" }) { id } }`)).body.data.createTask.id;
        await page.waitForTimeout(300);
        if ((await editorText(page, '.result-window')).includes(created)) break;
      }
      expect(JSON.parse(await editorText(page, '.result-window')).data.taskChanged.taskId).toBe(created);
      await page.click('.graphiql-execute-button'); // stops it
      outcomes.push(`${name}: 200 data`);
      continue;
    }
    const { status, result } = await runAndRead(page, () => page.click('.graphiql-execute-button'));
    outcomes.push(`${name}: ${status} ${result.errors ? result.errors.map((e: any) => e.extensions?.code).join(',') : 'data'}`);
    expect([name, status === 500, result.data !== undefined || Array.isArray(result.errors)]).toEqual([name, false, true]);
  }
  // Every prefilled tab returns data on the demo data.
  expect(outcomes.filter((o) => !/: 200 data$/.test(o))).toEqual([]);

  // A new tab, a fresh query.
  await page.click('[aria-label="Add tab"]');
  await page.waitForTimeout(300);
  await setQuery(page, '{ __typename tasks(first: 1) { totalCount } }');
  await page.waitForTimeout(500);
  const newTab = await runAndRead(page, () => page.click('.graphiql-execute-button'));
  expect(newTab.status).toBe(200);
  expect(newTab.result.data.__typename).toBe('Query');

  // Rename the operation of the first tab and run at once (GraphiQL may still send the old name),
  // then again: a GraphQL error or data, never a 500.
  await page.locator('.graphiql-tab').first().locator('button').first().click();
  await page.waitForTimeout(300);
  const renamed = await runAndRead(page, async () => {
    await setQuery(page, 'query RenamedBoard { tasks(first: 2) { nodes { id title } } }');
    await page.click('.graphiql-execute-button');
  });
  // The page sends the document's one operation, whatever name GraphiQL still had for it.
  expect(renamed.status).toBe(200);
  expect(renamed.result.data.tasks.nodes).toHaveLength(2);
  await page.waitForTimeout(500);
  const again = await runAndRead(page, () => page.click('.graphiql-execute-button'));
  expect(again.status).toBe(200);
  expect(again.result.data.tasks.nodes).toHaveLength(2);

  // A query GraphQL refuses is shown with its errors, answered 200 (the page asks for application/json).
  await setQuery(page, '{ viewer { noSuchField } }');
  await page.waitForTimeout(500);
  const refused = await runAndRead(page, () => page.click('.graphiql-execute-button'));
  expect(refused.status).toBe(200);
  expect(refused.result.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');

  expect(statuses.filter((s) => s >= 400)).toEqual([]);
}, 180_000);
