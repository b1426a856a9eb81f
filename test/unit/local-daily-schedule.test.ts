import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { LocalDailySchedule } from '../../local-runtime/daily-schedule.js';

const NOW = new Date('2026-11-28T07:59:00.000Z');
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe('the embedded runtime daily schedule', () => {
  let schedule: LocalDailySchedule | undefined;
  beforeEach(() => {
    jest.useFakeTimers({ now: NOW });
  });
  afterEach(async () => {
    await schedule?.stop();
    jest.useRealTimers();
  });

  it('runs at HH:MM UTC and retries a failed run on the retry delays, like the schedule in AWS', async () => {
    // Prepare: the daily-notice function fails temporarily twice, then succeeds.
    const run = jest
      .fn<() => Promise<unknown>>()
      .mockRejectedValueOnce(new Error('temporary failure for cluster(s) a'))
      .mockRejectedValueOnce(new Error('temporary failure for cluster(s) a'))
      .mockResolvedValue({ results: [] });
    schedule = new LocalDailySchedule({ time: '08:00', run, retryDelaysMs: [1000, 5000], log: quiet });

    // Act
    await jest.advanceTimersByTimeAsync(60_000);
    const afterFirst = run.mock.calls.length;
    await jest.advanceTimersByTimeAsync(1000);
    const afterSecond = run.mock.calls.length;
    await jest.advanceTimersByTimeAsync(5000);

    // Assess
    expect(afterFirst).toBe(1);
    expect(afterSecond).toBe(2);
    expect(run).toHaveBeenCalledTimes(3);
    expect(schedule.next?.toISOString()).toBe('2026-11-29T08:00:00.000Z');
  });

  it('gives up after the last retry and still runs the next day', async () => {
    const run = jest.fn<() => Promise<unknown>>().mockRejectedValue(new Error('relay down'));
    schedule = new LocalDailySchedule({ time: '08:00', run, retryDelaysMs: [1000], log: quiet });

    await jest.advanceTimersByTimeAsync(60_000 + 1000 + 10_000);
    const firstDay = run.mock.calls.length;
    await jest.advanceTimersByTimeAsync(24 * 60 * 60_000);

    expect(firstDay).toBe(2);
    expect(run).toHaveBeenCalledTimes(4);
  });

  it("catches up on today's run when started after its time, and not when started before it", async () => {
    const run = jest.fn<() => Promise<unknown>>().mockResolvedValue({ results: [] });
    const late = new LocalDailySchedule({
      time: '07:30',
      run,
      log: quiet,
      catchUp: true,
      now: () => new Date(),
    });
    await jest.advanceTimersByTimeAsync(0);
    const afterLateStart = run.mock.calls.length;
    await late.stop();
    schedule = new LocalDailySchedule({
      time: '08:00',
      run,
      log: quiet,
      catchUp: true,
      now: () => new Date(),
    });
    await jest.advanceTimersByTimeAsync(0);

    expect(afterLateStart).toBe(1);
    expect(run).toHaveBeenCalledTimes(1);
    expect(schedule.next?.toISOString()).toBe('2026-11-28T08:00:00.000Z');
  });

  it('stop waits for a run in progress (its sends are under way), and schedules no retry after it', async () => {
    let finish: (value: unknown) => void = () => undefined;
    const run = jest
      .fn<() => Promise<unknown>>()
      .mockImplementationOnce(() => new Promise((_, reject) => (finish = reject)))
      .mockResolvedValue({ results: [] });
    schedule = new LocalDailySchedule({
      time: '07:30',
      run,
      log: quiet,
      catchUp: true,
      now: () => new Date(),
    });
    await jest.advanceTimersByTimeAsync(0);

    let stopped = false;
    const stopping = schedule.stop().then(() => {
      stopped = true;
    });
    await jest.advanceTimersByTimeAsync(10);
    const beforeTheRunEnded = stopped;
    finish(new Error('temporary failure'));
    await stopping;
    await jest.advanceTimersByTimeAsync(24 * 60 * 60_000);

    expect(beforeTheRunEnded).toBe(false);
    expect(stopped).toBe(true);
    expect(run).toHaveBeenCalledTimes(1);
  });
});
