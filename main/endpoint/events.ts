/** A minimal typed event emitter for the endpoints (listeners run synchronously, in order). */

/** Event name → listener argument types. */
export type EventMap = Record<string, unknown[]>;

/** Subscribe with `on`, unsubscribe with the function it returns or `off`. */
export class Emitter<E extends EventMap> {
  private readonly listeners: { [K in keyof E]?: ((...args: E[K]) => void)[] } = {};

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): () => void {
    (this.listeners[event] ??= []).push(listener);
    return () => this.off(event, listener);
  }

  /** Adds a listener called at most once. */
  once<K extends keyof E>(event: K, listener: (...args: E[K]) => void): () => void {
    const off = this.on(event, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  /** Removes a listener. */
  off<K extends keyof E>(event: K, listener: (...args: E[K]) => void): void {
    const list = this.listeners[event];
    if (list === undefined) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  }

  /** Whether anyone listens to `event`. */
  has<K extends keyof E>(event: K): boolean {
    return (this.listeners[event]?.length ?? 0) > 0;
  }

  /** Calls the listeners of `event`; a throwing listener is reported, not propagated. */
  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const list = this.listeners[event];
    if (list === undefined || list.length === 0) return;
    for (const l of list.slice()) {
      try {
        l(...args);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}
