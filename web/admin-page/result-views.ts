// What the server reports, rendered as text: a test email's result, the OAuth2 grant's status and
// the delivery log. The stage names cover the domain's stages (functions/core/mail).
import { DELIVERY_STAGES, type DeliveryStage } from '../../functions/core/mail/delivery-stages.js';
import type { DeliveryRecord, PublicEmailConfig, TestEmailResult } from './api-client.js';
import { button, byId, el, when } from './dom.js';

/** Completes "Failed at the … stage." */
const STAGE_NAMES = {
  dns: 'DNS lookup',
  connect: 'connection',
  tls: 'TLS',
  auth: 'authentication',
  envelope: 'sender or recipient',
  data: 'message data',
} satisfies Record<DeliveryStage, string>;

const isDeliveryStage = (stage: string): stage is DeliveryStage =>
  (DELIVERY_STAGES as readonly string[]).includes(stage);

const stageName = (stage: string | undefined): string =>
  stage && isDeliveryStage(stage) ? STAGE_NAMES[stage] : stage || 'unknown';

export function showTestResult(result: TestEmailResult): void {
  const body = byId('test-result-body');
  body.textContent = '';
  const recipients = result.recipients.join(', ');
  body.append(
    el(
      'p',
      result.ok
        ? `Sent${recipients ? ` to ${recipients}` : ''}. Check that it arrived.`
        : `Failed at the ${stageName(result.stage)} stage.`,
      result.ok ? 'result-ok' : 'result-bad',
    ),
  );
  const facts = el('dl', null, 'facts');
  const fact = (name: string, text: string | number | Node | undefined) => {
    if (text === undefined || text === '') return;
    facts.append(el('dt', name));
    const dd = el('dd');
    if (text instanceof Node) dd.append(text);
    else dd.textContent = String(text);
    facts.append(dd);
  };
  if (!result.ok) {
    fact('Stage', result.stage);
    fact('Reply code', result.code);
    fact('Enhanced code', result.enhancedCode);
    fact('Server said', result.message);
    fact('What to do', result.hint);
    if (result.transient !== undefined) {
      fact('Temporary', result.transient ? 'yes: trying again later may work' : 'no');
    }
  }
  fact('Took', `${result.durationMs} ms`);
  if (result.at) fact('At', when(result.at));
  body.append(facts);
  if (result.transcript && result.transcript.length > 0) {
    const details = el('details');
    details.append(el('summary', 'SMTP transcript (credentials redacted)'));
    details.append(el('pre', result.transcript.join('\n')));
    body.append(details);
  }
  byId('test-result').hidden = false;
}

export function renderOAuth(config: PublicEmailConfig | null): void {
  const auth = config?.smtp?.auth;
  const statusLine = byId('oauth-status');
  const detail = byId('oauth-detail');
  const authorize = button('authorize');
  statusLine.textContent = '';
  detail.textContent = '';
  authorize.textContent = 'Authorize';
  if (!config || auth?.type !== 'oauth2') {
    statusLine.textContent =
      'Save the configuration with OAuth2 first, then click Authorize and sign in with the mailbox that sends the email.';
    return;
  }
  const oauth = config.oauth ?? { status: 'needs-authorization' };
  if (oauth.status === 'authorized') {
    statusLine.append(el('span', 'Authorized', 'good'));
    if (oauth.authorizedAs) statusLine.append(` as ${oauth.authorizedAs}`);
    if (oauth.authorizedAt) statusLine.append(' on ', when(oauth.authorizedAt));
    statusLine.append('.');
    if (oauth.lastRefreshAt) detail.append('Last token refresh: ', when(oauth.lastRefreshAt), '. ');
    detail.append('Authorize again only to switch the mailbox or after the grant was revoked.');
    authorize.textContent = 'Authorize again';
    return;
  }
  statusLine.append(el('span', 'Needs authorization', 'needs'));
  statusLine.append(
    oauth.authorizedAt
      ? ': the stored grant no longer works.'
      : ': no account has authorized this configuration yet.',
  );
  if (oauth.lastError) {
    detail.append(`Last error: ${oauth.lastError}`);
    if (oauth.lastErrorAt) detail.append(' (', when(oauth.lastErrorAt), ')');
    detail.append('. ');
  }
  detail.append(
    `Click Authorize and sign in with the mailbox that sends the email${
      auth.provider === 'microsoft'
        ? '; in Entra ID an administrator may have to grant consent, and SMTP AUTH must be enabled for the mailbox.'
        : '.'
    }`,
  );
}

/** Who got it, who is still pending and who refused it: a partial delivery never reads as complete. */
function recipientsText(item: DeliveryRecord): string {
  return [
    item.recipients.join(', '),
    item.pendingRecipients?.length ? `pending: ${item.pendingRecipients.join(', ')}` : '',
    item.refusedRecipients?.length ? `refused: ${item.refusedRecipients.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}

export function renderDeliveries(items: DeliveryRecord[], cluster: string): void {
  const tbody = byId('deliveries-body');
  tbody.textContent = '';
  for (const item of items) {
    const partial = Boolean(item.pendingRecipients?.length || item.refusedRecipients?.length);
    const row = el('tr');
    const time = el('td');
    // The log's order: when the event arrived (its own time can be late, early or replayed).
    time.append(when(item.receivedAt || item.at));
    row.append(
      time,
      el('td', item.condition),
      el('td', item.appliance || '—'),
      el('td', partial ? `${item.outcome} (partial)` : item.outcome, `outcome-${item.outcome}`),
      el('td', item.reason || ''),
      el('td', recipientsText(item)),
    );
    tbody.append(row);
  }
  if (items.length === 0) {
    const cell = el('td', `No events recorded for cluster ${cluster} yet.`);
    cell.colSpan = 6;
    const row = el('tr');
    row.append(cell);
    tbody.append(row);
  }
}
