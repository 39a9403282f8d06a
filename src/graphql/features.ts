/**
 * What the features hand to the shared machinery, declared here empty so that graphql/ names no
 * feature: the composition root (src/services.ts) merges the services it built into this
 * interface, and every resolver then finds them typed in `ctx.services`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface GatewayServices {}
