/** Whether a process with this pid exists (signal 0 checks without sending anything); for tests that watch processes go. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
