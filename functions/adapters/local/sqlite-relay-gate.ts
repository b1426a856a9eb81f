import {
  decideAcquire,
  decideBackOff,
  decideRelease,
  type RelayGate,
  type RelayGrant,
  type RelayIdentity,
  type RelayRequest,
  type RelaySlot,
  type RelayState,
  type RelayStep,
} from '../../core/mail/relay-gate.js';
import type { SqliteDatabase } from './sqlite-database.js';

interface Row {
  version: number;
  sends: string;
  slots: string;
  back_off_until: number | null;
  back_off_reason: string | null;
  expires_at: number;
}

/**
 * The relay gate in the embedded database: each step reads the identity's row, decides with the
 * pure functions of relay-gate.ts and writes the result in one IMMEDIATE transaction, so that
 * every connection to the file (the runtime, a second process on the same data directory)
 * sees one order of steps.
 */
export class SqliteRelayGate implements RelayGate {
  private readonly select;
  private readonly upsert;
  private readonly sweep;
  private readonly connection;

  constructor(database: SqliteDatabase) {
    const { connection } = database;
    this.connection = connection;
    this.select = connection.prepare<[string], Row>(
      'SELECT version, sends, slots, back_off_until, back_off_reason, expires_at FROM relay_gate WHERE identity = ?',
    );
    this.upsert = connection.prepare<[string, number, string, string, number | null, string | null, number]>(
      `INSERT INTO relay_gate (identity, version, sends, slots, back_off_until, back_off_reason, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (identity) DO UPDATE SET version = excluded.version, sends = excluded.sends,
         slots = excluded.slots, back_off_until = excluded.back_off_until,
         back_off_reason = excluded.back_off_reason, expires_at = excluded.expires_at`,
    );
    this.sweep = connection.prepare<[number]>('DELETE FROM relay_gate WHERE expires_at < ?');
  }

  async acquire(identity: RelayIdentity, request: RelayRequest): Promise<RelayGrant> {
    return this.step(identity, request.nowMs, (state) => decideAcquire(state, request));
  }

  async release(identity: RelayIdentity, slot: RelaySlot, nowMs: number): Promise<void> {
    this.step(identity, nowMs, (state) => decideRelease(state, slot, nowMs));
  }

  async backOff(identity: RelayIdentity, untilMs: number, reason: string, nowMs: number): Promise<void> {
    this.step(identity, nowMs, (state) => decideBackOff(state, untilMs, reason, nowMs));
  }

  async inspect(identity: RelayIdentity): Promise<RelayState | undefined> {
    const row = this.select.get(identity);
    return row ? stateOf(row) : undefined;
  }

  private step<T>(
    identity: string,
    nowMs: number,
    decide: (state: RelayState | undefined) => RelayStep<T>,
  ): T {
    return this.connection
      .transaction(() => {
        const row = this.select.get(identity);
        const { result, next } = decide(row ? stateOf(row) : undefined);
        if (next) {
          this.upsert.run(
            identity,
            next.version,
            JSON.stringify(next.sends),
            JSON.stringify(next.slots),
            next.backOffUntil ?? null,
            next.backOffReason ?? null,
            next.expiresAt,
          );
          this.sweep.run(nowMs);
        }
        return result;
      })
      .immediate();
  }
}

function stateOf(row: Row): RelayState {
  const state: RelayState = {
    version: row.version,
    sends: JSON.parse(row.sends) as RelayState['sends'],
    slots: JSON.parse(row.slots) as RelayState['slots'],
    expiresAt: row.expires_at,
  };
  if (row.back_off_until !== null) state.backOffUntil = row.back_off_until;
  if (row.back_off_reason !== null) state.backOffReason = row.back_off_reason;
  return state;
}
