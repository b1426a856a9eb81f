// Side C's child process: a bare pooled nodemailer transport, paced as the relay's documented
// limits ask (3 connections, 30 messages a minute), sending COUNT emails of about SIZE bytes.
// A refused send is tried again after a second, as any careful script would. Prints one JSON line.
import nodemailer from 'nodemailer';

const count = Number(process.env.COUNT ?? 1);
const size = Number(process.env.SIZE ?? 4000);
const perMinute = Number(process.env.RATE_LIMIT ?? 30);
const transport = nodemailer.createTransport({
  host: process.env.RELAY_HOST ?? '127.0.0.1',
  port: Number(process.env.RELAY_PORT),
  secure: false,
  requireTLS: true,
  tls: { rejectUnauthorized: false },
  auth: { user: process.env.RELAY_USER ?? '', pass: process.env.RELAY_PASSWORD ?? '' },
  pool: true,
  maxConnections: Number(process.env.MAX_CONNECTIONS ?? 3),
  rateDelta: 60_000,
  rateLimit: perMinute,
});
const body = 'Storm bench message.\n'.repeat(Math.max(1, Math.ceil(size / 21)));
const startedAt = Date.now();
const cpuAtStart = process.cpuUsage();
let retries = 0;
const errors: Record<string, number> = {};
let first: number | undefined;
await Promise.all(
  Array.from({ length: count }, async (_, i) => {
    for (;;) {
      try {
        await transport.sendMail({
          from: 'alerts@contoso.example',
          to: 'ops@contoso.example',
          subject: `Storm bench ${i + 1} of ${count}`,
          text: body,
          headers: { 'X-Storm-Bench-Index': String(i) },
        });
        first ??= Date.now();
        return;
      } catch (error) {
        const code = String((error as { responseCode?: number }).responseCode ?? (error as Error).message);
        errors[code] = (errors[code] ?? 0) + 1;
        retries++;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }),
);
const doneAt = Date.now();
const cpu = process.cpuUsage(cpuAtStart);
const sendingCpuSeconds = (cpu.user + cpu.system) / 1e6;
transport.close();
process.stdout.write(
  `${JSON.stringify({ startedAt, firstAt: first, doneAt, retries, errors, sendingCpuSeconds })}\n`,
);
