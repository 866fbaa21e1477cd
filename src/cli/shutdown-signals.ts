/** The signals that stop the gateway. */
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * A second signal this soon after the first is the same request delivered twice, not an
 * impatient operator: a Ctrl-C on `npm start` reaches the gateway from the terminal (the whole
 * foreground process group) and again from npm, which forwards SIGINT and SIGTERM to its script.
 */
export const REPEAT_WINDOW_MS = 500;

export interface ShutdownHandlers {
  /** The first signal: drain, then exit 0. */
  drain(signal: NodeJS.Signals): void;
  /** A later signal, during the drain: exit now. */
  exitNow(signal: NodeJS.Signals): void;
}

/**
 * One listener per signal for the life of the process: the first SIGTERM or SIGINT drains, a
 * second one (after `REPEAT_WINDOW_MS`) exits at once. Returns a function removing the listeners.
 *
 * @example onShutdownSignals({ drain: (s) => void shutdown(s), exitNow: () => process.exit(1) })
 */
export function onShutdownSignals(handlers: ShutdownHandlers, now: () => number = () => performance.now()): () => void {
  let firstAt: number | null = null;
  const listener = (signal: NodeJS.Signals): void => {
    const at = now();
    if (firstAt === null) {
      firstAt = at;
      handlers.drain(signal);
    } else if (at - firstAt >= REPEAT_WINDOW_MS) {
      handlers.exitNow(signal);
    }
  };
  for (const signal of SIGNALS) process.on(signal, listener);
  return () => SIGNALS.forEach((signal) => process.off(signal, listener));
}
