import { QueryRunnerAlreadyReleasedError } from 'typeorm';
import { isConnectionLost } from './writes';

describe('isConnectionLost', () => {
  it('counts a runner TypeORM released after its connection failed (found stopping the database under keyed writes: INTERNAL_SERVER_ERROR)', () => {
    expect(isConnectionLost(new QueryRunnerAlreadyReleasedError())).toBe(true);
    expect(isConnectionLost(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isConnectionLost(new Error('duplicate key value violates unique constraint'))).toBe(false);
  });
});
