/**
 * Runs cleanup steps in order, each one even when an earlier one failed, then throws the first
 * failure (if any). Owners' close() use it so that one stuck resource never leaks the rest.
 */
export async function closeAll(steps: Array<() => Promise<unknown> | unknown>): Promise<void> {
  let firstError: unknown;
  let failed = false;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      if (!failed) firstError = error;
      failed = true;
    }
  }
  if (failed) throw firstError;
}
