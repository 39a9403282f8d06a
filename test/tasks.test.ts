import { startTestGateway, type TestGateway } from './support/gateway';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t.close());

const TASK_FIELDS =
  'id title description type status priority complexityScore requirements acceptanceCriteria parentTaskId assignedTo createdAt updatedAt completedAt metadata';

async function createTask(input: Record<string, unknown>) {
  const res = await t.gql(`mutation($input: CreateTaskInput!) { createTask(input: $input) { ${TASK_FIELDS} } }`, { input });
  expect(res.body.errors).toBeUndefined();
  return res.body.data.createTask;
}

describe('tasks', () => {
  it('creates a task with the original design defaults and stores it in snake_case columns', async () => {
    const task = await createTask({ title: 'Implement login', requirements: { auth: 'oauth2' }, assignedTo: 'dev@example.com' });
    expect(task).toMatchObject({
      title: 'Implement login',
      type: 'general',
      status: 'PENDING',
      priority: 0,
      complexityScore: 5,
      requirements: { auth: 'oauth2' },
      acceptanceCriteria: [],
      metadata: {},
      parentTaskId: null,
      completedAt: null,
    });
    expect(new Date(task.createdAt).toISOString()).toBe(task.createdAt);

    const [row] = await t.db.query('SELECT * FROM tasks WHERE id = $1', [task.id]);
    expect(row).toMatchObject({
      title: 'Implement login',
      status: 'pending',
      assigned_to: 'dev@example.com',
      requirements: { auth: 'oauth2' },
    });
  });

  it('reads a task by id and lists the newest first', async () => {
    const a = await createTask({ title: 'first' });
    const b = await createTask({ title: 'second' });
    const one = await t.gql(`query($id: UUID!) { task(id: $id) { id title } }`, { id: a.id });
    expect(one.body.data.task).toEqual({ id: a.id, title: 'first' });

    const list = await t.gql(`{ tasks(first: 2) { nodes { id } } }`);
    expect(list.body.data.tasks.nodes.map((x: any) => x.id)).toEqual([b.id, a.id]);

    const missing = await t.gql(`{ task(id: "00000000-0000-4000-8000-000000000000") { id } }`);
    expect(missing.body.errors).toBeUndefined();
    expect(missing.body.data).toEqual({ task: null });
  });

  it('links subtasks to their parent and resolves parent through a loader', async () => {
    const parent = await createTask({ title: 'parent' });
    const child = await createTask({ title: 'child', parentTaskId: parent.id });
    const res = await t.gql(`query($id: UUID!) { task(id: $id) { parentTaskId parent { id title } } }`, { id: child.id });
    expect(res.body.data.task).toEqual({ parentTaskId: parent.id, parent: { id: parent.id, title: 'parent' } });
  });

  it('updates only the given fields and clears nullable ones on null', async () => {
    const task = await createTask({ title: 'to update', description: 'old', priority: 3 });
    const res = await t.gql(`mutation($input: UpdateTaskInput!) { updateTask(input: $input) { title description priority updatedAt } }`, {
      input: { id: task.id, description: null, priority: 9 },
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.updateTask).toMatchObject({ title: 'to update', description: null, priority: 9 });
    const [row] = await t.db.query('SELECT description, priority FROM tasks WHERE id = $1', [task.id]);
    expect(row).toEqual({ description: null, priority: 9 });
  });

  it('moves status along the state machine, setting and clearing completedAt', async () => {
    const task = await createTask({ title: 'lifecycle' });
    const move = (status: string) =>
      t.gql(`mutation($input: UpdateTaskInput!) { updateTask(input: $input) { status completedAt } }`, { input: { id: task.id, status } });

    expect((await move('IN_PROGRESS')).body.data.updateTask).toEqual({ status: 'IN_PROGRESS', completedAt: null });
    const failed = (await move('FAILED')).body.data.updateTask;
    expect(failed.status).toBe('FAILED');
    expect(failed.completedAt).not.toBeNull();
    expect((await move('PENDING')).body.data.updateTask).toEqual({ status: 'PENDING', completedAt: null });
    await move('IN_PROGRESS');
    expect((await move('COMPLETED')).body.data.updateTask.status).toBe('COMPLETED');

    const illegal = await move('PENDING');
    expect(illegal.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'status', allowed: [] });
    const [row] = await t.db.query('SELECT status FROM tasks WHERE id = $1', [task.id]);
    expect(row.status).toBe('completed');
  });

  it('deletes a task with its executions, and refuses one that has subtasks', async () => {
    const parent = await createTask({ title: 'parent to delete' });
    const child = await createTask({ title: 'child', parentTaskId: parent.id });
    await t.gql(`mutation($input: StartExecutionInput!) { startExecution(input: $input) { id } }`, {
      input: { taskId: child.id, agentType: 'codegen' },
    });

    const refused = await t.gql(`mutation($id: UUID!) { deleteTask(input: { id: $id }) { id } }`, { id: parent.id });
    expect(refused.body.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(await t.db.query('SELECT id FROM tasks WHERE id = $1', [parent.id])).toHaveLength(1);

    const deleted = await t.gql(`mutation($id: UUID!) { deleteTask(input: { id: $id }) { id title } }`, { id: child.id });
    expect(deleted.body.data.deleteTask).toEqual({ id: child.id, title: 'child' });
    expect(await t.db.query('SELECT id FROM task_executions WHERE task_id = $1', [child.id])).toHaveLength(0);
    expect((await t.gql(`mutation($id: UUID!) { deleteTask(input: { id: $id }) { id } }`, { id: parent.id })).body.errors).toBeUndefined();
  });

  it('refuses to make a task its own ancestor', async () => {
    const a = await createTask({ title: 'a' });
    const b = await createTask({ title: 'b', parentTaskId: a.id });
    const res = await t.gql(`mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id } }`, {
      input: { id: a.id, parentTaskId: b.id },
    });
    expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parentTaskId' });
    const [row] = await t.db.query('SELECT parent_task_id FROM tasks WHERE id = $1', [a.id]);
    expect(row.parent_task_id).toBeNull();
  });
});
