/**
 * The one source for page sizes. Every list and connection refuses a `first`/`last` above
 * MAX_PAGE_SIZE (an error, not a clamp). When a list is asked without one, it returns the configured
 * default page size (GRAPHQL_DEFAULT_PAGE_SIZE, DEFAULT_PAGE_SIZE unless set), which is also what
 * the cost limit assumes for it.
 */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;
