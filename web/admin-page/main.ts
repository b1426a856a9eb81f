// The admin page (Management > Email configuration), served as /admin/app.js. It signs the admin
// in and opens on the fleet overview (every cluster with its health); a cluster's link
// (`#cluster=<id>`, also the emails' link) opens its form, its last test email, its history and
// its delivery log. "Send test email" tests the form as it is; "Save" can save only when the test
// email is delivered. Unsaved edits are never dropped without asking. English or German.
import { DEFAULT_CLUSTER_ID, isClusterId } from '../../functions/kernel/cluster-id.js';
import { ADMIN_PAGE_CLUSTER_KEY } from '../../functions/kernel/public-paths.js';
import {
  type ApiResult,
  type AuthorizeResponse,
  apiClient,
  type ConditionSummary,
  errorText,
  type NotDeliveredBody,
  type PageConfig,
  type PreconditionFailedBody,
  type PublicEmailConfig,
  type SaveResponse,
  type TestEmailResult,
} from './api-client.js';
import {
  applyPreset,
  clearErrors,
  collect,
  differences,
  fillForm,
  formState,
  onFlowChange,
  onProviderChange,
  onRelayPresetChange,
  renderChoices,
  showErrors,
  syncRelayPreset,
  updateLimitsHint,
  updateVisibility,
} from './config-form.js';
import { ask } from './confirm-dialog.js';
import { deliveryLog } from './delivery-log.js';
import { button, byId, el, form, input, radio, type StatusKind, select, status, value, when } from './dom.js';
import { configHistory } from './history.js';
import { language, onLanguageChange, setLanguage, t, toUiLanguage, translateStatic } from './i18n.js';
import { clusterHash, fleetOverview } from './overview.js';
import { renderOAuth, showTestResult } from './result-views.js';
import { clearToken, completeOidc, readJson, readToken, signInWithOidc, storeToken } from './session.js';

/** The cluster whose Authorize flow left the page for the provider. */
const PENDING_KEY = 'appliance-notifier.authorizing';
/** Clusters opened in this browser, most recent first (ids only). */
const CLUSTERS_KEY = 'appliance-notifier.clusters';
const RECENT_CLUSTERS = 10;
/** The cluster an email's link selected (`#cluster=<id>`), kept across the sign-in's redirects. */
const LINKED_KEY = 'appliance-notifier.linked-cluster';

/** The cluster a `#cluster=<id>` hash names, if it is a valid id. */
function hashCluster(hash: string = location.hash): string | undefined {
  const id = new URLSearchParams(hash.slice(1)).get(ADMIN_PAGE_CLUSTER_KEY);
  return id && isClusterId(id) ? id : undefined;
}

{
  const linked = hashCluster();
  if (linked) sessionStorage.setItem(LINKED_KEY, linked);
}

const api = apiClient(new URL('../', location.href), () => signOut(t('session.expired')));
const state: {
  page: PageConfig;
  /** The cluster the form shows, or undefined on the overview. */
  cluster: string | undefined;
  /** The configuration as loaded or saved (for re-rendering it in another language). */
  config: PublicEmailConfig | null;
  /** Its version as the server named it (ETag): saves, restores and deletes send it as If-Match. */
  etag: string | undefined;
  busy: boolean;
  conditions: ConditionSummary[];
  signedIn: boolean;
  flash: { text: string; kind: StatusKind } | undefined;
} = {
  /** Replaced by /admin/config.json at start. */
  page: { auth: { mode: 'token' } },
  cluster: undefined,
  config: null,
  etag: undefined,
  /** An action (save, test, authorize, delete) is running. */
  busy: false,
  conditions: [],
  signedIn: false,
  flash: undefined,
};

const currentCluster = () => state.cluster ?? DEFAULT_CLUSTER_ID;
const clusterPath = () => `clusters/${encodeURIComponent(currentCluster())}`;

const overview = fleetOverview({ api, conditions: () => state.conditions, href: clusterHash });
const log = deliveryLog({ api, cluster: currentCluster, conditions: () => state.conditions });
const versions = configHistory({
  api,
  cluster: currentCluster,
  etag: () => state.etag,
  confirmRestore: async (version) =>
    !formState.dirty ||
    ask({
      title: t('unsaved.title'),
      message: t('unsaved.restore', { version }),
      confirm: t('unsaved.discardAndRestore'),
      danger: true,
    }),
  restored: (config, version, _from, etag) => {
    state.config = config;
    state.etag = etag;
    hideConflict();
    fillForm(config);
    clearErrors();
    byId('test-result').hidden = true;
    status('save-status', '');
    status('load-status', t('load.restored', { version }), 'ok');
  },
});

// ------------------------------------------------------------------ sign-in
function showSignIn(message?: string): void {
  state.signedIn = false;
  byId('workspace').hidden = true;
  byId('session').hidden = true;
  byId('sign-in').hidden = false;
  const oidc = state.page.auth.mode === 'oidc';
  form('token-form').hidden = oidc;
  byId('oidc-sign-in').hidden = !oidc;
  status('sign-in-status', message || '', message ? 'bad' : '');
  (oidc ? button('oidc-button') : input('token')).focus();
}

function signOut(message: string): void {
  clearToken();
  formState.dirty = false;
  showSignIn(message);
}

async function signInWithToken(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const token = value('token');
  const error = byId('token-error');
  const field = input('token');
  error.hidden = true;
  field.removeAttribute('aria-invalid');
  if (!token) {
    error.textContent = t('signIn.enterToken');
  } else {
    status('sign-in-status', t('signIn.signingIn'));
    const res = await api('GET', 'conditions', undefined, { token });
    if (res.ok) {
      storeToken(token);
      field.value = '';
      status('sign-in-status', '');
      enterWorkspace();
      return;
    }
    status('sign-in-status', '');
    error.textContent = res.status === 401 ? t('signIn.refused') : errorText(res);
  }
  error.hidden = false;
  field.setAttribute('aria-invalid', 'true');
  field.focus();
}

// ------------------------------------------------------------------ clusters
function recentClusters(): string[] {
  const list = readJson(localStorage, CLUSTERS_KEY);
  return Array.isArray(list)
    ? list.filter((id): id is string => typeof id === 'string' && isClusterId(id))
    : [];
}

function rememberCluster(id: string): void {
  const list = [id, ...recentClusters().filter((c) => c !== id)].slice(0, RECENT_CLUSTERS);
  localStorage.setItem(CLUSTERS_KEY, JSON.stringify(list));
  renderClusterList();
}

function renderClusterList(): void {
  const datalist = byId('cluster-list');
  datalist.textContent = '';
  for (const id of new Set([...overview.ids(), ...recentClusters(), DEFAULT_CLUSTER_ID])) {
    const option = el('option');
    option.value = id;
    datalist.append(option);
  }
}

function showWho(): void {
  const token = readToken();
  byId('session-who').textContent = token?.who
    ? t('session.signedInAs', { who: token.who })
    : t('session.signedIn');
}

async function loadConditions(): Promise<void> {
  const res = await api<{ items: ConditionSummary[] }>('GET', 'conditions');
  if (res.ok) {
    state.conditions = res.data.items;
    overview.render();
    log.render();
  }
}

function enterWorkspace(): void {
  state.signedIn = true;
  byId('sign-in').hidden = true;
  byId('workspace').hidden = false;
  byId('session').hidden = false;
  showWho();
  renderClusterList();
  void loadConditions();
  const pending = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const linked = sessionStorage.getItem(LINKED_KEY);
  sessionStorage.removeItem(LINKED_KEY);
  const cluster =
    pending && isClusterId(pending) ? pending : linked && isClusterId(linked) ? linked : undefined;
  if (cluster) history.replaceState(null, '', clusterHash(cluster));
  void showRoute(Boolean(pending));
}

/** Shows what the address names: a cluster's form, or the overview. */
async function showRoute(returningFromAuthorize = false): Promise<void> {
  const cluster = hashCluster();
  // A message for the view that comes next (a delete's), shown once.
  status('page-status', state.flash?.text, state.flash?.kind);
  state.flash = undefined;
  window.scrollTo(0, 0);
  if (cluster) {
    byId('overview').hidden = true;
    byId('cluster-view').hidden = false;
    await openCluster(cluster, returningFromAuthorize);
  } else {
    state.cluster = undefined;
    state.config = null;
    byId('cluster-view').hidden = true;
    byId('overview').hidden = false;
    await overview.load();
    renderClusterList();
  }
}

/** The address changed (a link, Back, the form): asks before unsaved edits would be dropped. */
async function onHashChange(): Promise<void> {
  if (!state.signedIn) return;
  const target = hashCluster();
  if (state.cluster !== undefined && target !== state.cluster && formState.dirty) {
    const leave = await ask({
      title: t('unsaved.title'),
      message: t('unsaved.leave', { cluster: state.cluster }),
      confirm: t('unsaved.discard'),
      danger: true,
    });
    if (!leave) {
      history.replaceState(null, '', clusterHash(state.cluster));
      return;
    }
    formState.dirty = false;
  }
  await showRoute();
}

function resetClusterView(id: string): void {
  state.cluster = id;
  hideConflict();
  byId('cluster-name').textContent = id;
  clearErrors();
  byId('test-result').hidden = true;
  status('save-status', '');
  status('authorize-status', '');
  versions.clear();
}

async function openCluster(id: string, returningFromAuthorize: boolean): Promise<void> {
  resetClusterView(id);
  status('load-status', t('load.loading', { cluster: id }));
  const [res] = await Promise.all([
    api<PublicEmailConfig>('GET', `${clusterPath()}/email-config`),
    versions.load(),
    log.load(),
  ]);
  if (state.cluster !== id) return; // another cluster was opened meanwhile
  if (res.ok && res.status === 200) {
    state.config = res.data;
    state.etag = res.etag;
    fillForm(res.data);
    status('load-status', loadedText(res.data));
    rememberCluster(id);
  } else if (res.status === 404) {
    state.config = null;
    state.etag = undefined;
    fillForm(null);
    status('load-status', t('load.none', { cluster: id }));
  } else if (res.status !== 401) {
    status('load-status', t('load.failed', { cluster: id, error: errorText(res) }), 'bad');
  }
  button('delete-config').hidden = !state.config;
  if (returningFromAuthorize && res.ok && res.status === 200) {
    const authorized = res.data.oauth?.status === 'authorized';
    status(
      'authorize-status',
      authorized ? t('oauth.backOk') : t('oauth.backNot'),
      authorized ? 'ok' : 'bad',
    );
    byId('oauth-panel').scrollIntoView();
    button('authorize').focus();
  }
}

const loadedText = (config: PublicEmailConfig): string =>
  config.updatedAt
    ? t('load.loadedAt', { cluster: config.clusterId, at: when(config.updatedAt).textContent ?? '' })
    : t('load.loaded', { cluster: config.clusterId });

// ------------------------------------------------------------------ actions
/** Runs one action at a time; the button says it is busy meanwhile. */
async function busy(target: HTMLButtonElement, work: () => Promise<void>): Promise<void> {
  if (state.busy) return;
  state.busy = true;
  target.setAttribute('aria-disabled', 'true');
  try {
    await work();
  } finally {
    state.busy = false;
    target.removeAttribute('aria-disabled');
  }
}

/**
 * Shows "Sending test email… N s" in a status line, counted up each second from the start, until
 * the returned stop is called. The line is aria-busy meanwhile, so a screen reader announces the
 * result that replaces it rather than every second of the count.
 */
function testProgress(id: string): () => void {
  const node = byId(id);
  const started = Date.now();
  const show = () => {
    status(id, t('test.progress', { seconds: Math.floor((Date.now() - started) / 1000) }));
  };
  node.setAttribute('aria-busy', 'true');
  show();
  const timer = window.setInterval(show, 1000);
  return () => {
    window.clearInterval(timer);
    node.removeAttribute('aria-busy');
  };
}

const isNotDelivered = (data: unknown): data is NotDeliveredBody =>
  typeof data === 'object' && data !== null && 'testEmail' in data && 'error' in data;

function save(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  return busy(button('save'), async () => {
    clearErrors();
    byId('test-result').hidden = true;
    const withTest = input('send-test').checked;
    const onlyIfDelivered = withTest && input('only-if-delivered').checked;
    if (!withTest) status('save-status', t('save.saving'));
    const stop = withTest ? testProgress('save-status') : () => {};
    const query = withTest ? `?sendTestEmail=true${onlyIfDelivered ? '&saveOnlyIfDelivered=true' : ''}` : '';
    const res = await api<SaveResponse>(
      'PUT',
      `${clusterPath()}/email-config${query}`,
      collect(),
      state.etag ? { ifMatch: state.etag } : {},
    ).finally(stop);
    if (res.ok && (res.status === 200 || res.status === 201)) {
      const { config, testEmail } = res.data;
      state.config = config;
      state.etag = res.etag;
      hideConflict();
      fillForm(config);
      button('delete-config').hidden = false;
      rememberCluster(currentCluster());
      status('load-status', '');
      const version = res.data.version ? t('save.version', { version: res.data.version }) : '';
      const saved = res.status === 201 ? t('save.created', { cluster: currentCluster() }) : t('save.saved');
      const tested = testEmail ? (testEmail.ok ? t('save.testSent') : t('save.testFailed')) : '';
      status(
        'save-status',
        [saved, version, tested].filter(Boolean).join(' '),
        testEmail && !testEmail.ok ? 'bad' : 'ok',
      );
      if (testEmail) showTestResult(testEmail);
    } else if (!res.ok && res.status === 422 && isNotDelivered(res.data)) {
      // Nothing was stored: the form keeps the edits, the live configuration is unchanged.
      status('save-status', t('save.notDelivered'), 'bad');
      showTestResult(res.data.testEmail, 'test.titleNotSaved');
    } else if (!res.ok && res.status === 400 && res.data) {
      showErrors(res.data.error || t('errors.invalid'), res.data.issues || []);
    } else if (res.status === 412) {
      showConflict(res);
    } else if (res.status !== 401) {
      status('save-status', t('save.failed', { error: errorText(res) }), 'bad');
    } else {
      status('save-status', ''); // signed out: the sign-in form says why
    }
    void versions.load();
  });
}

/** Sends a test email with the form as it is (saved or not); nothing is stored but its result. */
function sendTest(): Promise<void> {
  return busy(button('test-button'), async () => {
    clearErrors();
    const stop = testProgress('save-status');
    // The form as it is when it has edits; else the saved configuration, so the result counts for its version.
    const res = await api<TestEmailResult>(
      'POST',
      `${clusterPath()}/email-config/test`,
      formState.dirty || !state.config ? collect() : undefined,
    ).finally(stop);
    if (res.ok) {
      status(
        'save-status',
        res.data.ok ? (formState.dirty ? t('test.sentUnsaved') : t('test.sentOk')) : t('test.failedSee'),
        res.data.ok ? 'ok' : 'bad',
      );
      showTestResult(res.data);
    } else if (res.status === 400 && res.data) {
      showErrors(res.data.error || t('errors.invalid'), res.data.issues || [], 'test');
    } else if (res.status !== 401) {
      status('save-status', t('test.couldNotSend', { error: errorText(res) }), 'bad');
    } else {
      status('save-status', ''); // signed out: the sign-in form says why
    }
    void versions.load();
  });
}

function hideConflict(): void {
  byId('conflict').hidden = true;
  byId('conflict-list').textContent = '';
}

/**
 * Someone else saved since this form was loaded (412): says who and when, lists where their
 * version differs from the form, and takes their version as the base, so that saving again
 * replaces it on purpose. The form keeps every edit.
 */
function showConflict(res: ApiResult<unknown>): void {
  const current = !res.ok && isConflictBody(res.data) ? res.data.current : null;
  const list = byId('conflict-list');
  list.textContent = '';
  byId('conflict-title').textContent = t('conflict.title');
  if (!current) {
    byId('conflict-message').textContent = t('conflict.deleted');
    state.etag = undefined;
  } else {
    state.etag = current.etag;
    state.config = current.config;
    const changed = differences(current.config);
    const params = {
      version: current.version,
      who: current.savedBy ?? '?',
      at: current.savedAt ? (when(current.savedAt).textContent ?? '') : '?',
    };
    byId('conflict-message').textContent = t(changed.length ? 'conflict.message' : 'conflict.same', params);
    for (const change of changed) {
      list.append(
        el(
          'li',
          t('conflict.field', {
            field: change.label,
            saved: change.saved || '—',
            yours: change.yours || '—',
          }),
        ),
      );
    }
  }
  byId('conflict').hidden = false;
  byId('conflict').focus();
  status('save-status', t('conflict.status'), 'bad');
  void versions.load();
}

const isConflictBody = (data: unknown): data is PreconditionFailedBody =>
  typeof data === 'object' && data !== null && 'current' in data;

function deleteConfig(): Promise<void> {
  return busy(button('delete-config'), async () => {
    const cluster = currentCluster();
    const confirmed = await ask({
      title: t('delete.title', { cluster }),
      message: t('delete.message', { cluster }),
      confirm: t('delete.confirm'),
      danger: true,
    });
    if (!confirmed) return;
    status('save-status', t('delete.deleting'));
    const res = await api(
      'DELETE',
      `${clusterPath()}/email-config`,
      undefined,
      state.etag ? { ifMatch: state.etag } : {},
    );
    if (res.status === 412) {
      showConflict(res);
    } else if (res.ok || res.status === 404) {
      formState.dirty = false;
      status('save-status', '');
      state.flash = { text: t('delete.done', { cluster }), kind: 'ok' };
      location.hash = '';
    } else if (res.status !== 401) {
      status('save-status', t('delete.failed', { error: errorText(res) }), 'bad');
    }
  });
}

function authorize(): Promise<void> {
  return busy(button('authorize'), async () => {
    if (formState.dirty) {
      status('authorize-status', t('oauth.saveChangesFirst'), 'bad');
      return;
    }
    status('authorize-status', t('oauth.starting'));
    const res = await api<AuthorizeResponse>('GET', `${clusterPath()}/oauth/authorize?format=json`);
    let url: URL | null = null;
    try {
      url = res.ok && res.data?.url ? new URL(res.data.url) : null;
    } catch {
      url = null;
    }
    if (!url || !/^https?:$/.test(url.protocol)) {
      if (res.status !== 401) {
        status(
          'authorize-status',
          t('oauth.didNotStart', { error: res.ok ? t('oauth.noUrl') : errorText(res) }),
          'bad',
        );
      }
      return;
    }
    sessionStorage.setItem(PENDING_KEY, currentCluster());
    formState.dirty = false;
    status('authorize-status', t('oauth.opening'));
    location.assign(url.toString());
  });
}

async function copyRedirect(): Promise<void> {
  const field = input('redirect-uri');
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {
    // No clipboard API (e.g. a plain-http origin other than localhost): the old way.
    field.select();
    document.execCommand('copy');
  }
  status('copy-status', t('form.copied'), 'ok');
}

function openClusterFromForm(event: SubmitEvent): void {
  event.preventDefault();
  const id = value('cluster');
  const error = byId('cluster-error');
  const field = input('cluster');
  error.hidden = true;
  field.removeAttribute('aria-invalid');
  if (!isClusterId(id)) {
    error.textContent = t('overview.invalidId');
    error.hidden = false;
    field.setAttribute('aria-invalid', 'true');
    field.focus();
    return;
  }
  field.value = '';
  location.hash = clusterHash(id);
}

/** Everything code wrote, again in the language just chosen. */
function rerender(): void {
  renderChoices();
  renderOAuth(state.config);
  showWho();
  overview.render();
  versions.render();
  log.render();
  if (state.cluster && state.config) status('load-status', loadedText(state.config));
}

// ------------------------------------------------------------------ start
function bind(): void {
  form('token-form').addEventListener('submit', signInWithToken);
  button('oidc-button').addEventListener('click', () => {
    if (state.page.auth.mode === 'oidc') void signInWithOidc(state.page.auth);
  });
  button('sign-out').addEventListener('click', () => signOut(t('session.signedOut')));
  const languageSwitch = select('ui-language');
  languageSwitch.value = language();
  languageSwitch.addEventListener('change', () => {
    const chosen = toUiLanguage(languageSwitch.value);
    if (chosen) setLanguage(chosen);
  });
  onLanguageChange(rerender);
  form('cluster-form').addEventListener('submit', openClusterFromForm);
  window.addEventListener('hashchange', () => void onHashChange());
  window.addEventListener('beforeunload', (event) => {
    if (!formState.dirty || !state.signedIn) return;
    event.preventDefault();
    event.returnValue = '';
  });
  button('refresh-overview').addEventListener('click', () => void overview.load());
  const configForm = form('config-form');
  configForm.addEventListener('submit', save);
  const markDirty = (event: Event) => {
    const target = event.target;
    if (
      !(
        target instanceof HTMLInputElement ||
        target instanceof HTMLSelectElement ||
        target instanceof HTMLTextAreaElement
      )
    )
      return;
    if (!['send-test', 'only-if-delivered', 'redirect-uri'].includes(target.id)) formState.dirty = true;
    if (target.id === 'send-test') byId('only-if-delivered-field').hidden = !input('send-test').checked;
    if (target.name === 'transport' || target.name === 'smtp.auth.type') {
      if (radio('smtp.auth.type') === 'oauth2') applyPreset(null, '');
      updateVisibility();
    }
  };
  configForm.addEventListener('input', markDirty);
  configForm.addEventListener('change', markDirty);
  const providerField = select('f-smtp-auth-provider');
  let provider = providerField.value;
  providerField.addEventListener('change', () => {
    onProviderChange(provider);
    provider = providerField.value;
  });
  input('f-smtp-auth-tenant').addEventListener('input', () => onProviderChange(provider));
  select('f-smtp-auth-flow').addEventListener('change', onFlowChange);
  for (const id of ['f-smtp-host', 'f-smtp-limits-maxConnections', 'f-smtp-limits-messagesPerMinute']) {
    input(id).addEventListener('input', updateLimitsHint);
  }
  select('f-smtp-preset').addEventListener('change', onRelayPresetChange);
  select('f-smtp-preset-region').addEventListener('change', onRelayPresetChange);
  for (const id of ['f-smtp-host', 'f-smtp-port']) input(id).addEventListener('input', syncRelayPreset);
  select('f-smtp-encryption').addEventListener('change', syncRelayPreset);
  button('test-button').addEventListener('click', sendTest);
  button('delete-config').addEventListener('click', deleteConfig);
  button('authorize').addEventListener('click', authorize);
  button('copy-redirect').addEventListener('click', copyRedirect);
  button('refresh-deliveries').addEventListener('click', () => void log.load());
  button('more-deliveries').addEventListener('click', () => void log.load(true));
  for (const id of ['filter-outcome', 'filter-condition']) {
    select(id).addEventListener('change', () => void log.load());
  }
}

async function start(): Promise<void> {
  translateStatic();
  renderChoices();
  bind();
  log.render();
  try {
    const response = await fetch('config.json', { cache: 'no-cache', credentials: 'omit' });
    state.page = await response.json();
  } catch {
    state.page = { auth: { mode: 'token' } };
  }
  input('redirect-uri').value =
    state.page.smtpRedirectUri || new URL('../login/smtp-verification/', location.href).href;
  const problem = state.page.auth.mode === 'oidc' ? await completeOidc(state.page.auth) : undefined;
  if (!problem && readToken()) enterWorkspace();
  else showSignIn(problem);
}

void start();
