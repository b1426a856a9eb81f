import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { OutboxMailer } from '../../functions/adapters/local/outbox-mailer.js';
import type { OutgoingMessage } from '../../functions/core/mail/mailer.js';

const message: OutgoingMessage = {
  from: 'notifier@example.com',
  to: ['ops@example.com', 'oncall@example.com'],
  subject: 'Failover Data Sync Stale on fw-1',
  text: 'The primary could not sync data to the backup in the last 24 hours.',
  headers: { 'X-Appliance-Notifier-Event': 'evt-42' },
};

let root: string;
let directory: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'outbox-mailer-'));
  directory = join(root, 'data', 'outbox');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('OutboxMailer', () => {
  it('writes the MIME message to a private .eml file named after the time', async () => {
    // Prepare
    const mailer = new OutboxMailer({ directory, clock: () => new Date('2025-03-04T05:06:07.890Z') });

    // Act
    const receipt = await mailer.send(message);

    // Assess
    expect(dirname(receipt.destination)).toBe(directory);
    expect(basename(receipt.destination)).toMatch(/^2025-03-04T05-06-07\.890Z-[0-9a-f]{8}\.eml$/);
    expect(receipt.accepted).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(receipt.rejected).toEqual([]);
    expect((await stat(receipt.destination)).mode & 0o777).toBe(0o600);
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
    const eml = await readFile(receipt.destination, 'utf8');
    expect(eml).toContain('Subject: Failover Data Sync Stale on fw-1\r\n');
    expect(eml).toContain('From: notifier@example.com\r\n');
    expect(eml).toContain('To: ops@example.com, oncall@example.com\r\n');
    expect(eml).toContain('X-Appliance-Notifier-Event: evt-42\r\n');
    expect(eml).toContain(`Message-ID: ${receipt.messageId}\r\n`);
    expect(eml).toContain('The primary could not sync data to the backup in the last 24 hours.');
  });

  it('keeps messages of the same millisecond apart and leaves no temp files', async () => {
    // Prepare
    const mailer = new OutboxMailer({ directory, clock: () => new Date('2025-03-04T05:06:07.890Z') });

    // Act
    const receipts = await Promise.all(Array.from({ length: 10 }, () => mailer.send(message)));

    // Assess
    const files = (await readdir(directory)).sort();
    expect(files).toHaveLength(10);
    expect(files).toEqual(receipts.map((r) => basename(r.destination)).sort());
  });
});
