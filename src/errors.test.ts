import { QueryFailedError, QueryRunnerAlreadyReleasedError } from 'typeorm';
import { BadInputError, connectionFailure, domainError, sqlState } from './errors';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('connectionFailure', () => {
  it('counts a runner TypeORM released after its connection failed (found stopping the database under keyed writes: INTERNAL_SERVER_ERROR)', () => {
    expect(connectionFailure(new QueryRunnerAlreadyReleasedError())).toBe('lost');
    expect(connectionFailure(pgError('57P01', 'terminating connection due to administrator command'))).toBe('lost');
    expect(connectionFailure(new Error('duplicate key value violates unique constraint'))).toBeUndefined();
  });

  it('tells nothing sent (refused, starting up, pool wait) from a connection lost under a statement', () => {
    expect(connectionFailure(pgError('ECONNREFUSED'))).toBe('unreachable');
    expect(connectionFailure(pgError('57P03', 'the database system is starting up'))).toBe('unreachable');
    expect(connectionFailure(new Error('timeout exceeded when trying to connect'))).toBe('saturated');
    expect(connectionFailure(new Error('Connection terminated due to connection timeout'))).toBe('unreachable');
    expect(connectionFailure(new Error('Connection terminated unexpectedly'))).toBe('lost');
    expect(connectionFailure(new QueryFailedError('SELECT 1', [], pgError('08006')))).toBe('lost');
    expect(connectionFailure(new Error('Cannot use a pool after calling end on the pool'))).toBe('closed');
    expect(connectionFailure(pgError('28P01', 'password authentication failed'))).toBeUndefined();
  });
});

describe('domainError', () => {
  it('maps SQLSTATEs and connection failures, keeps domain errors, and leaves the unexpected alone', () => {
    expect(domainError(new QueryFailedError('INSERT', [], pgError('23505')))).toMatchObject({ code: 'CONFLICT' });
    expect(domainError(pgError('57014', 'canceling statement due to statement timeout'))).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(domainError(pgError('ECONNRESET'))?.message).toBe('The database is unavailable; retry later.');
    const input = new BadInputError('title', 'too long');
    expect(domainError(input)).toBe(input);
    expect(domainError(new TypeError('x is undefined'))).toBeUndefined();
    expect(sqlState(pgError('EPERM'))).toBeUndefined();
  });
});
