// Backoff with jitter, and what counts as a failure worth retrying — shared by the data loader and the images.

/** The delay before retry number `attempt` (0-based): exponential, capped, "equal jitter" (half fixed, half random). */
export function backoffDelay(attempt, { base = 500, max = 15000, random = Math.random } = {}) {
  const cap = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + random() * (cap / 2));
}

/** True for a failure the network or a busy server caused (worth retrying); false for a definite answer. */
export function isTransient(err) {
  if (!err) return false;
  if (err instanceof TypeError) return true; // fetch's "Failed to fetch": no answer at all
  if (err.name === 'AuthFailed') return false;
  const status = typeof err.status === 'number' ? err.status : null;
  return status === 0 || status === 408 || status === 429 || (status !== null && status >= 500);
}
