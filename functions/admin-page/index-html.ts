// The admin page's markup: static, no inline script or style (the CSP forbids both); app.js
// signs in, fills and submits the form. Every field has a real label; hints and errors are tied
// to their fields with aria-describedby.
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Email configuration · appliance-notifier</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="app.css">
<script src="app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to the configuration</a>
<header class="top">
  <p class="crumb">Management › Email configuration</p>
  <h1>Email configuration</h1>
  <div id="session" class="session" hidden>
    <span id="session-who"></span>
    <button type="button" id="sign-out" class="link">Sign out</button>
  </div>
</header>
<main id="main" tabindex="-1">
<noscript><p class="problem">This page needs JavaScript (from this server only).</p></noscript>

<section id="sign-in" class="card" aria-labelledby="sign-in-title" hidden>
  <h2 id="sign-in-title">Sign in</h2>
  <form id="token-form" novalidate>
    <div class="field">
      <label for="token">Admin token</label>
      <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" aria-describedby="token-hint token-error" required>
      <p id="token-hint" class="hint"><code>npm start</code> prints it; it is stored in <code>.data/admin-token</code>. This page keeps it for this browser tab only.</p>
      <p id="token-error" class="error" hidden></p>
    </div>
    <button type="submit" class="primary">Sign in</button>
  </form>
  <div id="oidc-sign-in" hidden>
    <p>Sign in with your organization's account to manage the email configuration.</p>
    <button type="button" id="oidc-button" class="primary">Sign in</button>
  </div>
  <p id="sign-in-status" class="status" role="status" aria-live="polite"></p>
</section>

<div id="workspace" hidden>
<form id="cluster-form" class="cluster card" novalidate>
  <div class="field inline">
    <label for="cluster">Cluster</label>
    <input id="cluster" name="cluster" list="cluster-list" autocomplete="off" spellcheck="false" aria-describedby="cluster-hint cluster-error">
    <datalist id="cluster-list"></datalist>
    <button type="submit">Load</button>
  </div>
  <p id="cluster-hint" class="hint">Every node of a cluster (primary, backup and traffic nodes) uses the cluster's one configuration. Events without a cluster use <code>default</code>.</p>
  <p id="cluster-error" class="error" hidden></p>
  <p id="load-status" class="status" role="status" aria-live="polite"></p>
</form>

<form id="config-form" class="card" novalidate aria-labelledby="config-title">
  <h2 id="config-title">Settings for cluster <span id="cluster-name">default</span></h2>
  <div id="error-summary" class="summary" tabindex="-1" aria-labelledby="error-summary-title" hidden>
    <h3 id="error-summary-title">The configuration was not saved</h3>
    <ul id="error-list"></ul>
  </div>

  <fieldset>
    <legend>Email address</legend>
    <div class="field">
      <label for="f-sender">Sender</label>
      <input id="f-sender" name="sender" type="text" autocomplete="off" spellcheck="false" aria-describedby="f-sender-hint f-sender-error">
      <p id="f-sender-hint" class="hint">The address automatic messages come from: <code>appliance@example.com</code> or <code>Appliance &lt;appliance@example.com&gt;</code>.</p>
      <p id="f-sender-error" class="error" hidden></p>
    </div>
  </fieldset>

  <fieldset id="f-transport" aria-describedby="f-transport-error">
    <legend>Transport</legend>
    <div class="choices">
      <label><input type="radio" name="transport" value="smtp" checked> SMTP relay</label>
      <label><input type="radio" name="transport" value="ses"> Amazon SES</label>
    </div>
    <p class="hint" id="ses-note" hidden>Amazon SES sends as the sender, which must be a verified SES identity.</p>
    <p id="f-transport-error" class="error" hidden></p>
  </fieldset>

  <fieldset id="f-smtp" aria-describedby="f-smtp-error">
    <legend>SMTP relay server</legend>
    <p id="f-smtp-error" class="error" hidden></p>
    <div class="field">
      <label for="f-smtp-host">SMTP relay server</label>
      <input id="f-smtp-host" name="smtp.host" type="text" autocomplete="off" spellcheck="false" aria-describedby="f-smtp-host-hint f-smtp-host-error">
      <p id="f-smtp-host-hint" class="hint">Hostname or IP address of the relay.</p>
      <p id="f-smtp-host-error" class="error" hidden></p>
    </div>
    <div class="row">
      <div class="field">
        <label for="f-smtp-port">SMTP port</label>
        <input id="f-smtp-port" name="smtp.port" type="text" inputmode="numeric" autocomplete="off" class="short" aria-describedby="f-smtp-port-error">
        <p id="f-smtp-port-error" class="error" hidden></p>
      </div>
      <div class="field">
        <label for="f-smtp-encryption">SMTP encryption</label>
        <select id="f-smtp-encryption" name="smtp.encryption" aria-describedby="f-smtp-encryption-hint f-smtp-encryption-error">
          <option value="tls">TLS (implicit, from the first byte)</option>
          <option value="starttls" selected>STARTTLS (required)</option>
          <option value="none">None</option>
        </select>
        <p id="f-smtp-encryption-error" class="error" hidden></p>
      </div>
    </div>
    <p id="f-smtp-encryption-hint" class="hint">The mode does not follow from the port: choose what the relay speaks. Usually TLS on 465, STARTTLS on 587 or 25. STARTTLS fails when the relay does not offer it.</p>
    <div class="field check">
      <input id="f-smtp-verifyCertificate" name="smtp.verifyCertificate" type="checkbox" checked aria-describedby="f-smtp-verifyCertificate-hint f-smtp-verifyCertificate-error">
      <label for="f-smtp-verifyCertificate">Verify the relay's certificate</label>
      <p id="f-smtp-verifyCertificate-hint" class="hint">Turn off only for a relay you trust on a private network (e.g. a self-signed certificate).</p>
      <p id="f-smtp-verifyCertificate-error" class="error" hidden></p>
    </div>

    <fieldset id="f-smtp-auth" aria-describedby="f-smtp-auth-error">
      <legend>SMTP authentication type</legend>
      <div class="choices">
        <label><input type="radio" name="smtp.auth.type" value="none" checked> None</label>
        <label><input type="radio" name="smtp.auth.type" value="password"> Username and password</label>
        <label><input type="radio" name="smtp.auth.type" value="oauth2"> OAuth2</label>
      </div>
      <p id="f-smtp-auth-error" class="error" hidden></p>

      <div id="auth-password" class="group" hidden>
        <div class="field">
          <label for="f-smtp-auth-username">Username</label>
          <input id="f-smtp-auth-username" name="smtp.auth.username" type="text" autocomplete="off" spellcheck="false" aria-describedby="f-smtp-auth-username-error">
          <p id="f-smtp-auth-username-error" class="error" hidden></p>
        </div>
        <div class="field">
          <label for="f-smtp-auth-password">Password <span class="secret-state" id="password-state">not set</span></label>
          <input id="f-smtp-auth-password" name="smtp.auth.password" type="password" autocomplete="new-password" aria-describedby="f-smtp-auth-password-hint f-smtp-auth-password-error">
          <p id="f-smtp-auth-password-hint" class="hint">Never shown again once saved. Leave empty to keep the stored password.</p>
          <p id="f-smtp-auth-password-error" class="error" hidden></p>
        </div>
      </div>

      <div id="auth-oauth2" class="group" hidden>
        <div class="row">
          <div class="field">
            <label for="f-smtp-auth-provider">Provider</label>
            <select id="f-smtp-auth-provider" name="smtp.auth.provider" aria-describedby="f-smtp-auth-provider-hint f-smtp-auth-provider-error">
              <option value="microsoft">Microsoft 365 (Entra ID)</option>
              <option value="google">Google Workspace / Gmail</option>
              <option value="custom">Custom</option>
            </select>
            <p id="f-smtp-auth-provider-hint" class="hint">A preset fills the endpoints and scopes; fields left empty are filled by the service.</p>
            <p id="f-smtp-auth-provider-error" class="error" hidden></p>
          </div>
          <div class="field" id="tenant-field">
            <label for="f-smtp-auth-tenant">Tenant</label>
            <input id="f-smtp-auth-tenant" name="smtp.auth.tenant" type="text" autocomplete="off" spellcheck="false" placeholder="organizations" aria-describedby="f-smtp-auth-tenant-hint f-smtp-auth-tenant-error">
            <p id="f-smtp-auth-tenant-hint" class="hint">Directory (tenant) ID or domain; <code>organizations</code> when empty.</p>
            <p id="f-smtp-auth-tenant-error" class="error" hidden></p>
          </div>
        </div>
        <div class="field">
          <label for="f-smtp-auth-clientId">Client (application) ID</label>
          <input id="f-smtp-auth-clientId" name="smtp.auth.clientId" type="text" autocomplete="off" spellcheck="false" aria-describedby="f-smtp-auth-clientId-error">
          <p id="f-smtp-auth-clientId-error" class="error" hidden></p>
        </div>
        <div class="field">
          <label for="f-smtp-auth-clientSecret">Client secret <span class="secret-state" id="client-secret-state">not set</span></label>
          <input id="f-smtp-auth-clientSecret" name="smtp.auth.clientSecret" type="password" autocomplete="new-password" aria-describedby="f-smtp-auth-clientSecret-hint f-smtp-auth-clientSecret-error">
          <p id="f-smtp-auth-clientSecret-hint" class="hint">Never shown again once saved. Leave empty to keep the stored secret.</p>
          <p id="f-smtp-auth-clientSecret-error" class="error" hidden></p>
        </div>
        <div class="field">
          <label for="f-smtp-auth-scopes">Scopes</label>
          <input id="f-smtp-auth-scopes" name="smtp.auth.scopes" type="text" autocomplete="off" spellcheck="false" aria-describedby="f-smtp-auth-scopes-hint f-smtp-auth-scopes-error">
          <p id="f-smtp-auth-scopes-hint" class="hint">Separated by spaces.</p>
          <p id="f-smtp-auth-scopes-error" class="error" hidden></p>
        </div>
        <div class="field">
          <label for="f-smtp-auth-authorizationEndpoint">Authorization endpoint</label>
          <input id="f-smtp-auth-authorizationEndpoint" name="smtp.auth.authorizationEndpoint" type="url" autocomplete="off" spellcheck="false" aria-describedby="f-smtp-auth-authorizationEndpoint-error">
          <p id="f-smtp-auth-authorizationEndpoint-error" class="error" hidden></p>
        </div>
        <div class="field">
          <label for="f-smtp-auth-tokenEndpoint">Token endpoint</label>
          <input id="f-smtp-auth-tokenEndpoint" name="smtp.auth.tokenEndpoint" type="url" autocomplete="off" spellcheck="false" aria-describedby="f-smtp-auth-tokenEndpoint-error">
          <p id="f-smtp-auth-tokenEndpoint-error" class="error" hidden></p>
        </div>
        <div class="field">
          <label for="f-smtp-auth-user">Mailbox (optional)</label>
          <input id="f-smtp-auth-user" name="smtp.auth.user" type="email" autocomplete="off" spellcheck="false" aria-describedby="f-smtp-auth-user-hint f-smtp-auth-user-error">
          <p id="f-smtp-auth-user-hint" class="hint">The mailbox that signs in to the relay; default: the account that authorizes.</p>
          <p id="f-smtp-auth-user-error" class="error" hidden></p>
        </div>
        <div class="field">
          <label for="redirect-uri">Redirect URI for the provider's app registration</label>
          <div class="copy">
            <input id="redirect-uri" type="text" readonly aria-describedby="redirect-uri-hint">
            <button type="button" id="copy-redirect">Copy</button>
          </div>
          <p id="redirect-uri-hint" class="hint">Register exactly this URI with the provider (Entra ID: Authentication › Web; Google: Authorized redirect URIs).</p>
          <p id="copy-status" class="status" role="status" aria-live="polite"></p>
        </div>
        <div class="oauth" id="oauth-panel" aria-labelledby="oauth-title">
          <h3 id="oauth-title">Authorization</h3>
          <p id="oauth-status"></p>
          <p id="oauth-detail" class="hint"></p>
          <button type="button" id="authorize">Authorize</button>
          <p id="authorize-status" class="status" role="status" aria-live="polite"></p>
        </div>
      </div>
    </fieldset>
  </fieldset>

  <fieldset>
    <legend>Admin contact</legend>
    <div class="field">
      <label for="f-adminContacts">Admin contact email addresses</label>
      <input id="f-adminContacts" name="adminContacts" type="text" autocomplete="off" spellcheck="false" aria-describedby="f-adminContacts-hint f-adminContacts-error">
      <p id="f-adminContacts-hint" class="hint">One or more addresses, separated by spaces.</p>
      <p id="f-adminContacts-error" class="error" hidden></p>
    </div>
    <div class="field check">
      <input id="f-dailyNotice" name="dailyNotice" type="checkbox" checked aria-describedby="f-dailyNotice-hint f-dailyNotice-error">
      <label for="f-dailyNotice">Send a daily communication notice</label>
      <p id="f-dailyNotice-hint" class="hint">A daily email proving that notification works, with the last 24 hours' deliveries.</p>
      <p id="f-dailyNotice-error" class="error" hidden></p>
    </div>
    <div class="row">
      <div class="field">
        <label for="f-language">Language of the emails</label>
        <select id="f-language" name="language" aria-describedby="f-language-error">
          <option value="en">English</option>
          <option value="de">Deutsch</option>
        </select>
        <p id="f-language-error" class="error" hidden></p>
      </div>
      <div class="field">
        <label for="f-repeatIntervalMinutes">Repeat interval (minutes)</label>
        <input id="f-repeatIntervalMinutes" name="repeatIntervalMinutes" type="text" inputmode="numeric" autocomplete="off" class="short" aria-describedby="f-repeatIntervalMinutes-hint f-repeatIntervalMinutes-error">
        <p id="f-repeatIntervalMinutes-hint" class="hint">Repeats of a condition from one appliance within this window are folded into the next email (0 = never fold).</p>
        <p id="f-repeatIntervalMinutes-error" class="error" hidden></p>
      </div>
    </div>
  </fieldset>

  <div class="field check">
    <input id="send-test" name="sendTestEmail" type="checkbox">
    <label for="send-test">Send a test email after saving</label>
  </div>
  <div class="actions">
    <button type="submit" id="save" class="primary">Save</button>
    <button type="button" id="test-button">Send test email</button>
  </div>
  <p id="save-status" class="status" role="status" aria-live="polite"></p>
</form>

<section id="test-result" class="card" aria-labelledby="test-result-title" tabindex="-1" hidden>
  <h2 id="test-result-title">Test email</h2>
  <div id="test-result-body"></div>
</section>

<section id="deliveries" class="card" aria-labelledby="deliveries-title">
  <div class="heading-row">
    <h2 id="deliveries-title">Delivery log</h2>
    <button type="button" id="refresh-deliveries">Refresh</button>
  </div>
  <p id="deliveries-status" class="status" role="status" aria-live="polite"></p>
  <div class="table-wrap" tabindex="0" role="region" aria-labelledby="deliveries-title">
    <table id="deliveries-table">
      <caption class="visually-hidden">The last 50 events of this cluster, newest first</caption>
      <thead><tr><th scope="col">Time</th><th scope="col">Condition</th><th scope="col">Appliance</th><th scope="col">Outcome</th><th scope="col">Reason</th><th scope="col">Recipients</th></tr></thead>
      <tbody id="deliveries-body"></tbody>
    </table>
  </div>
</section>
</div>
</main>
</body>
</html>
`;
