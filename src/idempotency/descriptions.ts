/** Field descriptions shared by the write inputs of every feature. */
/** Every create-like mutation input has an idempotencyKey field. */
export const IDEMPOTENCY_KEY_DESCRIPTION =
  'Makes the mutation safe to retry: the same key (1 to 255 visible ASCII characters, e.g. a UUID) from the same caller within IDEMPOTENCY_TTL_HOURS gets the first answer again and writes nothing; with another input it is a CONFLICT. Same as the Idempotency-Key header.';
/** Shared by every versioned update. */
export const EXPECTED_VERSION_DESCRIPTION =
  'Apply the change only if the row is still at this version (as last read); otherwise CONFLICT with extensions.currentVersion. Without it the change applies to whatever the row is now.';
