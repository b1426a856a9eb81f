import type { Log } from '../functions/core/ports.js';

export interface DailyScheduleOptions {
  /** `HH:MM` (UTC), or `off`. */
  time: string;
  /** The daily-notice function; a rejection asks for a retry, as a failed Lambda invocation does. */
  run: () => Promise<unknown>;
  /** Delays of the retries after a failed run (EventBridge Scheduler's retry policy). */
  retryDelaysMs?: number[];
  log: Log;
  now?: () => Date;
  /**
   * When started after today's time: run once now. The daily-notice function sends each cluster
   * one notice per day, so this sends only what today's run (or its retries, which do not
   * survive a restart) did not: a notice is late rather than skipped.
   */
  catchUp?: boolean;
}

const DEFAULT_RETRY_DELAYS_MS = [60_000, 5 * 60_000, 15 * 60_000];

/**
 * The embedded runtime's stand-in for the EventBridge schedule: runs once a day at `HH:MM`
 * UTC, and retries a failed run like the schedule's retry policy. The timers do not keep the
 * process alive on their own.
 */
export class LocalDailySchedule {
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;
  next: Date | undefined;

  constructor(private readonly options: DailyScheduleOptions) {
    if (options.time === 'off') return;
    const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(options.time);
    if (!match) throw new Error(`DAILY_NOTICE_TIME must be HH:MM (UTC) or "off", not "${options.time}"`);
    const [hour, minute] = [Number(match[1]), Number(match[2])];
    if (options.catchUp) {
      const now = options.now?.() ?? new Date();
      const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hour, minute);
      if (now.getTime() > today) this.attempt(0);
    }
    this.schedule(hour, minute);
  }

  private schedule(hour: number, minute: number): void {
    const now = this.options.now?.() ?? new Date();
    const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hour, minute));
    if (next.getTime() <= now.getTime()) next.setUTCDate(next.getUTCDate() + 1);
    this.next = next;
    this.timer = setTimeout(() => {
      this.attempt(0);
      this.schedule(hour, minute);
    }, next.getTime() - now.getTime());
    this.timer.unref();
  }

  private attempt(retriesDone: number): void {
    const delays = this.options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    const run = this.options.run();
    this.inFlight = run.then(
      () => undefined,
      () => undefined,
    );
    run.catch((error: unknown) => {
      if (this.stopped) return;
      const delay = delays[retriesDone];
      if (delay === undefined) {
        this.options.log.error('Daily notice run failed; no retries left', error as Error);
        return;
      }
      this.options.log.warn('Daily notice run failed; retrying', {
        retryInMs: delay,
        error: (error as Error).message,
      });
      this.retry = setTimeout(() => this.attempt(retriesDone + 1), delay);
      this.retry.unref();
    });
  }

  /** Stops the timers, and waits for a run in progress to finish (its sends are under way). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.retry) clearTimeout(this.retry);
    this.timer = undefined;
    this.retry = undefined;
    this.next = undefined;
    await this.inFlight;
  }
}
