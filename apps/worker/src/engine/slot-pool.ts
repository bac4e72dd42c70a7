import { abortError } from "./errors.ts";

interface Waiter<T> {
  resolve: (slot: T) => void;
  reject: (error: unknown) => void;
}

/**
 * A fixed set of slots (a context's sequences) handed out one request each. When all are busy a
 * request waits in arrival order, never fails; its signal takes it out of the line.
 */
export class SlotPool<T> {
  private readonly free: T[];
  private readonly waiters: Waiter<T>[] = [];
  private closedWith: unknown = undefined;

  constructor(slots: readonly T[]) {
    this.free = [...slots];
    this.size = slots.length;
  }

  readonly size: number;

  get busy(): number {
    return this.size - this.free.length;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  acquire(signal?: AbortSignal): Promise<T> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    if (signal?.aborted) return Promise.reject(abortError(signal));
    // Most recently used first: a follow-up request then finds its conversation's prefix cached.
    const slot = this.free.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index !== -1) this.waiters.splice(index, 1);
        reject(abortError(signal!));
      };
      const waiter: Waiter<T> = {
        resolve: (s) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(s);
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(slot: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(slot);
    else this.free.push(slot);
  }

  /** Rejects every waiter and every later acquire with `error`. */
  close(error: unknown): void {
    this.closedWith = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}
