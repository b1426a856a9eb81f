// The admin page's script, served as /admin/app.js. Plain browser JavaScript kept as a string
// (the project compiles for Node without DOM types, and the Lambda bundle must carry it without
// file access). It never writes server data as HTML: every value goes in through textContent.
// Kept free of backticks and "${" so it can live in this String.raw template.
export const APP_JS = String.raw`(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = 'appliance-notifier.token';
  const OIDC_KEY = 'appliance-notifier.oidc';
  const PENDING_KEY = 'appliance-notifier.authorizing';
  const CLUSTERS_KEY = 'appliance-notifier.clusters';
  const CLUSTER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
  const apiBase = new URL('../', location.href);
  const state = { page: null, cluster: 'default', config: null, dirty: false, busy: false, tenant: '' };

  const PRESETS = {
    microsoft: (tenant) => {
      const t = encodeURIComponent(tenant || 'organizations');
      return {
        authorizationEndpoint: 'https://login.microsoftonline.com/' + t + '/oauth2/v2.0/authorize',
        tokenEndpoint: 'https://login.microsoftonline.com/' + t + '/oauth2/v2.0/token',
        scopes: 'https://outlook.office.com/SMTP.Send offline_access',
        relay: { host: 'smtp.office365.com', port: '587', encryption: 'starttls' },
      };
    },
    google: () => ({
      authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenEndpoint: 'https://oauth2.googleapis.com/token',
      scopes: 'https://mail.google.com/',
      relay: { host: 'smtp.gmail.com', port: '587', encryption: 'starttls' },
    }),
    custom: () => null,
  };
  const STAGES = {
    dns: 'DNS lookup', connect: 'connection', tls: 'TLS', auth: 'authentication',
    envelope: 'sender or recipient', data: 'message data',
  };

  // ------------------------------------------------------------------ small helpers
  const el = (tag, text, className) => {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  };
  const value = (id) => $(id).value.trim();
  const radio = (name) => {
    const checked = document.querySelector('input[name="' + name + '"]:checked');
    return checked ? checked.value : '';
  };
  const setRadio = (name, v) => {
    for (const input of document.querySelectorAll('input[name="' + name + '"]')) input.checked = input.value === v;
  };
  const status = (id, text, kind) => {
    const node = $(id);
    node.textContent = text || '';
    node.className = 'status' + (kind ? ' ' + kind : '');
  };
  const when = (iso) => {
    const date = new Date(iso);
    const node = el('time', Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }));
    node.dateTime = iso;
    return node;
  };
  const base64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const randomString = (n) => base64url(crypto.getRandomValues(new Uint8Array(n)));
  const readJson = (storage, key) => {
    try { return JSON.parse(storage.getItem(key) || 'null'); } catch { return null; }
  };

  // ------------------------------------------------------------------ the session token
  const readToken = () => {
    const token = readJson(sessionStorage, TOKEN_KEY);
    if (!token || !token.value) return null;
    if (token.expiresAt && token.expiresAt < Date.now() + 30000) {
      sessionStorage.removeItem(TOKEN_KEY);
      return null;
    }
    return token;
  };
  const storeToken = (tokenValue, expiresIn, who) => {
    sessionStorage.setItem(TOKEN_KEY, JSON.stringify({
      value: tokenValue,
      ...(expiresIn ? { expiresAt: Date.now() + Number(expiresIn) * 1000 } : {}),
      ...(who ? { who } : {}),
    }));
  };

  const errorText = (res) => (res.data && res.data.error) || ('HTTP ' + res.status);

  async function api(method, path, body, options) {
    const token = readToken();
    const headers = { accept: 'application/json' };
    if (token) headers.authorization = 'Bearer ' + token.value;
    if (options && options.token) headers.authorization = 'Bearer ' + options.token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response;
    try {
      response = await fetch(new URL(path.replace(/^\//, ''), apiBase), {
        method, headers, cache: 'no-store', credentials: 'omit',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      return { status: 0, ok: false, data: { error: 'The service could not be reached (' + error.message + ').' } };
    }
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = { error: text.slice(0, 200) }; }
    if (response.status === 401 && !(options && options.token)) signOut('Your sign-in is no longer valid: sign in again.');
    return { status: response.status, ok: response.ok, data };
  }

  // ------------------------------------------------------------------ sign-in
  function showSignIn(message) {
    $('workspace').hidden = true;
    $('session').hidden = true;
    $('sign-in').hidden = false;
    const oidc = state.page && state.page.auth.mode === 'oidc';
    $('token-form').hidden = oidc;
    $('oidc-sign-in').hidden = !oidc;
    status('sign-in-status', message || '', message ? 'bad' : '');
    (oidc ? $('oidc-button') : $('token')).focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn(message);
  }

  async function signInWithToken(event) {
    event.preventDefault();
    const token = value('token');
    const error = $('token-error');
    const field = $('token');
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

  async function oidcEndpoints(auth) {
    if (auth.authorizationEndpoint && auth.tokenEndpoint) return auth;
    const response = await fetch(auth.issuer + '/.well-known/openid-configuration', { credentials: 'omit' });
    const discovery = await response.json();
    return { ...auth, authorizationEndpoint: discovery.authorization_endpoint, tokenEndpoint: discovery.token_endpoint };
  }

  async function signInWithOidc() {
    const auth = state.page.auth;
    try {
      const endpoints = await oidcEndpoints(auth);
      const verifier = randomString(32);
      const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
      const oauthState = randomString(16);
      sessionStorage.setItem(OIDC_KEY, JSON.stringify({ state: oauthState, verifier, tokenEndpoint: endpoints.tokenEndpoint, at: Date.now() }));
      const url = new URL(endpoints.authorizationEndpoint);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('client_id', auth.clientId);
      url.searchParams.set('redirect_uri', auth.redirectUri);
      url.searchParams.set('scope', auth.scopes.join(' '));
      url.searchParams.set('state', oauthState);
      url.searchParams.set('code_challenge', challenge);
      url.searchParams.set('code_challenge_method', 'S256');
      status('sign-in-status', 'Redirecting to sign in…');
      location.assign(url.toString());
    } catch (error) {
      status('sign-in-status', 'Sign-in could not start: ' + error.message, 'bad');
    }
  }

  const claimsOf = (jwt) => {
    try {
      return JSON.parse(atob(jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    } catch { return {}; }
  };

  /** Back from the identity provider with ?code&state: exchange the code (PKCE) for the API's token. */
  async function completeOidc(auth) {
    const params = new URLSearchParams(location.search);
    if (!params.has('code') && !params.has('error')) return undefined;
    const pending = readJson(sessionStorage, OIDC_KEY);
    sessionStorage.removeItem(OIDC_KEY);
    history.replaceState(null, '', location.pathname);
    if (params.get('error')) {
      return 'Sign-in failed: ' + params.get('error') + (params.get('error_description') ? ' (' + params.get('error_description') + ')' : '');
    }
    if (!pending || pending.state !== params.get('state') || Date.now() - pending.at > 600000) {
      return 'This sign-in answer was not expected here, or took too long: sign in again.';
    }
    try {
      const response = await fetch(pending.tokenEndpoint, {
        method: 'POST', credentials: 'omit',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code', code: params.get('code'), redirect_uri: auth.redirectUri,
          client_id: auth.clientId, code_verifier: pending.verifier,
        }).toString(),
      });
      const tokens = await response.json();
      const bearer = tokens[auth.bearer || 'access_token'];
      if (!response.ok || !bearer) throw new Error(tokens.error_description || tokens.error || 'HTTP ' + response.status);
      const claims = claimsOf(tokens.id_token || bearer);
      storeToken(bearer, tokens.expires_in, claims.email || claims.preferred_username || claims.username || claims.sub);
      return undefined;
    } catch (error) {
      return 'Sign-in failed at the token endpoint: ' + error.message;
    }
  }

  // ------------------------------------------------------------------ clusters
  const recentClusters = () => {
    const list = readJson(localStorage, CLUSTERS_KEY);
    return Array.isArray(list) ? list.filter((c) => typeof c === 'string' && CLUSTER_ID.test(c)) : [];
  };
  function rememberCluster(id) {
    const list = [id, ...recentClusters().filter((c) => c !== id)].slice(0, 10);
    localStorage.setItem(CLUSTERS_KEY, JSON.stringify(list));
    renderClusterList();
  }
  function renderClusterList() {
    const datalist = $('cluster-list');
    datalist.textContent = '';
    for (const id of new Set([...recentClusters(), 'default'])) {
      const option = el('option');
      option.value = id;
      datalist.append(option);
    }
  }
  const clusterPath = () => 'clusters/' + encodeURIComponent(state.cluster);

  function enterWorkspace() {
    const token = readToken();
    $('sign-in').hidden = true;
    $('workspace').hidden = false;
    $('session').hidden = false;
    $('session-who').textContent = token && token.who ? 'Signed in as ' + token.who : 'Signed in';
    renderClusterList();
    const pending = sessionStorage.getItem(PENDING_KEY);
    sessionStorage.removeItem(PENDING_KEY);
    const cluster = pending && CLUSTER_ID.test(pending) ? pending : 'default';
    $('cluster').value = cluster;
    loadCluster(cluster, Boolean(pending));
  }

  async function loadCluster(id, returningFromAuthorize) {
    const error = $('cluster-error');
    error.hidden = true;
    $('cluster').removeAttribute('aria-invalid');
    if (!CLUSTER_ID.test(id)) {
      error.textContent = 'A cluster id is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit.';
      error.hidden = false;
      $('cluster').setAttribute('aria-invalid', 'true');
      $('cluster').focus();
      return;
    }
    state.cluster = id;
    $('cluster-name').textContent = id;
    clearErrors();
    $('test-result').hidden = true;
    status('save-status', '');
    status('authorize-status', '');
    status('load-status', 'Loading cluster ' + id + '…');
    const res = await api('GET', clusterPath() + '/email-config');
    if (res.status === 200) {
      fillForm(res.data);
      status('load-status', 'Loaded the configuration of cluster ' + id + (res.data.updatedAt ? ', last saved ' + when(res.data.updatedAt).textContent : '') + '.');
      rememberCluster(id);
    } else if (res.status === 404) {
      fillForm(null);
      status('load-status', 'Cluster ' + id + ' has no configuration yet: fill in the form and save.');
      rememberCluster(id);
    } else if (res.status !== 401) {
      status('load-status', 'Could not load cluster ' + id + ': ' + errorText(res), 'bad');
    }
    if (returningFromAuthorize && res.status === 200) {
      const oauth = res.data.oauth;
      status('authorize-status', oauth && oauth.status === 'authorized'
        ? 'Back from the provider: authorized.'
        : 'Back from the provider: not authorized yet (see above).', oauth && oauth.status === 'authorized' ? 'ok' : 'bad');
      $('oauth-panel').scrollIntoView();
      $('authorize').focus();
    }
    loadDeliveries();
  }

  // ------------------------------------------------------------------ the form
  function fillForm(config) {
    const c = config || {};
    state.config = config;
    const smtp = c.smtp || {};
    const auth = smtp.auth || { type: 'none' };
    $('f-sender').value = c.sender || '';
    setRadio('transport', c.transport || 'smtp');
    $('f-smtp-host').value = smtp.host || '';
    $('f-smtp-port').value = smtp.port === undefined ? '587' : String(smtp.port);
    $('f-smtp-encryption').value = smtp.encryption || 'starttls';
    $('f-smtp-verifyCertificate').checked = smtp.verifyCertificate !== false;
    setRadio('smtp.auth.type', auth.type || 'none');
    $('f-smtp-auth-username').value = auth.username || '';
    $('f-smtp-auth-password').value = '';
    secretState('password-state', auth.passwordSet);
    $('f-smtp-auth-provider').value = auth.provider || 'microsoft';
    $('f-smtp-auth-tenant').value = auth.tenant || '';
    state.tenant = auth.tenant || '';
    $('f-smtp-auth-clientId').value = auth.clientId || '';
    $('f-smtp-auth-clientSecret').value = '';
    secretState('client-secret-state', auth.clientSecretSet);
    $('f-smtp-auth-scopes').value = Array.isArray(auth.scopes) ? auth.scopes.join(' ') : auth.scopes || '';
    $('f-smtp-auth-authorizationEndpoint').value = auth.authorizationEndpoint || '';
    $('f-smtp-auth-tokenEndpoint').value = auth.tokenEndpoint || '';
    $('f-smtp-auth-user').value = auth.user || '';
    $('f-adminContacts').value = Array.isArray(c.adminContacts) ? c.adminContacts.join(' ') : c.adminContacts || '';
    $('f-dailyNotice').checked = c.dailyNotice !== false;
    $('f-language').value = c.language || 'en';
    $('f-repeatIntervalMinutes').value = c.repeatIntervalMinutes === undefined ? '240' : String(c.repeatIntervalMinutes);
    $('send-test').checked = false;
    if ((auth.type || 'none') !== 'oauth2') applyPreset(null, '');
    renderOAuth(c);
    updateVisibility();
    state.dirty = false;
  }

  function secretState(id, isSet) {
    const badge = $(id);
    badge.textContent = isSet ? 'set' : 'not set';
    badge.className = 'secret-state' + (isSet ? ' set' : '');
  }

  function updateVisibility() {
    const smtp = radio('transport') !== 'ses';
    $('f-smtp').hidden = !smtp;
    $('ses-note').hidden = smtp;
    const type = radio('smtp.auth.type');
    $('auth-password').hidden = type !== 'password';
    $('auth-oauth2').hidden = type !== 'oauth2';
    $('tenant-field').hidden = value('f-smtp-auth-provider') !== 'microsoft';
  }

  /** Fills endpoints and scopes from the provider's preset where they are empty or still the previous preset. */
  function applyPreset(previousProvider, previousTenant) {
    const provider = value('f-smtp-auth-provider');
    const before = previousProvider ? PRESETS[previousProvider](previousTenant) : null;
    const next = PRESETS[provider](value('f-smtp-auth-tenant'));
    for (const key of ['authorizationEndpoint', 'tokenEndpoint', 'scopes']) {
      const input = $('f-smtp-auth-' + key);
      const current = input.value.trim();
      if (current === '' || (before && current === before[key])) input.value = next ? next[key] : '';
    }
    return next;
  }

  function onProviderChange(previous) {
    const next = applyPreset(previous, state.tenant);
    if (next && value('f-smtp-host') === '') {
      $('f-smtp-host').value = next.relay.host;
      $('f-smtp-port').value = next.relay.port;
      $('f-smtp-encryption').value = next.relay.encryption;
    }
    state.tenant = value('f-smtp-auth-tenant');
    updateVisibility();
  }

  const numberOrText = (text) => (/^\d+$/.test(text) ? Number(text) : text);

  function collect() {
    const body = {
      sender: value('f-sender'),
      transport: radio('transport'),
      adminContacts: value('f-adminContacts'),
      dailyNotice: $('f-dailyNotice').checked,
      language: $('f-language').value,
    };
    const repeat = value('f-repeatIntervalMinutes');
    if (repeat !== '') body.repeatIntervalMinutes = numberOrText(repeat);
    if (body.transport !== 'smtp') return body;
    const type = radio('smtp.auth.type');
    let auth = { type };
    if (type === 'password') {
      auth = { type, username: value('f-smtp-auth-username') };
      if ($('f-smtp-auth-password').value !== '') auth.password = $('f-smtp-auth-password').value;
    } else if (type === 'oauth2') {
      auth = { type, provider: value('f-smtp-auth-provider'), clientId: value('f-smtp-auth-clientId') };
      if (auth.provider === 'microsoft' && value('f-smtp-auth-tenant')) auth.tenant = value('f-smtp-auth-tenant');
      if ($('f-smtp-auth-clientSecret').value !== '') auth.clientSecret = $('f-smtp-auth-clientSecret').value;
      for (const key of ['scopes', 'authorizationEndpoint', 'tokenEndpoint', 'user']) {
        if (value('f-smtp-auth-' + key)) auth[key] = value('f-smtp-auth-' + key);
      }
    }
    body.smtp = {
      host: value('f-smtp-host'),
      port: numberOrText(value('f-smtp-port')),
      encryption: $('f-smtp-encryption').value,
      verifyCertificate: $('f-smtp-verifyCertificate').checked,
      auth,
    };
    return body;
  }

  // ------------------------------------------------------------------ field errors
  /** The field an issue path names: the longest prefix with a field (smtp.auth.x → smtp.auth → smtp). */
  function fieldFor(path) {
    const parts = String(path || '').split('.');
    while (parts.length > 0) {
      const node = $('f-' + parts.join('-'));
      if (node && !node.closest('[hidden]')) return node;
      parts.pop();
    }
    return null;
  }
  function labelOf(field) {
    const label = field.tagName === 'FIELDSET' ? field.querySelector('legend') : document.querySelector('label[for="' + field.id + '"]');
    if (!label) return field.id;
    const copy = label.cloneNode(true);
    for (const badge of copy.querySelectorAll('.secret-state')) badge.remove();
    return copy.textContent.trim();
  }
  const focusTargetOf = (field) => (field.tagName === 'FIELDSET' ? field.querySelector('input:not([type=hidden]),select') || field : field);

  function clearErrors() {
    $('error-summary').hidden = true;
    $('error-list').textContent = '';
    for (const error of document.querySelectorAll('#config-form .error')) {
      error.textContent = '';
      error.hidden = true;
    }
    for (const field of document.querySelectorAll('#config-form [aria-invalid]')) field.removeAttribute('aria-invalid');
  }

  function showErrors(message, issues) {
    const list = $('error-list');
    const count = issues.length;
    $('error-summary-title').textContent = count > 0
      ? 'The configuration was not saved: ' + (count === 1 ? '1 problem' : count + ' problems')
      : 'The configuration was not saved';
    const items = count > 0 ? issues : [{ path: '', message }];
    for (const issue of items) {
      const field = fieldFor(issue.path);
      const item = el('li');
      if (field) {
        const error = $(field.id + '-error');
        if (error) {
          error.textContent = error.hidden || !error.textContent ? issue.message : error.textContent + '; ' + issue.message;
          error.hidden = false;
        }
        if (field.tagName !== 'FIELDSET') field.setAttribute('aria-invalid', 'true');
        const target = focusTargetOf(field);
        const link = el('a', labelOf(field) + ': ' + issue.message);
        link.href = '#' + target.id;
        link.addEventListener('click', (event) => {
          event.preventDefault();
          target.focus();
        });
        item.append(link);
      } else {
        item.textContent = (issue.path ? issue.path + ': ' : '') + issue.message;
      }
      list.append(item);
    }
    $('error-summary').hidden = false;
    $('error-summary').focus();
    status('save-status', 'Not saved: ' + (count === 1 ? '1 problem' : Math.max(count, 1) + ' problems') + ', listed at the top of the form.', 'bad');
  }

  // ------------------------------------------------------------------ actions
  async function busy(button, work) {
    if (state.busy) return;
    state.busy = true;
    button.setAttribute('aria-disabled', 'true');
    try { await work(); } finally {
      state.busy = false;
      button.removeAttribute('aria-disabled');
    }
  }

  function save(event) {
    event.preventDefault();
    return busy($('save'), async () => {
      clearErrors();
      const withTest = $('send-test').checked;
      status('save-status', withTest ? 'Saving, then sending a test email…' : 'Saving…');
      const res = await api('PUT', clusterPath() + '/email-config' + (withTest ? '?sendTestEmail=true' : ''), collect());
      if (res.status === 200 || res.status === 201) {
        fillForm(res.data.config);
        rememberCluster(state.cluster);
        status('load-status', '');
        status('save-status', (res.status === 201 ? 'Saved: cluster ' + state.cluster + ' now has a configuration.' : 'Saved.')
          + (res.data.testEmail ? (res.data.testEmail.ok ? ' The test email was sent.' : ' The test email failed: see the result below.') : ''), 'ok');
        if (res.data.testEmail) showTestResult(res.data.testEmail);
      } else if (res.status === 400 && res.data) {
        showErrors(res.data.error || 'Invalid configuration', res.data.issues || []);
      } else if (res.status !== 401) {
        status('save-status', 'Not saved: ' + errorText(res), 'bad');
      }
    });
  }

  function sendTest() {
    return busy($('test-button'), async () => {
      status('save-status', 'Sending a test email with the saved configuration…');
      const res = await api('POST', clusterPath() + '/email-config/test');
      if (res.ok) {
        status('save-status', res.data.ok ? 'The test email was sent.' : 'The test email failed: see the result below.', res.data.ok ? 'ok' : 'bad');
        showTestResult(res.data);
      } else if (res.status === 404) {
        status('save-status', 'Cluster ' + state.cluster + ' has no saved configuration yet: save first.', 'bad');
      } else if (res.status !== 401) {
        status('save-status', 'The test email could not be sent: ' + errorText(res), 'bad');
      }
    });
  }

  function showTestResult(result) {
    const body = $('test-result-body');
    body.textContent = '';
    const recipients = Array.isArray(result.recipients) ? result.recipients.join(', ') : '';
    body.append(el('p', result.ok
      ? 'Sent' + (recipients ? ' to ' + recipients : '') + '. Check that it arrived.'
      : 'Failed at the ' + (STAGES[result.stage] || result.stage || 'unknown') + ' stage.', result.ok ? 'result-ok' : 'result-bad'));
    const facts = el('dl', null, 'facts');
    const fact = (name, text) => {
      if (text === undefined || text === null || text === '') return;
      facts.append(el('dt', name));
      const dd = el('dd');
      if (text instanceof Node) dd.append(text); else dd.textContent = String(text);
      facts.append(dd);
    };
    if (!result.ok) {
      fact('Stage', result.stage);
      fact('Reply code', result.code);
      fact('Enhanced code', result.enhancedCode);
      fact('Server said', result.message);
      fact('What to do', result.hint);
      if (result.transient !== undefined) fact('Temporary', result.transient ? 'yes: trying again later may work' : 'no');
    }
    if (result.durationMs !== undefined) fact('Took', result.durationMs + ' ms');
    if (result.at) fact('At', when(result.at));
    body.append(facts);
    if (Array.isArray(result.transcript) && result.transcript.length > 0) {
      const details = el('details');
      details.append(el('summary', 'SMTP transcript (credentials redacted)'));
      details.append(el('pre', result.transcript.join('\n')));
      body.append(details);
    }
    $('test-result').hidden = false;
  }

  function renderOAuth(config) {
    const auth = config && config.smtp && config.smtp.auth;
    const statusLine = $('oauth-status');
    const detail = $('oauth-detail');
    statusLine.textContent = '';
    detail.textContent = '';
    $('authorize').textContent = 'Authorize';
    if (!auth || auth.type !== 'oauth2') {
      statusLine.textContent = 'Save the configuration with OAuth2 first, then click Authorize and sign in with the mailbox that sends the email.';
      return;
    }
    const oauth = config.oauth || { status: 'needs-authorization' };
    if (oauth.status === 'authorized') {
      statusLine.append(el('span', 'Authorized', 'good'));
      if (oauth.authorizedAs) statusLine.append(' as ' + oauth.authorizedAs);
      if (oauth.authorizedAt) { statusLine.append(' on '); statusLine.append(when(oauth.authorizedAt)); }
      statusLine.append('.');
      if (oauth.lastRefreshAt) { detail.append('Last token refresh: '); detail.append(when(oauth.lastRefreshAt)); detail.append('. '); }
      detail.append('Authorize again only to switch the mailbox or after the grant was revoked.');
      $('authorize').textContent = 'Authorize again';
      return;
    }
    statusLine.append(el('span', 'Needs authorization', 'needs'));
    statusLine.append(oauth.authorizedAt ? ': the stored grant no longer works.' : ': no account has authorized this configuration yet.');
    if (oauth.lastError) {
      detail.append('Last error: ' + oauth.lastError);
      if (oauth.lastErrorAt) { detail.append(' ('); detail.append(when(oauth.lastErrorAt)); detail.append(')'); }
      detail.append('. ');
    }
    detail.append('Click Authorize and sign in with the mailbox that sends the email' + (auth.provider === 'microsoft'
      ? '; in Entra ID an administrator may have to grant consent, and SMTP AUTH must be enabled for the mailbox.'
      : '.'));
  }

  function authorize() {
    return busy($('authorize'), async () => {
      if (state.dirty) {
        status('authorize-status', 'Save your changes first: Authorize uses the saved configuration.', 'bad');
        return;
      }
      status('authorize-status', 'Starting the authorization…');
      const res = await api('GET', clusterPath() + '/oauth/authorize?format=json');
      let url = null;
      try { url = res.ok && res.data && res.data.url ? new URL(res.data.url) : null; } catch { url = null; }
      if (!url || !/^https?:$/.test(url.protocol)) {
        if (res.status !== 401) status('authorize-status', 'Authorize did not start: ' + (res.ok ? 'no provider address returned' : errorText(res)), 'bad');
        return;
      }
      sessionStorage.setItem(PENDING_KEY, state.cluster);
      status('authorize-status', 'Opening the provider’s sign-in…');
      location.assign(url.toString());
    });
  }

  async function copyRedirect() {
    const input = $('redirect-uri');
    try {
      await navigator.clipboard.writeText(input.value);
    } catch {
      input.select();
      document.execCommand('copy');
    }
    status('copy-status', 'Copied the redirect URI.', 'ok');
  }

  async function loadDeliveries() {
    status('deliveries-status', 'Loading the delivery log…');
    const res = await api('GET', clusterPath() + '/deliveries?limit=50');
    const tbody = $('deliveries-body');
    if (!res.ok) {
      if (res.status !== 401) status('deliveries-status', 'Could not load the delivery log: ' + errorText(res), 'bad');
      return;
    }
    tbody.textContent = '';
    const items = (res.data && res.data.items) || [];
    for (const item of items) {
      const row = el('tr');
      const time = el('td');
      time.append(when(item.at || item.eventTime));
      row.append(time, el('td', item.condition), el('td', item.appliance || '—'),
        el('td', item.outcome, 'outcome-' + item.outcome), el('td', item.reason || ''),
        el('td', Array.isArray(item.recipients) ? item.recipients.join(', ') : ''));
      tbody.append(row);
    }
    if (items.length === 0) {
      const cell = el('td', 'No events recorded for cluster ' + state.cluster + ' yet.');
      cell.colSpan = 6;
      const row = el('tr');
      row.append(cell);
      tbody.append(row);
    }
    status('deliveries-status', items.length === 1 ? '1 event.' : items.length + ' events.');
  }

  // ------------------------------------------------------------------ start
  function bind() {
    $('token-form').addEventListener('submit', signInWithToken);
    $('oidc-button').addEventListener('click', signInWithOidc);
    $('sign-out').addEventListener('click', () => signOut('Signed out.'));
    $('cluster-form').addEventListener('submit', (event) => {
      event.preventDefault();
      loadCluster(value('cluster'), false);
    });
    const form = $('config-form');
    form.addEventListener('submit', save);
    const markDirty = (event) => {
      if (event.target.id !== 'send-test' && event.target.id !== 'redirect-uri') state.dirty = true;
      if (event.target.name === 'transport' || event.target.name === 'smtp.auth.type') {
        if (radio('smtp.auth.type') === 'oauth2') applyPreset(null, '');
        updateVisibility();
      }
    };
    form.addEventListener('input', markDirty);
    form.addEventListener('change', markDirty);
    let provider = $('f-smtp-auth-provider').value;
    $('f-smtp-auth-provider').addEventListener('change', () => {
      onProviderChange(provider);
      provider = $('f-smtp-auth-provider').value;
    });
    $('f-smtp-auth-tenant').addEventListener('input', () => onProviderChange(provider));
    $('test-button').addEventListener('click', sendTest);
    $('authorize').addEventListener('click', authorize);
    $('copy-redirect').addEventListener('click', copyRedirect);
    $('refresh-deliveries').addEventListener('click', loadDeliveries);
  }

  async function start() {
    bind();
    try {
      const response = await fetch('config.json', { cache: 'no-cache', credentials: 'omit' });
      state.page = await response.json();
    } catch {
      state.page = { auth: { mode: 'token' } };
    }
    $('redirect-uri').value = state.page.smtpRedirectUri || new URL('../login/smtp-verification/', location.href).href;
    const problem = state.page.auth.mode === 'oidc' ? await completeOidc(state.page.auth) : undefined;
    if (!problem && readToken()) enterWorkspace();
    else showSignIn(problem);
  }

  start();
})();
`;
