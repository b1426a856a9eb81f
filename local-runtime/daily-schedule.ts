import type { Log } from '../functions/core/ports.js';

/**
 * The embedded runtime's stand-in for the EventBridge schedule: runs once a day at `HH:MM`
 * UTC. The timer does not keep the process alive on its own.
 */
export class DailySchedule {
  private timer: NodeJS.Timeout | undefined;
  next: Date | undefined;

  constructor(
    private readonly options: { time: string; run: () => Promise<unknown>; log: Log; now?: () => Date },
  ) {
    if (options.time === 'off') return;
    const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(options.time);
    if (!match) throw new Error(`DAILY_NOTICE_TIME must be HH:MM (UTC) or "off", not "${options.time}"`);
    this.schedule(Number(match[1]), Number(match[2]));
  }

  private schedule(hour: number, minute: number): void {
    const now = this.options.now?.() ?? new Date();
    const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hour, minute));
    if (next.getTime() <= now.getTime()) next.setUTCDate(next.getUTCDate() + 1);
    this.next = next;
    this.timer = setTimeout(() => {
      this.options
        .run()
        .catch((error: unknown) => this.options.log.error('Daily notice run failed', error as Error))
        .finally(() => this.schedule(hour, minute));
    }, next.getTime() - now.getTime());
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.next = undefined;
  }
}
