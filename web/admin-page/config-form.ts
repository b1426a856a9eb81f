// The configuration form: filled from what GET returns, collected into the PUT body, provider
// presets, which groups show, and the server's field issues shown next to their fields. The
// choices and presets are the domain's own (functions/core/config/presets.ts).
import {
  DEFAULT_SES_SMTP_REGION,
  effectiveRelayLimits,
  MICROSOFT_APP_ONLY_SCOPES,
  MICROSOFT_DEFAULT_TENANT,
  matchRelayPreset,
  OAUTH_PROVIDERS,
  type OAuthProvider,
  oauthPreset,
  type RelayLimits,
  relayLimitsPreset,
  relayPreset,
  SES_SMTP_REGIONS,
  SMTP_ENCRYPTIONS,
  type SmtpEncryption,
} from '../../functions/core/config/presets.js';
import type { FieldIssue, PublicEmailConfig, PublicSmtpAuth } from './api-client.js';
import type {
  CredentialHealth,
  OAuthFlow,
  PublicClientCertificate,
  PublicGraphSettings,
} from './api-types.js';
import { byId, el, input, radio, select, setRadio, status, textArea, value } from './dom.js';
import { formatDay, type MessageKey, t, tn, writeRich } from './i18n.js';
import { PAGE_RELAY_PRESETS } from './relay-presets.js';
import { renderOAuth } from './result-views.js';

const ENCRYPTION_LABELS = {
  tls: 'encryption.tls',
  starttls: 'encryption.starttls',
  none: 'encryption.none',
} as const satisfies Record<SmtpEncryption, MessageKey>;

const PROVIDER_LABELS = {
  microsoft: 'provider.microsoft',
  google: 'provider.google',
  custom: 'provider.custom',
} as const satisfies Record<OAuthProvider, MessageKey>;

/**
 * The flows a provider offers, the default first. Google has no client-credentials grant for
 * Gmail; its unattended flow is a service account with domain-wide delegation.
 */
const FLOWS: Record<OAuthProvider, readonly OAuthFlow[]> = {
  microsoft: ['authorization-code', 'client-credentials'],
  google: ['authorization-code', 'service-account'],
  custom: ['authorization-code', 'client-credentials'],
};

const FLOW_LABELS = {
  'authorization-code': 'flow.authorization-code',
  'client-credentials': 'flow.client-credentials',
  'service-account': 'flow.service-account',
} as const satisfies Record<OAuthFlow, MessageKey>;

const FLOW_HINTS = {
  'authorization-code': 'form.flowHint.authorization-code',
  'client-credentials': 'form.flowHint.client-credentials',
  'service-account': 'form.flowHint.service-account',
} as const satisfies Record<OAuthFlow, MessageKey>;

/** What an empty form shows (the schema's defaults for what it leaves unset). */
const DEFAULTS = {
  port: '587',
  encryption: 'starttls',
  provider: 'microsoft',
  repeatIntervalMinutes: '240',
  waitSeconds: '30',
  intervalMinutes: '5',
} as const satisfies { encryption: SmtpEncryption; provider: OAuthProvider } & Record<string, string>;

/** The OAuth2 fields a preset fills. */
const PRESET_FIELDS = ['authorizationEndpoint', 'tokenEndpoint', 'scopes'] as const;

/** A provider preset as the form's fields hold it (scopes space-separated, the port as text). */
interface FormPreset {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  scopes: string;
  relay: { host: string; port: string; encryption: SmtpEncryption };
}

export const formState = {
  /** The form differs from what was loaded or saved. */
  dirty: false,
  /** The tenant the preset fields were last filled for. */
  tenant: '',
  /** The flow the preset fields were last filled for. */
  flow: 'authorization-code' as OAuthFlow,
  /** The authentication as loaded: what the form has no field for is kept from it (collect). */
  loadedAuth: undefined as PublicSmtpAuth | undefined,
  /** The Graph settings as loaded: likewise. */
  loadedGraph: undefined as PublicGraphSettings | undefined,
};

/** The flow chosen (the provider's only one when it has one). */
const chosenFlow = (): OAuthFlow => (value('f-smtp-auth-flow') || 'authorization-code') as OAuthFlow;

/**
 * A date field for an entered expiry. GET may hold a date and time (entered through the API):
 * the field shows its day, and a save sends it back unchanged unless the day was changed.
 */
function fillExpiry(id: string, stored: string | undefined): void {
  const field = input(id);
  field.value = stored ? stored.slice(0, 10) : '';
  field.dataset.stored = stored ?? '';
}

function collectExpiry(id: string): string | undefined {
  const field = input(id);
  const stored = field.dataset.stored ?? '';
  if (field.value === '') return undefined;
  return stored.slice(0, 10) === field.value ? stored : field.value;
}

/** Entra ID lists a certificate by its SHA-1 thumbprint in hex; GET gives it base64url (the `x5t`). */
function hexThumbprint(base64url: string): string {
  const binary = atob(base64url.replace(/-/g, '+').replace(/_/g, '/'));
  return Array.from(binary, (c) => c.charCodeAt(0).toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
}

/**
 * The certificate fields under `prefix` (`f-smtp-auth` or `f-graph`): the certificate as GET
 * shows it, the private key's field empty (write-only) with its set state, and its facts.
 */
function fillCertificate(
  prefix: string,
  ids: { keyState: string; facts: string },
  certificate: PublicClientCertificate | undefined,
): void {
  textArea(`${prefix}-clientCertificate-certificatePem`).value = certificate?.certificatePem ?? '';
  textArea(`${prefix}-clientCertificate-privateKeyPem`).value = '';
  secretState(ids.keyState, certificate?.privateKeySet);
  byId(ids.facts).textContent =
    certificate?.thumbprint && certificate.notAfter
      ? t('certificate.facts', {
          thumbprint: hexThumbprint(certificate.thumbprint),
          date: formatDay(certificate.notAfter),
        })
      : '';
}

/** The client secret as typed (left out when empty: the stored one is kept) and its expiry date. */
function collectClientSecret(prefix: string): { clientSecret?: string; clientSecretExpiresAt?: string } {
  const secret = input(`${prefix}-clientSecret`).value;
  const expires = collectExpiry(`${prefix}-clientSecretExpiresAt`);
  return {
    ...(secret !== '' ? { clientSecret: secret } : {}),
    ...(expires ? { clientSecretExpiresAt: expires } : {}),
  };
}

/** The certificate as typed; the private key left out when empty (the server keeps the stored one). */
function collectCertificate(prefix: string): { certificatePem: string; privateKeyPem?: string } | undefined {
  const certificatePem = value(`${prefix}-clientCertificate-certificatePem`);
  const privateKeyPem = value(`${prefix}-clientCertificate-privateKeyPem`);
  if (certificatePem === '') return undefined;
  return { certificatePem, ...(privateKeyPem !== '' ? { privateKeyPem } : {}) };
}

const HEALTH_CLASSES = {
  ok: 'health-ok',
  expiring: 'warning',
  expired: 'health-failing',
  failing: 'health-failing',
} as const;

/** The credential health line above the authentication fields, in the page's language. */
export function renderCredentialHealth(health: CredentialHealth | undefined): void {
  const line = byId('credential-health');
  line.replaceChildren();
  line.hidden = !health;
  if (!health) return;
  line.append(
    el('span', t(`credential.status.${health.status}`), `badge ${HEALTH_CLASSES[health.status]}`),
    ' ',
  );
  const name = t(`credential.kind.${health.credential ?? 'client-secret'}`);
  const date = health.expiresAt ? formatDay(health.expiresAt) : '';
  const sentence =
    health.status === 'failing'
      ? t('credential.failing')
      : health.status === 'expired'
        ? t('credential.expired', { name, date })
        : health.status === 'expiring'
          ? tn('credential.expiring', Math.max(health.daysLeft ?? 0, 1), { name, date })
          : health.expiresAt
            ? t('credential.okUntil', { name, date })
            : health.credential === 'service-account-key'
              ? t('credential.okServiceAccount')
              : t('credential.okNoExpiry');
  line.append(sentence);
}

const isOAuthProvider = (provider: string): provider is OAuthProvider =>
  (OAUTH_PROVIDERS as readonly string[]).includes(provider);

function formPreset(provider: string, tenant: string, flow: OAuthFlow): FormPreset | null {
  const preset = isOAuthProvider(provider)
    ? oauthPreset(provider, tenant || MICROSOFT_DEFAULT_TENANT)
    : undefined;
  if (!preset) return null;
  const { host, port, encryption } = preset.relay;
  // App-only asks for the Exchange Online resource (SMTP.SendAsApp), not the delegated scopes.
  const scopes =
    flow === 'client-credentials' && provider === 'microsoft' ? MICROSOFT_APP_ONLY_SCOPES : preset.scopes;
  return {
    authorizationEndpoint: preset.authorizationEndpoint,
    tokenEndpoint: preset.tokenEndpoint,
    scopes: scopes.join(' '),
    relay: { host, port: String(port), encryption },
  };
}

function fillOptions<V extends string>(
  target: HTMLSelectElement,
  values: readonly V[],
  labels: Record<V, string>,
  selected: string,
): void {
  target.replaceChildren(
    ...values.map((optionValue) => {
      const option = el('option', labels[optionValue]);
      option.value = optionValue;
      return option;
    }),
  );
  target.value = selected;
}

const translated = <V extends string>(keys: Record<V, MessageKey>): Record<V, string> =>
  Object.fromEntries(Object.entries<MessageKey>(keys).map(([id, key]) => [id, t(key)])) as Record<V, string>;

const CUSTOM_RELAY = 'custom';

/**
 * The choices the domain offers (relay presets, encryption modes, OAuth2 providers, the default
 * tenant) in the page's language. Called again when the language changes: what is chosen stays.
 */
export function renderChoices(): void {
  const keep = (id: string, fallback: string) => select(id).value || fallback;
  const presetIds = [...PAGE_RELAY_PRESETS.map((preset) => preset.id), CUSTOM_RELAY];
  const presetLabels: Record<string, string> = { [CUSTOM_RELAY]: t('preset.custom') };
  for (const preset of PAGE_RELAY_PRESETS) presetLabels[preset.id] = preset.label;
  fillOptions(select('f-smtp-preset'), presetIds, presetLabels, keep('f-smtp-preset', CUSTOM_RELAY));
  fillOptions(
    select('f-smtp-preset-region'),
    SES_SMTP_REGIONS,
    Object.fromEntries(SES_SMTP_REGIONS.map((region) => [region, region])) as Record<string, string>,
    keep('f-smtp-preset-region', DEFAULT_SES_SMTP_REGION),
  );
  fillOptions(
    select('f-smtp-encryption'),
    SMTP_ENCRYPTIONS,
    translated(ENCRYPTION_LABELS),
    keep('f-smtp-encryption', DEFAULTS.encryption),
  );
  fillOptions(
    select('f-smtp-auth-provider'),
    OAUTH_PROVIDERS,
    translated(PROVIDER_LABELS),
    keep('f-smtp-auth-provider', DEFAULTS.provider),
  );
  renderFlowChoices();
  input('f-smtp-auth-tenant').placeholder = MICROSOFT_DEFAULT_TENANT;
  input('f-graph-endpoint').placeholder = 'https://graph.microsoft.com';
  writeRich(
    byId('f-smtp-auth-tenant-hint'),
    t('form.tenantHint', { tenant: `\`${MICROSOFT_DEFAULT_TENANT}\`` }),
  );
  const badges = [
    'password-state',
    'client-secret-state',
    'private-key-state',
    'graph-secret-state',
    'graph-private-key-state',
    'service-account-state',
  ];
  for (const badge of badges.map(byId)) {
    badge.textContent = t(badge.classList.contains('set') ? 'secret.set' : 'secret.notSet');
  }
  showPresetLimits();
  updateLimitsHint();
}

/** The provider's flows in the page's language; the one chosen stays if the provider offers it. */
function renderFlowChoices(): void {
  const provider = value('f-smtp-auth-provider');
  const flows = isOAuthProvider(provider) ? FLOWS[provider] : FLOWS.custom;
  const chosen = select('f-smtp-auth-flow').value;
  fillOptions(
    select('f-smtp-auth-flow'),
    flows,
    translated(FLOW_LABELS),
    (flows as readonly string[]).includes(chosen) ? chosen : 'authorization-code',
  );
}

export function fillForm(config: PublicEmailConfig | null): void {
  const smtp = config?.smtp;
  const auth = smtp?.auth ?? { type: 'none' };
  formState.loadedAuth = smtp?.auth;
  const password = auth.type === 'password' ? auth : undefined;
  const oauth2 = auth.type === 'oauth2' ? auth : undefined;
  input('f-sender').value = config?.sender || '';
  setRadio('transport', config?.transport || 'smtp');
  input('f-smtp-host').value = smtp?.host || '';
  input('f-smtp-port').value = smtp ? String(smtp.port) : DEFAULTS.port;
  select('f-smtp-encryption').value = smtp?.encryption || DEFAULTS.encryption;
  input('f-smtp-verifyCertificate').checked = smtp?.verifyCertificate !== false;
  input('f-smtp-allowInsecureAuth').checked = smtp?.allowInsecureAuth === true;
  setRadio('smtp.auth.type', auth.type);
  input('f-smtp-auth-username').value = password?.username || '';
  input('f-smtp-auth-password').value = '';
  secretState('password-state', password?.passwordSet);
  fillExpiry('f-smtp-auth-passwordExpiresAt', password?.passwordExpiresAt);
  select('f-smtp-auth-provider').value = oauth2?.provider || DEFAULTS.provider;
  renderFlowChoices();
  select('f-smtp-auth-flow').value = oauth2?.flow ?? 'authorization-code';
  formState.flow = chosenFlow();
  fillExpiry('f-smtp-auth-clientSecretExpiresAt', oauth2?.clientSecretExpiresAt);
  fillCertificate(
    'f-smtp-auth',
    { keyState: 'private-key-state', facts: 'certificate-facts' },
    oauth2?.clientCertificate,
  );
  const graph = config?.graph;
  formState.loadedGraph = graph;
  for (const key of ['mailbox', 'tenant', 'clientId', 'endpoint', 'tokenEndpoint'] as const) {
    input(`f-graph-${key}`).value = graph?.[key] ?? '';
  }
  input('f-graph-clientSecret').value = '';
  secretState('graph-secret-state', graph?.clientSecretSet);
  fillExpiry('f-graph-clientSecretExpiresAt', graph?.clientSecretExpiresAt);
  fillCertificate(
    'f-graph',
    { keyState: 'graph-private-key-state', facts: 'graph-certificate-facts' },
    graph?.clientCertificate,
  );
  const serviceAccount = oauth2?.serviceAccountKey;
  textArea('f-smtp-auth-serviceAccountKey').value = '';
  secretState('service-account-state', serviceAccount?.privateKeySet);
  byId('service-account-facts').textContent = serviceAccount
    ? t('serviceAccount.facts', {
        keyId: serviceAccount.privateKeyId,
        email: serviceAccount.clientEmail,
        clientId: serviceAccount.clientId ?? '—',
      })
    : '';
  renderCredentialHealth(config?.credentialHealth);
  input('f-smtp-auth-tenant').value = oauth2?.tenant || '';
  formState.tenant = oauth2?.tenant || '';
  input('f-smtp-auth-clientId').value = oauth2?.clientId || '';
  input('f-smtp-auth-clientSecret').value = '';
  secretState('client-secret-state', oauth2?.clientSecretSet);
  input('f-smtp-auth-scopes').value = oauth2?.scopes.join(' ') ?? '';
  input('f-smtp-auth-authorizationEndpoint').value = oauth2?.authorizationEndpoint || '';
  input('f-smtp-auth-tokenEndpoint').value = oauth2?.tokenEndpoint || '';
  input('f-smtp-auth-user').value = oauth2?.user || '';
  input('f-adminContacts').value = config?.adminContacts.join(' ') ?? '';
  input('f-dailyNotice').checked = config?.dailyNotice !== false;
  select('f-language').value = config?.language || 'en';
  input('f-repeatIntervalMinutes').value = config
    ? String(config.repeatIntervalMinutes)
    : DEFAULTS.repeatIntervalMinutes;
  input('f-grouping-waitSeconds').value = String(config?.grouping?.waitSeconds ?? DEFAULTS.waitSeconds);
  input('f-grouping-intervalMinutes').value = String(
    config?.grouping?.intervalMinutes ?? DEFAULTS.intervalMinutes,
  );
  input('f-smtp-limits-maxConnections').value = String(smtp?.limits?.maxConnections ?? '');
  input('f-smtp-limits-messagesPerMinute').value = String(smtp?.limits?.messagesPerMinute ?? '');
  updateLimitsHint();
  syncRelayPreset();
  input('send-test').checked = false;
  byId('only-if-delivered-field').hidden = true;
  if (auth.type !== 'oauth2') applyPreset(null, '');
  renderOAuth(config);
  updateVisibility();
  formState.dirty = false;
}

function secretState(id: string, isSet: boolean | undefined): void {
  const badge = byId(id);
  badge.textContent = isSet ? t('secret.set') : t('secret.notSet');
  badge.className = `secret-state${isSet ? ' set' : ''}`;
}

export function updateVisibility(): void {
  const transport = radio('transport');
  const smtp = transport === 'smtp';
  byId('f-smtp').hidden = !smtp;
  byId('ses-note').hidden = transport !== 'ses';
  byId('graph-note').hidden = transport !== 'graph';
  byId('f-graph').hidden = transport !== 'graph';
  const type = radio('smtp.auth.type');
  byId('auth-password').hidden = type !== 'password';
  byId('auth-oauth2').hidden = type !== 'oauth2';
  const provider = value('f-smtp-auth-provider');
  const appOnly = chosenFlow() === 'client-credentials';
  byId('tenant-field').hidden = provider !== 'microsoft';
  byId('flow-field').hidden = select('f-smtp-auth-flow').options.length < 2;
  writeRich(byId('f-smtp-auth-flow-hint'), t(FLOW_HINTS[chosenFlow()]));
  byId('entra-help').hidden = provider !== 'microsoft' || appOnly;
  byId('entra-app-only-help').hidden = provider !== 'microsoft' || !appOnly;
  // App-only may authenticate with a certificate instead of the secret.
  byId('auth-certificate').hidden = !appOnly;
  const serviceAccount = chosenFlow() === 'service-account';
  byId('service-account-field').hidden = !serviceAccount;
  byId('google-service-account-help').hidden = !serviceAccount;
  // A service account needs no app client of its own: the key names it.
  for (const id of [
    'f-smtp-auth-clientId',
    'f-smtp-auth-clientSecret',
    'f-smtp-auth-clientSecretExpiresAt',
  ]) {
    const field = byId(id).closest('.field');
    if (field instanceof HTMLElement) field.hidden = serviceAccount;
  }
  // Unattended flows (app-only, service account) have no Authorize step: no authorization endpoint,
  // no redirect URI; a saved one says so in the panel, a switch to one leaves nothing to authorize.
  const loaded = formState.loadedAuth;
  const unattended = appOnly || serviceAccount;
  const savedUnattended =
    loaded?.type === 'oauth2' && loaded.flow !== undefined && loaded.flow === chosenFlow();
  byId('oauth-panel').hidden = unattended && !savedUnattended;
  byId('authorization-endpoint-field').hidden = unattended;
  byId('redirect-field').hidden = unattended;
  byId('preset-region-field').hidden = value('f-smtp-preset') !== 'amazon-ses';
  // Credentials over an unencrypted connection need the admin's explicit choice.
  byId('insecure-auth-field').hidden = select('f-smtp-encryption').value !== 'none' || type === 'none';
}

/** The relay fields as typed, for matching them against the presets. */
function typedRelay(): { host: string; port: number; encryption: SmtpEncryption } {
  return {
    host: value('f-smtp-host'),
    port: Number(value('f-smtp-port')),
    encryption: select('f-smtp-encryption').value as SmtpEncryption,
  };
}

/** The read-only line with the chosen preset's limits (the server's rule for its host). */
function showPresetLimits(): void {
  const line = byId('f-smtp-preset-limits');
  const chosen = value('f-smtp-preset');
  const relay = chosen === CUSTOM_RELAY ? undefined : relayPreset(chosen, value('f-smtp-preset-region'));
  const limits = relay ? relayLimitsPreset(relay.host) : undefined;
  line.hidden = !limits;
  line.textContent = limits
    ? t('limits.presetLine', {
        label: limits.label,
        connections: tn('limits.connections', limits.maxConnections),
        messages: tn('limits.messages', limits.messagesPerMinute),
      })
    : '';
}

/** The preset select follows the relay fields: the preset they match, else custom. */
export function syncRelayPreset(): void {
  const match = matchRelayPreset(typedRelay());
  select('f-smtp-preset').value = match?.id ?? CUSTOM_RELAY;
  if (match?.region && (SES_SMTP_REGIONS as readonly string[]).includes(match.region)) {
    select('f-smtp-preset-region').value = match.region;
  }
  showPresetLimits();
  updateVisibility();
}

function fillRelay(relay: { host: string; port: number; encryption: SmtpEncryption }): void {
  input('f-smtp-host').value = relay.host;
  input('f-smtp-port').value = String(relay.port);
  select('f-smtp-encryption').value = relay.encryption;
  updateLimitsHint();
}

/** A preset (or region) chosen: fills host, port and encryption; custom changes nothing. */
export function onRelayPresetChange(): void {
  const chosen = value('f-smtp-preset');
  const relay = chosen === CUSTOM_RELAY ? undefined : relayPreset(chosen, value('f-smtp-preset-region'));
  if (relay) fillRelay(relay);
  showPresetLimits();
  updateVisibility();
}

/** Fills endpoints and scopes from the provider's preset where they are empty or still the previous preset. */
export function applyPreset(
  previousProvider: string | null,
  previousTenant: string,
  previousFlow: OAuthFlow = formState.flow,
): FormPreset | null {
  const provider = value('f-smtp-auth-provider');
  const before = previousProvider ? formPreset(previousProvider, previousTenant, previousFlow) : null;
  const next = formPreset(provider, value('f-smtp-auth-tenant'), chosenFlow());
  for (const key of PRESET_FIELDS) {
    const field = input(`f-smtp-auth-${key}`);
    const current = field.value.trim();
    if (current === '' || (before && current === before[key])) field.value = next ? next[key] : '';
  }
  return next;
}

/** A new provider or tenant: its preset, and its relay where none is entered yet. */
export function onProviderChange(previous: string): void {
  renderFlowChoices();
  const next = applyPreset(previous, formState.tenant);
  // The provider's relay replaces an empty host or another preset's, never a relay of the admin's own.
  // A tenant typed (the same provider) fills only an empty host.
  const host = value('f-smtp-host');
  const providerChanged = previous !== value('f-smtp-auth-provider');
  if (next && (host === '' || (providerChanged && matchRelayPreset({ host }, false)))) {
    fillRelay({ ...next.relay, port: Number(next.relay.port) });
    syncRelayPreset();
  }
  formState.tenant = value('f-smtp-auth-tenant');
  formState.flow = chosenFlow();
  updateVisibility();
}

/** Another flow: its scopes replace the previous flow's preset (never scopes of the admin's own). */
export function onFlowChange(): void {
  const provider = value('f-smtp-auth-provider');
  applyPreset(provider, formState.tenant, formState.flow);
  formState.flow = chosenFlow();
  updateVisibility();
}

const LIMIT_FIELDS = ['maxConnections', 'messagesPerMinute'] as const;

function describeLimits(limits: RelayLimits): string {
  const connections =
    limits.maxConnections === undefined
      ? t('limits.anyConnections')
      : tn('limits.connections', limits.maxConnections);
  const rate =
    limits.messagesPerMinute === undefined
      ? t('limits.noRate')
      : tn('limits.perMinute', limits.messagesPerMinute);
  return `${connections}, ${rate}`;
}

/**
 * The relay limits' hint and placeholders for the host as typed: its preset (the domain's own
 * rule, as the server applies it), and what is in effect when the admin overrides a field.
 */
export function updateLimitsHint(): void {
  const host = value('f-smtp-host');
  const preset = host ? relayLimitsPreset(host) : undefined;
  const typed: RelayLimits = {};
  for (const key of LIMIT_FIELDS) {
    const text = value(`f-smtp-limits-${key}`);
    if (/^\d+$/.test(text)) typed[key] = Number(text);
    input(`f-smtp-limits-${key}`).placeholder = preset ? String(preset[key]) : '';
  }
  const overridden = Object.keys(typed).length > 0;
  const parts = [
    preset
      ? t('limits.presetHint', { label: preset.label, limits: describeLimits(preset) })
      : host
        ? t('limits.noPreset')
        : t('limits.general'),
  ];
  if (overridden) {
    const effective = effectiveRelayLimits({ host, limits: typed });
    parts.push(t('limits.inEffect', { limits: describeLimits(effective) }));
  }
  parts.push(t('limits.wait'));
  byId('f-smtp-limits-hint').textContent = parts.join(' ');
}

/** Numbers go as numbers; anything else as typed, for the server to explain what is wrong. */
const numberOrText = (text: string): number | string => (/^\d+$/.test(text) ? Number(text) : text);

/** The PUT body, as typed: the server validates it and answers with field issues. */
export interface ConfigBody {
  sender: string;
  transport: string;
  adminContacts: string;
  dailyNotice: boolean;
  language: string;
  repeatIntervalMinutes?: number | string;
  grouping?: Partial<Record<'waitSeconds' | 'intervalMinutes', number | string>>;
  graph?: Record<string, unknown>;
  smtp?: {
    host: string;
    port: number | string;
    encryption: string;
    verifyCertificate: boolean;
    allowInsecureAuth?: boolean;
    auth: Record<string, unknown>;
    limits?: Partial<Record<(typeof LIMIT_FIELDS)[number], number | string>>;
  };
}

function collectGraph(): Record<string, unknown> {
  const graph: Record<string, unknown> = {
    mailbox: value('f-graph-mailbox'),
    tenant: value('f-graph-tenant'),
    clientId: value('f-graph-clientId'),
  };
  // The per-mailbox limits have no field here (set through the API): a save keeps them.
  const limits = formState.loadedGraph?.limits;
  if (limits) graph.limits = limits;
  Object.assign(graph, collectClientSecret('f-graph'));
  const certificate = collectCertificate('f-graph');
  if (certificate) graph.clientCertificate = certificate;
  for (const key of ['endpoint', 'tokenEndpoint'])
    if (value(`f-graph-${key}`)) graph[key] = value(`f-graph-${key}`);
  return graph;
}

export function collect(): ConfigBody {
  const body: ConfigBody = {
    sender: value('f-sender'),
    transport: radio('transport'),
    adminContacts: value('f-adminContacts'),
    dailyNotice: input('f-dailyNotice').checked,
    language: select('f-language').value,
  };
  const repeat = value('f-repeatIntervalMinutes');
  if (repeat !== '') body.repeatIntervalMinutes = numberOrText(repeat);
  // A field left empty is left out: the server fills in its default.
  const grouping: NonNullable<ConfigBody['grouping']> = {};
  for (const key of ['waitSeconds', 'intervalMinutes'] as const) {
    const text = value(`f-grouping-${key}`);
    if (text !== '') grouping[key] = numberOrText(text);
  }
  if (Object.keys(grouping).length > 0) body.grouping = grouping;
  if (body.transport === 'graph') body.graph = collectGraph();
  if (body.transport !== 'smtp') return body;
  const type = radio('smtp.auth.type');
  let auth: Record<string, unknown> = { type };
  if (type === 'password') {
    auth = { type, username: value('f-smtp-auth-username') };
    const password = input('f-smtp-auth-password').value;
    if (password !== '') auth.password = password;
    const expires = collectExpiry('f-smtp-auth-passwordExpiresAt');
    if (expires) auth.passwordExpiresAt = expires;
  } else if (type === 'oauth2') {
    const flow = chosenFlow();
    const appOnly = flow === 'client-credentials';
    const serviceAccount = flow === 'service-account';
    auth = { type, provider: value('f-smtp-auth-provider') };
    if (flow !== 'authorization-code') auth.flow = flow;
    if (auth.provider === 'microsoft' && value('f-smtp-auth-tenant'))
      auth.tenant = value('f-smtp-auth-tenant');
    // A service account needs no app client of its own: the key names it.
    if (!serviceAccount)
      Object.assign(auth, { clientId: value('f-smtp-auth-clientId') }, collectClientSecret('f-smtp-auth'));
    if (serviceAccount) {
      // The key is write-only: left empty, GET's view goes back and the server keeps the stored key.
      const key = value('f-smtp-auth-serviceAccountKey');
      const loaded = formState.loadedAuth;
      const stored = loaded?.type === 'oauth2' ? loaded.serviceAccountKey : undefined;
      if (key !== '') auth.serviceAccountKey = key;
      else if (stored) auth.serviceAccountKey = stored;
    }
    const keys = [
      'scopes',
      'tokenEndpoint',
      'user',
      ...(appOnly || serviceAccount ? [] : ['authorizationEndpoint']),
    ];
    for (const key of keys) {
      if (value(`f-smtp-auth-${key}`)) auth[key] = value(`f-smtp-auth-${key}`);
    }
    const certificate = appOnly ? collectCertificate('f-smtp-auth') : undefined;
    if (certificate) auth.clientCertificate = certificate;
  }
  body.smtp = {
    host: value('f-smtp-host'),
    port: numberOrText(value('f-smtp-port')),
    encryption: select('f-smtp-encryption').value,
    verifyCertificate: input('f-smtp-verifyCertificate').checked,
    auth,
  };
  if (!byId('insecure-auth-field').hidden && input('f-smtp-allowInsecureAuth').checked) {
    body.smtp.allowInsecureAuth = true;
  }
  // Empty limit fields are left out: the host's preset (or no limit) applies to them.
  const limits: NonNullable<NonNullable<ConfigBody['smtp']>['limits']> = {};
  for (const key of LIMIT_FIELDS) {
    const text = value(`f-smtp-limits-${key}`);
    if (text !== '') limits[key] = numberOrText(text);
  }
  if (Object.keys(limits).length > 0) body.smtp.limits = limits;
  return body;
}

// ------------------------------------------------------------------ field errors

/** The field an issue path names: the longest prefix with a field (smtp.auth.x → smtp.auth → smtp). */
function fieldFor(path: string): HTMLElement | null {
  const parts = path.split('.');
  while (parts.length > 0) {
    const node = document.getElementById(`f-${parts.join('-')}`);
    if (node && !node.closest('[hidden]')) return node;
    parts.pop();
  }
  return null;
}

function labelOf(field: HTMLElement): string {
  const label =
    field instanceof HTMLFieldSetElement
      ? field.querySelector('legend')
      : document.querySelector(`label[for="${field.id}"]`);
  if (!label) return field.id;
  const copy = label.cloneNode(true);
  if (!(copy instanceof Element)) return field.id;
  for (const badge of copy.querySelectorAll('.secret-state')) badge.remove();
  return (copy.textContent ?? '').trim();
}

function focusTargetOf(field: HTMLElement): HTMLElement {
  if (!(field instanceof HTMLFieldSetElement)) return field;
  const first = field.querySelector('input:not([type=hidden]),select');
  return first instanceof HTMLElement ? first : field;
}

export function clearErrors(): void {
  byId('error-summary').hidden = true;
  byId('error-list').textContent = '';
  for (const error of document.querySelectorAll('#config-form .error')) {
    if (!(error instanceof HTMLElement)) continue;
    error.textContent = '';
    error.hidden = true;
  }
  for (const field of document.querySelectorAll('#config-form [aria-invalid]')) {
    field.removeAttribute('aria-invalid');
  }
}

/**
 * The server's field issues next to their fields, and linked from a summary that takes the focus.
 * `action` says what did not happen: the save, or the test email of the form.
 */
export function showErrors(message: string, issues: FieldIssue[], action: 'save' | 'test' = 'save'): void {
  const list = byId('error-list');
  const count = issues.length;
  const what = action === 'save' ? t('errors.notSaved') : t('errors.notTested');
  byId('error-summary-title').textContent = count > 0 ? `${what}: ${tn('errors.problems', count)}` : what;
  const items = count > 0 ? issues : [{ path: '', message }];
  for (const issue of items) {
    const field = fieldFor(issue.path);
    const item = el('li');
    if (field) {
      const error = document.getElementById(`${field.id}-error`);
      if (error) {
        error.textContent =
          error.hidden || !error.textContent ? issue.message : `${error.textContent}; ${issue.message}`;
        error.hidden = false;
      }
      if (!(field instanceof HTMLFieldSetElement)) field.setAttribute('aria-invalid', 'true');
      const target = focusTargetOf(field);
      const link = el('a', `${labelOf(field)}: ${issue.message}`);
      link.href = `#${target.id}`;
      link.addEventListener('click', (event) => {
        event.preventDefault();
        target.focus();
      });
      item.append(link);
    } else {
      item.textContent = (issue.path ? `${issue.path}: ` : '') + issue.message;
    }
    list.append(item);
  }
  byId('error-summary').hidden = false;
  byId('error-summary').focus();
  status(
    'save-status',
    t(action === 'save' ? 'errors.statusSave' : 'errors.statusTest', {
      problems: tn('errors.problems', Math.max(count, 1)),
    }),
    'bad',
  );
}

// ------------------------------------------------------------------ what changed meanwhile

/** A configuration as comparable lines: field path → its value as text (secrets left out). */
function flatten(config: {
  sender?: unknown;
  transport?: unknown;
  smtp?: unknown;
  adminContacts?: unknown;
  dailyNotice?: unknown;
  language?: unknown;
  repeatIntervalMinutes?: unknown;
  grouping?: unknown;
}): Map<string, string> {
  const lines = new Map<string, string>();
  const text = (value: unknown): string =>
    Array.isArray(value) ? value.join(' ') : value === undefined || value === null ? '' : String(value);
  const walk = (prefix: string, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) {
        // Secrets and what the server derives are not the admin's fields.
        if (/password|clientSecret|Set$|effectiveLimits/.test(key)) continue;
        walk(prefix ? `${prefix}.${key}` : key, inner);
      }
      return;
    }
    lines.set(prefix, text(value).trim().split(/\s+/).join(' '));
  };
  const { sender, transport, smtp, adminContacts, dailyNotice, language, repeatIntervalMinutes, grouping } =
    config;
  walk('', {
    sender,
    transport,
    smtp,
    adminContacts,
    dailyNotice,
    language,
    repeatIntervalMinutes,
    grouping,
  });
  return lines;
}

/** The label of the field an issue path names, or the path itself. */
export function fieldLabel(path: string): string {
  const field = fieldFor(path);
  return field ? labelOf(field) : path;
}

/**
 * Where the form differs from a configuration someone else saved meanwhile: the fields whose
 * values differ, with both values (secrets are never compared: they are not shown).
 */
export function differences(
  saved: PublicEmailConfig,
): Array<{ label: string; saved: string; yours: string }> {
  const theirs = flatten(saved);
  const yours = flatten(collect());
  const paths = new Set([...theirs.keys(), ...yours.keys()]);
  const changed: Array<{ label: string; saved: string; yours: string }> = [];
  for (const path of paths) {
    const a = theirs.get(path) ?? '';
    const b = yours.get(path) ?? '';
    // A field the form leaves out takes the server's default: not a difference of the admin's.
    if (a !== b && yours.has(path)) changed.push({ label: fieldLabel(path), saved: a, yours: b });
  }
  return changed;
}
