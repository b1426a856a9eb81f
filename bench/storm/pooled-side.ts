// Side C: a bare pooled nodemailer script (pooled-sender.ts, in a child process so its CPU and
// memory are its own) sending as many emails as the service sent, through a fresh relay.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RELAY_PASSWORD, RELAY_USER, startExchangeRelay } from './exchange-relay.js';
import { sampleProcess } from './proc-stats.js';
import { relayFigures, type SideResult, type StormSettings, seconds } from './side-result.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export async function runPooledSide(
  settings: StormSettings,
  count: number,
  size: number,
): Promise<SideResult> {
  const relay = await startExchangeRelay(settings.relay);
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'pooled-sender.ts')], {
      cwd: join(HERE, '..', '..'),
      env: {
        ...process.env,
        RELAY_HOST: relay.host,
        RELAY_PORT: String(relay.port),
        RELAY_USER,
        RELAY_PASSWORD,
        COUNT: String(count),
        SIZE: String(size),
        RATE_LIMIT: String(relay.options.messagesPerWindow),
        MAX_CONNECTIONS: String(relay.options.maxSessions),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let errors = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      errors = (errors + chunk.toString('utf8')).slice(-5000);
    });
    // The child's figures are read just before it exits: poll /proc while it runs.
    let last = sampleProcess(child.pid as number);
    const poll = setInterval(() => {
      try {
        last = sampleProcess(child.pid as number);
      } catch {}
    }, 200);
    const bound = setTimeout(() => child.kill('SIGKILL'), settings.maxSeconds * 1000);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearInterval(poll);
    clearTimeout(bound);
    const report = out.trim()
      ? (JSON.parse(out.trim()) as {
          startedAt: number;
          firstAt?: number;
          doneAt: number;
          retries: number;
          errors: Record<string, number>;
          sendingCpuSeconds?: number;
        })
      : undefined;
    const notes = [
      `${count} emails of about ${size} bytes; ${relay.stats.connections} TCP connections, ${relay.stats.startTlsHandshakes} STARTTLS handshakes, ${relay.stats.authSuccesses} AUTHs`,
      "CPU: the script's own process.cpuUsage() while sending (its start excluded, as for A and B); peak RSS from /proc, sampled every 200 ms",
    ];
    if (!report) notes.push(`the script did not finish (exit ${code}): ${errors.slice(-500)}`);
    if (report && report.retries > 0)
      notes.push(`retries after refusals: ${report.retries} ${JSON.stringify(report.errors)}`);
    const lastDelivered = Math.max(...relay.stats.messages.map((m) => m.deliveredAt));
    const firstDelivered = Math.min(...relay.stats.messages.map((m) => m.deliveredAt));
    return {
      side: 'C: pooled nodemailer',
      ...relayFigures(relay.stats),
      ...(report && Number.isFinite(firstDelivered)
        ? { firstEmailSeconds: seconds(firstDelivered - report.startedAt) }
        : {}),
      ...(report && relay.stats.messages.length >= count
        ? { allAccountedSeconds: seconds(lastDelivered - report.startedAt) }
        : {}),
      waitedSeconds: report ? seconds(report.doneAt - report.startedAt) : settings.maxSeconds,
      cpuSeconds: Math.round((report?.sendingCpuSeconds ?? last.cpuSeconds) * 100) / 100,
      peakRssMiB: Math.round(last.peakRssMiB),
      notes,
    };
  } finally {
    await relay.close();
  }
}
