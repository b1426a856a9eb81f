// What the server reports, rendered as text: a test email's result, the last test kept per
// cluster, and the OAuth2 grant's status. The stage names cover the domain's stages
// (functions/core/mail).
import { DELIVERY_STAGES, type DeliveryStage } from '../../functions/core/mail/delivery-stages.js';
import type { PublicEmailConfig, TestEmailResult, TestEmailSummary } from './api-client.js';
import { button, byId, el, when } from './dom.js';
import { type MessageKey, t } from './i18n.js';

const STAGE_KEYS = {
  dns: 'stage.dns',
  connect: 'stage.connect',
  tls: 'stage.tls',
  auth: 'stage.auth',
  envelope: 'stage.envelope',
  data: 'stage.data',
  token: 'stage.token',
  send: 'stage.send',
} as const satisfies Record<DeliveryStage, MessageKey>;

const isDeliveryStage = (stage: string): stage is DeliveryStage =>
  (DELIVERY_STAGES as readonly string[]).includes(stage);

/** Completes "Failed at the … stage." */
export const stageName = (stage: string | undefined): string =>
  stage && isDeliveryStage(stage) ? t(STAGE_KEYS[stage]) : stage || t('stage.unknown');

export function showTestResult(result: TestEmailResult, heading: MessageKey = 'test.title'): void {
  const body = byId('test-result-body');
  byId('test-result-title').textContent = t(heading);
  body.textContent = '';
  const recipients = result.recipients.join(', ');
  body.append(
    el(
      'p',
      result.ok
        ? recipients
          ? t('test.sentTo', { recipients })
          : t('test.sent')
        : t('test.failedAt', { stage: stageName(result.stage) }),
      result.ok ? 'result-ok' : 'result-bad',
    ),
  );
  if (result.warnings?.length) {
    const list = el('ul', null, 'warnings');
    for (const warning of result.warnings) list.append(el('li', warning));
    body.append(el('p', t('test.warnings'), 'result-warn'), list);
  }
  const facts = el('dl', null, 'facts');
  const fact = (name: MessageKey, text: string | number | Node | undefined) => {
    if (text === undefined || text === '') return;
    facts.append(el('dt', t(name)));
    const dd = el('dd');
    if (text instanceof Node) dd.append(text);
    else dd.textContent = String(text);
    facts.append(dd);
  };
  if (!result.ok) {
    fact('test.stage', result.stage);
    fact('test.code', result.code);
    fact('test.enhancedCode', result.enhancedCode);
    fact('test.serverSaid', result.message);
    fact('test.whatToDo', result.hint);
    if (result.transient !== undefined) {
      fact('test.temporary', result.transient ? t('test.temporaryYes') : t('test.temporaryNo'));
    }
  }
  fact('test.took', `${result.durationMs} ms`);
  if (result.at) fact('test.at', when(result.at));
  body.append(facts);
  if (result.transcript && result.transcript.length > 0) {
    const details = el('details');
    details.append(el('summary', t('test.transcript')));
    details.append(el('pre', result.transcript.join('\n')));
    body.append(details);
  }
  byId('test-result').hidden = false;
}

/** "Last test email: delivered on … (version 3)": the server's record, so it survives a reload. */
export function renderLastTest(summary: TestEmailSummary | undefined): void {
  const line = byId('last-test');
  line.textContent = '';
  line.hidden = false;
  if (!summary) {
    line.className = 'last-test';
    line.append(t('lastTest.none'));
    return;
  }
  line.className = `last-test ${summary.ok ? 'is-ok' : 'is-bad'}`;
  const of =
    typeof summary.of.version === 'number'
      ? t('lastTest.ofVersion', { version: summary.of.version })
      : summary.of.unsaved
        ? t('lastTest.ofUnsaved')
        : t('lastTest.ofStored');
  line.append(
    el('strong', t('lastTest.label')),
    ' ',
    summary.ok ? t('lastTest.delivered') : t('lastTest.failed', { stage: stageName(summary.stage) }),
    ' ',
    when(summary.at),
    ` (${of})`,
  );
  if (!summary.ok && summary.message) line.append(el('span', `: ${summary.message}`, 'hint'));
}

export function renderOAuth(config: PublicEmailConfig | null): void {
  const auth = config?.smtp?.auth;
  const statusLine = byId('oauth-status');
  const detail = byId('oauth-detail');
  const authorize = button('authorize');
  statusLine.textContent = '';
  detail.textContent = '';
  authorize.textContent = t('oauth.authorize');
  authorize.hidden = false;
  if (!config || auth?.type !== 'oauth2') {
    statusLine.textContent = t('oauth.saveFirst');
    return;
  }
  const oauth = config.oauth ?? { status: 'needs-authorization' };
  if (oauth.status === 'app-only' || oauth.status === 'service-account') {
    // The client-credentials and JWT-bearer flows: each token comes from the provider when needed.
    const appOnly = oauth.status === 'app-only';
    statusLine.append(el('span', t(appOnly ? 'oauth.appOnly' : 'oauth.serviceAccount'), 'good'));
    detail.append(t(appOnly ? 'oauth.appOnlyHint' : 'oauth.serviceAccountHint'));
    authorize.hidden = true;
    return;
  }
  if (oauth.status === 'authorized') {
    statusLine.append(el('span', t('oauth.authorized'), 'good'));
    if (oauth.authorizedAs) statusLine.append(' ', t('oauth.as', { who: oauth.authorizedAs }));
    if (oauth.authorizedAt) statusLine.append(' ', t('oauth.on'), ' ', when(oauth.authorizedAt));
    statusLine.append('.');
    if (oauth.lastRefreshAt) detail.append(t('oauth.lastRefresh'), ' ', when(oauth.lastRefreshAt), '. ');
    detail.append(t('oauth.againHint'));
    authorize.textContent = t('oauth.authorizeAgain');
    return;
  }
  statusLine.append(el('span', t('oauth.needs'), 'needs'));
  statusLine.append(': ', oauth.authorizedAt ? t('oauth.grantBroken') : t('oauth.neverAuthorized'));
  if (oauth.lastError) {
    detail.append(t('oauth.lastError', { error: oauth.lastError }));
    if (oauth.lastErrorAt) detail.append(' (', when(oauth.lastErrorAt), ')');
    detail.append('. ');
  }
  detail.append(auth.provider === 'microsoft' ? t('oauth.clickMicrosoft') : t('oauth.click'));
}
