// Pooled, paced SMTP delivery per relay identity. A process keeps, per relay identity and set of
// credentials and TLS settings, a few connections ("lanes"), each a nodemailer pooled transport
// of exactly one connection with a transcript of its own. Every lane holds one connection slot
// of the relay gate, so the lanes of every process together never exceed the relay's
// maxConnections; every message takes a turn at the gate first (messagesPerMinute, back-off).
// Lanes are reused across the emails of a batch and across warm invocations (the registry lives
// at module scope), and a lane idle for `idleMs` closes and gives its slot back.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import nodemailer, { type SMTPPoolSentMessageInfo, type Transporter } from 'nodemailer';
import type { EffectiveRelayLimits } from '../../core/config/presets.js';
import {
  DeliveryError,
  type DeliveryFailure,
  type Mailer,
  type OutgoingMessage,
  type SendOptions,
  type SendReceipt,
} from '../../core/mail/mailer.js';
import {
  describeRelayLimits,
  type RelayGate,
  type RelayGrant,
  type RelayIdentity,
  type RelaySlot,
  SLOT_LEASE_MS,
} from '../../core/mail/relay-gate.js';
import type { Log } from '../../core/ports.js';
import type { MailOptions } from './mime.js';
import type { ResolvedRelay } from './relay-resolver.js';
import { composeOrFail, SmtpMailer, type SmtpMailerOptions, type Transcript } from './smtp-mailer.js';

/** Until a lane closes and gives its slot back after its last message. */
export const POOL_IDLE_MS = 30_000;
/** Connections per relay identity when the relay names no limit. */
export const DEFAULT_POOL_CONNECTIONS = 5;
/** Messages over one connection before it is replaced (nodemailer's default). */
const MAX_MESSAGES_PER_CONNECTION = 100;
/** A send waits this long, at most, in this process (for a lane, or for a turn due soon). */
const LOCAL_WAIT_MS = 10_000;
/** A slot's lease is renewed when less than this is left: a send (60 s) and an idle spell fit. */
const RENEW_WHEN_LEFT_MS = SLOT_LEASE_MS - 30_000;

const defaultHolder = () => `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

export interface SmtpPoolsOptions {
  gate: RelayGate;
  /** Epoch ms for the gate's decisions (the deployment's clock). */
  clock?: () => number;
  /** This process in the gate's slot leases. */
  holder?: string;
  idleMs?: number;
  log?: Log;
}

export interface PooledSmtpMailerOptions extends SmtpMailerOptions {
  identity: RelayIdentity;
  limits: EffectiveRelayLimits;
  /** What else tells two pools of one identity apart (e.g. the cluster whose OAuth2 tokens it uses). */
  partition?: string;
}

export interface SmtpPoolStats {
  /** Lanes open now. */
  lanes: number;
  /** Lanes ever opened (each one connection slot, one connection at a time). */
  lanesOpened: number;
}

/** The pools of one process: one per relay identity, credentials and TLS settings. */
export class SmtpPools {
  private readonly pools = new Map<string, RelayPool>();
  readonly holder: string;

  constructor(private readonly options: SmtpPoolsOptions) {
    this.holder = options.holder ?? defaultHolder();
  }

  mailer(options: PooledSmtpMailerOptions): Mailer {
    const key = poolKey(options);
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new RelayPool(options.identity, this.options, this.holder);
      this.pools.set(key, pool);
    }
    pool.configure(options);
    return pool;
  }

  stats(): SmtpPoolStats {
    let lanes = 0;
    let lanesOpened = 0;
    for (const pool of this.pools.values()) {
      lanes += pool.lanes.length;
      lanesOpened += pool.lanesOpened;
    }
    return { lanes, lanesOpened };
  }

  /** Closes every lane now and gives the slots back (shutdown; tests). */
  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
    this.pools.clear();
  }
}

function poolKey(options: PooledSmtpMailerOptions): string {
  const { settings, credentials } = options;
  const secret = credentials
    ? 'pass' in credentials
      ? `password:${credentials.pass}`
      : `oauth2:${options.partition ?? ''}`
    : 'none';
  // In memory only; the password is part of the key so that a changed one gets new connections.
  return JSON.stringify([
    options.identity,
    secret,
    settings.encryption,
    settings.verifyCertificate,
    options.ca ?? [],
    options.clientName ?? '',
    options.timeouts ?? {},
  ]);
}

interface Lane {
  id: number;
  transporter: Transporter<SMTPPoolSentMessageInfo>;
  transcript: Transcript;
  /** The gate's slot, when the relay limits connections. */
  slot: RelaySlot | undefined;
  busy: boolean;
  closed: boolean;
  idleTimer: NodeJS.Timeout | undefined;
  messages: number;
}

class RelayPool implements Mailer {
  readonly lanes: Lane[] = [];
  lanesOpened = 0;
  private opening = 0;
  private waiters = new Set<() => void>();
  private mailerOptions!: PooledSmtpMailerOptions;
  /** Settings, timeouts and failure descriptions: the same as the one-connection mailer's. */
  private describer!: SmtpMailer;
  private readonly clock: () => number;
  private readonly idleMs: number;

  constructor(
    readonly identity: RelayIdentity,
    private readonly options: SmtpPoolsOptions,
    private readonly holder: string,
  ) {
    this.clock = options.clock ?? Date.now;
    this.idleMs = options.idleMs ?? POOL_IDLE_MS;
  }

  /** The latest configuration wins (limits may change; an OAuth2 user's token provider stays). */
  configure(options: PooledSmtpMailerOptions): void {
    this.mailerOptions = options;
    this.describer = new SmtpMailer(options);
  }

  private get limits(): EffectiveRelayLimits {
    return this.mailerOptions.limits;
  }

  async send(message: OutgoingMessage, options: SendOptions = {}): Promise<SendReceipt> {
    const describer = this.describer;
    const deadlineMs = options.deadlineMs ?? this.mailerOptions.deadlineMs ?? describer.deadlineMs;
    const started = Date.now();
    const composed = composeOrFail(message);
    const lane = await this.take(Math.min(deadlineMs, LOCAL_WAIT_MS));
    try {
      const left = Math.max(1, deadlineMs - (Date.now() - started));
      return await this.sendOn(lane, composed, left, describer);
    } catch (error) {
      if (error instanceof DeliveryError && error.failure.waitMs !== undefined) {
        // The relay said "too many" or "too fast": every sender of this identity waits, and this
        // lane goes (its connection may be one too many).
        await this.reportThrottling(error.failure);
        this.retire(lane);
      }
      throw error;
    } finally {
      this.giveBack(lane);
    }
  }

  private async sendOn(
    lane: Lane,
    composed: MailOptions,
    deadlineMs: number,
    describer: SmtpMailer,
  ): Promise<SendReceipt> {
    const { transcript } = lane;
    lane.messages++;
    transcript.mark(`Message ${lane.messages} on pooled connection #${lane.id}`);
    // On abort the pool closes the connection delivering the message (socketCloseTimeout 0:
    // nothing more goes out); the lane opens a new one for its next message.
    return await describer.sendWithin(composed, transcript, deadlineMs, (signal) =>
      lane.transporter.sendMail({ ...composed, signal }),
    );
  }

  /** A lane of this process for one message, with the message's turn at the gate. */
  private async take(waitBudgetMs: number): Promise<Lane> {
    const waitUntil = Date.now() + waitBudgetMs;
    for (;;) {
      const idle = this.lanes.find((lane) => !lane.busy && !lane.closed);
      if (idle) {
        idle.busy = true;
        this.stopIdle(idle);
        const nowMs = this.clock();
        const renew = idle.slot && idle.slot.until - nowMs < RENEW_WHEN_LEFT_MS ? idle.slot : undefined;
        const grant = await this.ask({ message: true, ...(renew ? { slot: renew } : {}) });
        if (grant.ok) {
          if (grant.slot) idle.slot = grant.slot;
          return idle;
        }
        if (grant.reason === 'slot-lost') {
          // Frozen or stalled past its lease, and the slot is someone else's now.
          idle.slot = undefined;
          this.retire(idle);
          continue;
        }
        this.giveBack(idle);
        if (await this.waitForTurn(grant, waitUntil)) continue;
        throw this.pacingError(grant);
      }
      const max = this.limits.maxConnections ?? DEFAULT_POOL_CONNECTIONS;
      if (this.lanes.length + this.opening < max) {
        this.opening++;
        let grant: RelayGrant;
        try {
          grant = await this.ask({ message: true, slot: 'new' });
        } finally {
          this.opening--;
        }
        if (grant.ok) return await this.resolveAndOpen(grant.slot);
        if (!(grant.reason === 'connections' && this.lanes.length > 0)) {
          if (await this.waitForTurn(grant, waitUntil)) continue;
          throw this.pacingError(grant);
        }
      }
      // Every lane of ours is busy and no other may be opened: wait for one of ours.
      const left = waitUntil - Date.now();
      if (left <= 0) {
        throw this.pacingError({ ok: false, reason: 'connections', retryAfterMs: 1000 });
      }
      await this.waitForLane(left);
    }
  }

  private async ask(request: { message: boolean; slot?: 'new' | RelaySlot }): Promise<RelayGrant> {
    try {
      return await this.options.gate.acquire(this.identity, {
        limits: this.limits,
        holder: this.holder,
        nowMs: this.clock(),
        ...request,
      });
    } catch (error) {
      throw new DeliveryError({
        stage: 'connect',
        transient: true,
        reason: 'RELAY_GATE_UNAVAILABLE',
        message: `The relay's pacing state could not be read or written: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }

  /** A turn due within what is left of the local wait is waited for here; true to ask again. */
  private async waitForTurn(grant: RelayGrant & { ok: false }, waitUntil: number): Promise<boolean> {
    if (grant.reason === 'back-off' || grant.retryAfterMs > 2_000) return false;
    if (Date.now() + grant.retryAfterMs > waitUntil) return false;
    await new Promise((resolve) => setTimeout(resolve, grant.retryAfterMs));
    return true;
  }

  private waitForLane(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /**
   * A new lane to the relay's address, judged when the connection is opened; the lane's later
   * connections (after maxMessages, or a dropped one) go to the same checked address.
   */
  private async resolveAndOpen(slot: RelaySlot | undefined): Promise<Lane> {
    const describer = this.describer;
    let relay: ResolvedRelay;
    this.opening++;
    try {
      relay = await describer.resolveRelay(describer.deadlineMs);
    } catch (error) {
      if (slot) {
        await this.options.gate.release(this.identity, slot, this.clock()).catch(() => {
          // A slot not given back frees itself at the end of its lease.
        });
      }
      throw error;
    } finally {
      this.opening--;
    }
    return this.open(slot, relay, describer);
  }

  private open(slot: RelaySlot | undefined, relay: ResolvedRelay, describer: SmtpMailer): Lane {
    const transcript = describer.transcriptFor(relay);
    const transporter = nodemailer.createTransport({
      ...describer.transportOptions(transcript, relay),
      pool: true,
      maxConnections: 1,
      maxMessages: MAX_MESSAGES_PER_CONNECTION,
      // A connection the relay dropped while idle is found out on the next message, which then
      // goes over a new connection once; more retries could send a message twice.
      maxRequeues: 1,
      // nodemailer QUITs an idle connection itself; the lane then closes and frees its slot.
      idleTimeout: this.idleMs,
    });
    const lane: Lane = {
      id: ++this.lanesOpened,
      transporter,
      transcript,
      slot,
      busy: true,
      closed: false,
      idleTimer: undefined,
      messages: 0,
    };
    this.lanes.push(lane);
    return lane;
  }

  private giveBack(lane: Lane): void {
    lane.busy = false;
    if (!lane.closed) this.startIdle(lane);
    this.wake();
  }

  private startIdle(lane: Lane): void {
    this.stopIdle(lane);
    lane.idleTimer = setTimeout(() => this.retire(lane), this.idleMs);
    lane.idleTimer.unref();
  }

  private stopIdle(lane: Lane): void {
    if (lane.idleTimer) clearTimeout(lane.idleTimer);
    lane.idleTimer = undefined;
  }

  /** Closes the lane's connection and gives its slot back. */
  private retire(lane: Lane): Promise<void> {
    if (lane.closed) return Promise.resolve();
    lane.closed = true;
    this.stopIdle(lane);
    const index = this.lanes.indexOf(lane);
    if (index >= 0) this.lanes.splice(index, 1);
    lane.transporter.close();
    this.wake();
    const slot = lane.slot;
    if (!slot) return Promise.resolve();
    lane.slot = undefined;
    // A slot not given back frees itself at the end of its lease.
    return this.options.gate.release(this.identity, slot, this.clock()).catch((error: unknown) => {
      this.options.log?.warn('Could not give a relay connection slot back; it frees itself later', {
        relay: this.identity,
        error: error instanceof Error ? error.message : String(error),
      });
    });
  }

  private async reportThrottling(failure: DeliveryFailure): Promise<void> {
    const reply = [failure.code, failure.enhancedCode, failure.message].filter(Boolean).join(' ');
    const nowMs = this.clock();
    try {
      await this.options.gate.backOff(
        this.identity,
        nowMs + (failure.waitMs ?? 0),
        reply.slice(0, 300),
        nowMs,
      );
    } catch (error) {
      this.options.log?.warn('Could not record the relay back-off', {
        relay: this.identity,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    this.options.log?.warn('The relay throttles: every sender of this relay waits', {
      relay: this.identity,
      code: failure.code,
      enhancedCode: failure.enhancedCode,
      waitMs: failure.waitMs,
    });
  }

  private pacingError(grant: RelayGrant & { ok: false }): DeliveryError {
    const waitMs = Math.max(1000, Math.ceil(grant.retryAfterMs / 1000) * 1000);
    const next = `next try in ${Math.round(waitMs / 1000)} s`;
    const { host, port } = this.mailerOptions.settings;
    const message =
      grant.reason === 'back-off'
        ? `waiting: the relay ${host}:${port} asked to slow down${grant.detail ? ` (${grant.detail})` : ''}; ${next}`
        : `waiting for the relay's limit (${describeRelayLimits(this.limits, host)}); ${next}`;
    return new DeliveryError({
      stage: 'connect',
      transient: true,
      reason: grant.reason === 'back-off' ? 'RELAY_BACK_OFF' : 'RELAY_LIMIT',
      message,
      waitMs,
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.lanes].map((lane) => this.retire(lane)));
  }
}

// One registry per gate at module scope: a warm Lambda's next invocation (and the embedded
// runtime's next batch) finds its connections open.
const shared = new WeakMap<RelayGate, SmtpPools>();

/** This process's pools for the relays a gate paces. */
export function sharedSmtpPools(gate: RelayGate, options: Omit<SmtpPoolsOptions, 'gate'> = {}): SmtpPools {
  let pools = shared.get(gate);
  if (!pools) {
    pools = new SmtpPools({ ...options, gate });
    shared.set(gate, pools);
  }
  return pools;
}

/** Closes the pools of a gate (the embedded runtime's shutdown), giving every slot back. */
export async function closeSharedSmtpPools(gate: RelayGate): Promise<void> {
  const pools = shared.get(gate);
  if (!pools) return;
  shared.delete(gate);
  await pools.close();
}
