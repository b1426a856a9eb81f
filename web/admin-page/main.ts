// The admin page (Management > Email configuration), served as /admin/app.js: signs the admin
// in, loads a cluster's configuration into the form, saves it, sends test emails, runs the
// OAuth2 Authorize flow and shows the delivery log. The cluster-id rule is the kernel's own.
import { CLUSTER_ID_MESSAGE, DEFAULT_CLUSTER_ID, isClusterId } from '../../functions/kernel/cluster-id.js';
import { ADMIN_PAGE_CLUSTER_KEY } from '../../functions/kernel/public-paths.js';
import {
  type AuthorizeResponse,
  apiClient,
  type DeliveriesResponse,
  errorText,
  type PageConfig,
  type PublicEmailConfig,
  type SaveResponse,
  type TestEmailResult,
} from './api-client.js';
import {
  applyPreset,
  clearErrors,
  collect,
  fillForm,
  formState,
  onProviderChange,
  onRelayPresetChange,
  renderChoices,
  showErrors,
  syncRelayPreset,
  updateLimitsHint,
  updateVisibility,
} from './config-form.js';
import { button, byId, el, form, input, radio, select, status, value, when } from './dom.js';
import { renderDeliveries, showTestResult } from './result-views.js';
import { clearToken, completeOidc, readJson, readToken, signInWithOidc, storeToken } from './session.js';

/** The cluster whose Authorize flow left the page for the provider. */
const PENDING_KEY = 'appliance-notifier.authorizing';
/** Clusters loaded in this browser, most recent first (ids only). */
const CLUSTERS_KEY = 'appliance-notifier.clusters';
const RECENT_CLUSTERS = 10;
/** The cluster an email's link selected (`#cluster=<id>`), kept across the sign-in's redirects. */
const LINKED_KEY = 'appliance-notifier.linked-cluster';

{
  const linked = new URLSearchParams(location.hash.slice(1)).get(ADMIN_PAGE_CLUSTER_KEY);
  if (linked && isClusterId(linked)) sessionStorage.setItem(LINKED_KEY, linked);
}

const api = apiClient(new URL('../', location.href), () =>
  signOut('Your sign-in is no longer valid: sign in again.'),
);
const state: { page: PageConfig; cluster: string; busy: boolean } = {
  /** Replaced by /admin/config.json at start. */
  page: { auth: { mode: 'token' } },
  cluster: DEFAULT_CLUSTER_ID,
  /** An action (save, test, authorize) is running. */
  busy: false,
};

// ------------------------------------------------------------------ sign-in
function showSignIn(message?: string): void {
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
    error.textContent = 'Enter the admin token.';
  } else {
    status('sign-in-status', 'Signing in…');
    const res = await api('GET', 'conditions', undefined, { token });
    if (res.ok) {
      storeToken(token);
      field.value = '';
      status('sign-in-status', '');
      enterWorkspace();
      return;
    }
    status('sign-in-status', '');
    error.textContent = res.status === 401 ? 'This token was not accepted.' : errorText(res);
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
  for (const id of new Set([...recentClusters(), DEFAULT_CLUSTER_ID])) {
    const option = el('option');
    option.value = id;
    datalist.append(option);
  }
}

const clusterPath = () => `clusters/${encodeURIComponent(state.cluster)}`;

function enterWorkspace(): void {
  const token = readToken();
  byId('sign-in').hidden = true;
  byId('workspace').hidden = false;
  byId('session').hidden = false;
  byId('session-who').textContent = token?.who ? `Signed in as ${token.who}` : 'Signed in';
  renderClusterList();
  const pending = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const linked = sessionStorage.getItem(LINKED_KEY);
  sessionStorage.removeItem(LINKED_KEY);
  const cluster =
    pending && isClusterId(pending) ? pending : linked && isClusterId(linked) ? linked : DEFAULT_CLUSTER_ID;
  input('cluster').value = cluster;
  void loadCluster(cluster, Boolean(pending));
}

async function loadCluster(id: string, returningFromAuthorize: boolean): Promise<void> {
  const error = byId('cluster-error');
  const field = input('cluster');
  error.hidden = true;
  field.removeAttribute('aria-invalid');
  if (!isClusterId(id)) {
    error.textContent = `A cluster id ${CLUSTER_ID_MESSAGE}.`;
    error.hidden = false;
    field.setAttribute('aria-invalid', 'true');
    field.focus();
    return;
  }
  state.cluster = id;
  byId('cluster-name').textContent = id;
  clearErrors();
  byId('test-result').hidden = true;
  status('save-status', '');
  status('authorize-status', '');
  status('load-status', `Loading cluster ${id}…`);
  const res = await api<PublicEmailConfig>('GET', `${clusterPath()}/email-config`);
  if (res.ok && res.status === 200) {
    fillForm(res.data);
    const saved = res.data.updatedAt ? `, last saved ${when(res.data.updatedAt).textContent}` : '';
    status('load-status', `Loaded the configuration of cluster ${id}${saved}.`);
    rememberCluster(id);
  } else if (res.status === 404) {
    fillForm(null);
    status('load-status', `Cluster ${id} has no configuration yet: fill in the form and save.`);
    rememberCluster(id);
  } else if (res.status !== 401) {
    status('load-status', `Could not load cluster ${id}: ${errorText(res)}`, 'bad');
  }
  if (returningFromAuthorize && res.ok && res.status === 200) {
    const authorized = res.data.oauth?.status === 'authorized';
    status(
      'authorize-status',
      authorized
        ? 'Back from the provider: authorized.'
        : 'Back from the provider: not authorized yet (see above).',
      authorized ? 'ok' : 'bad',
    );
    byId('oauth-panel').scrollIntoView();
    button('authorize').focus();
  }
  void loadDeliveries();
}

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
    status(id, `Sending test email… ${Math.floor((Date.now() - started) / 1000)} s`);
  };
  node.setAttribute('aria-busy', 'true');
  show();
  const timer = window.setInterval(show, 1000);
  return () => {
    window.clearInterval(timer);
    node.removeAttribute('aria-busy');
  };
}

function save(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  return busy(button('save'), async () => {
    clearErrors();
    const withTest = input('send-test').checked;
    if (!withTest) status('save-status', 'Saving…');
    const stop = withTest ? testProgress('save-status') : () => {};
    const res = await api<SaveResponse>(
      'PUT',
      `${clusterPath()}/email-config${withTest ? '?sendTestEmail=true' : ''}`,
      collect(),
    ).finally(stop);
    if (res.ok && (res.status === 200 || res.status === 201)) {
      const { config, testEmail } = res.data;
      fillForm(config);
      rememberCluster(state.cluster);
      status('load-status', '');
      const saved =
        res.status === 201 ? `Saved: cluster ${state.cluster} now has a configuration.` : 'Saved.';
      const tested = testEmail
        ? testEmail.ok
          ? ' The test email was sent.'
          : ' The test email failed: see the result below.'
        : '';
      status('save-status', saved + tested, 'ok');
      if (testEmail) showTestResult(testEmail);
    } else if (!res.ok && res.status === 400 && res.data) {
      showErrors(res.data.error || 'Invalid configuration', res.data.issues || []);
    } else if (res.status !== 401) {
      status('save-status', `Not saved: ${errorText(res)}`, 'bad');
    } else {
      status('save-status', ''); // signed out: the sign-in form says why
    }
  });
}

function sendTest(): Promise<void> {
  return busy(button('test-button'), async () => {
    const stop = testProgress('save-status');
    const res = await api<TestEmailResult>('POST', `${clusterPath()}/email-config/test`).finally(stop);
    if (res.ok) {
      status(
        'save-status',
        res.data.ok ? 'The test email was sent.' : 'The test email failed: see the result below.',
        res.data.ok ? 'ok' : 'bad',
      );
      showTestResult(res.data);
    } else if (res.status === 404) {
      status('save-status', `Cluster ${state.cluster} has no saved configuration yet: save first.`, 'bad');
    } else if (res.status !== 401) {
      status('save-status', `The test email could not be sent: ${errorText(res)}`, 'bad');
    } else {
      status('save-status', ''); // signed out: the sign-in form says why
    }
  });
}

function authorize(): Promise<void> {
  return busy(button('authorize'), async () => {
    if (formState.dirty) {
      status('authorize-status', 'Save your changes first: Authorize uses the saved configuration.', 'bad');
      return;
    }
    status('authorize-status', 'Starting the authorization…');
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
          `Authorize did not start: ${res.ok ? 'no provider address returned' : errorText(res)}`,
          'bad',
        );
      }
      return;
    }
    sessionStorage.setItem(PENDING_KEY, state.cluster);
    status('authorize-status', 'Opening the provider’s sign-in…');
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
  status('copy-status', 'Copied the redirect URI.', 'ok');
}

async function loadDeliveries(): Promise<void> {
  status('deliveries-status', 'Loading the delivery log…');
  const res = await api<DeliveriesResponse>('GET', `${clusterPath()}/deliveries?limit=50`);
  if (!res.ok) {
    if (res.status !== 401)
      status('deliveries-status', `Could not load the delivery log: ${errorText(res)}`, 'bad');
    return;
  }
  const items = res.data?.items ?? [];
  renderDeliveries(items, state.cluster);
  status('deliveries-status', items.length === 1 ? '1 event.' : `${items.length} events.`);
}

// ------------------------------------------------------------------ start
function bind(): void {
  form('token-form').addEventListener('submit', signInWithToken);
  button('oidc-button').addEventListener('click', () => {
    if (state.page.auth.mode === 'oidc') void signInWithOidc(state.page.auth);
  });
  button('sign-out').addEventListener('click', () => signOut('Signed out.'));
  form('cluster-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void loadCluster(value('cluster'), false);
  });
  const configForm = form('config-form');
  configForm.addEventListener('submit', save);
  const markDirty = (event: Event) => {
    const target = event.target;
    if (!(target instanceof HTMLInputElement || target instanceof HTMLSelectElement)) return;
    if (target.id !== 'send-test' && target.id !== 'redirect-uri') formState.dirty = true;
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
  for (const id of ['f-smtp-host', 'f-smtp-limits-maxConnections', 'f-smtp-limits-messagesPerMinute']) {
    input(id).addEventListener('input', updateLimitsHint);
  }
  select('f-smtp-preset').addEventListener('change', onRelayPresetChange);
  select('f-smtp-preset-region').addEventListener('change', onRelayPresetChange);
  for (const id of ['f-smtp-host', 'f-smtp-port']) input(id).addEventListener('input', syncRelayPreset);
  select('f-smtp-encryption').addEventListener('change', syncRelayPreset);
  button('test-button').addEventListener('click', sendTest);
  button('authorize').addEventListener('click', authorize);
  button('copy-redirect').addEventListener('click', copyRedirect);
  button('refresh-deliveries').addEventListener('click', loadDeliveries);
}

async function start(): Promise<void> {
  renderChoices();
  bind();
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
