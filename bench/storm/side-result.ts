// What each side of the storm bench reports, and the settings they share.
import type { AcceptedMessage, ExchangeRelayOptions, RelayStats } from './exchange-relay.js';
import type { StormPlan } from './storm-plan.js';

export interface StormSettings {
  plan: StormPlan;
  relay: Required<ExchangeRelayOptions>;
  inFlight: number;
  entriesPerRequest: number;
  waveGapSeconds: number;
  maxSeconds: number;
  grouping: { waitSeconds: number; intervalMinutes: number };
}

export interface SideResult {
  side: string;
  /** Why the side did not run, when it did not. */
  skipped?: string;
  /** Events posted (wave 1 + wave 2); undefined for the bare script, which sends emails, not events. */
  events?: number;
  accounted?: number;
  wave1Events?: number;
  wave1Accounted?: number;
  /** How the events ended up, e.g. { sent: 120, 'failed (transient)': 380 }. */
  breakdown?: Record<string, number>;
  emails: number;
  peakOpenConnections: number;
  peakAuthenticatedSessions: number;
  startTlsHandshakes: number;
  authSuccesses: number;
  throttles: Record<string, number>;
  firstEmailSeconds?: number;
  /** Until every event was in an email (or otherwise final); undefined when that never happened. */
  allAccountedSeconds?: number;
  /** How long the side waited before it stopped (all accounted, or the bound). */
  waitedSeconds: number;
  cpuSeconds?: number;
  peakRssMiB?: number;
  /** The most emails one cluster got within the first 5 minutes. */
  maxEmailsPerClusterFirst5Min?: number;
  /** The grouping wait the side used (0 when the service has no grouping). */
  waitSeconds?: number;
  notes: string[];
}

export const throttleTotal = (throttles: Record<string, number>) =>
  Object.values(throttles).reduce((sum, n) => sum + n, 0);

/** Relay figures every side reports alike. */
export function relayFigures(stats: RelayStats) {
  return {
    emails: stats.messages.length,
    peakOpenConnections: stats.peakOpenConnections,
    peakAuthenticatedSessions: stats.peakAuthenticatedSessions,
    startTlsHandshakes: stats.startTlsHandshakes,
    authSuccesses: stats.authSuccesses,
    throttles: { ...stats.throttles },
  };
}

/** The most emails any one cluster received within `windowSeconds` of the start. */
export function maxPerCluster(
  messages: AcceptedMessage[],
  startedAt: number,
  clustersOf: (message: AcceptedMessage) => string[],
  windowSeconds = 300,
): number {
  const counts = new Map<string, number>();
  for (const message of messages) {
    if (message.deliveredAt - startedAt > windowSeconds * 1000) continue;
    for (const cluster of new Set(clustersOf(message))) counts.set(cluster, (counts.get(cluster) ?? 0) + 1);
  }
  return Math.max(0, ...counts.values());
}

export const seconds = (ms: number) => Math.round(ms / 100) / 10;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
