import 'reflect-metadata';
import { Authorized, Field, ObjectType, Query, Resolver } from 'type-graphql';
import { assertEveryRootFieldAuthorized } from './auth-checker';
import { resolvers } from '../services';
import { Role } from '../auth/roles';

describe('start-up authorization checks', () => {
  it('accept the real resolvers', () => {
    expect(() => assertEveryRootFieldAuthorized(resolvers)).not.toThrow();
  });

  it('refuse a root field without @Authorized', () => {
    @Resolver()
    class OpenResolver {
      @Query(() => String)
      open(): string {
        return 'anyone';
      }
    }
    expect(() => assertEveryRootFieldAuthorized([...resolvers, OpenResolver])).toThrow(/missing on: OpenResolver.open/);
  });

  it('refuse @Authorized on an object type field, which simple resolvers would not enforce', () => {
    @ObjectType({ simpleResolvers: true })
    class Secretive {
      @Authorized(Role.ADMIN)
      @Field()
      secret!: string;
    }
    expect(Secretive).toBeDefined();
    expect(() => assertEveryRootFieldAuthorized(resolvers)).toThrow(/not enforced .*Secretive.secret/);
  });
});
