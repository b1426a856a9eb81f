// A cluster's configuration history: every saved version with who saved it, when, and whether its
// test email was delivered; one click restores a version, and "Restore the last version that
// delivered" restores the newest one whose test email got through. A restore is a new version.
import {
  type ApiCall,
  type ConfigVersionsResponse,
  errorText,
  type PublicEmailConfig,
  type RestoreResponse,
} from './api-client.js';
import { actionButton, button, byId, el, labelledCell, status, when } from './dom.js';
import { type MessageKey, t } from './i18n.js';
import { relayText } from './overview.js';
import { renderLastTest, stageName } from './result-views.js';

type Version = ConfigVersionsResponse['items'][number];

export interface HistoryDeps {
  api: ApiCall;
  cluster: () => string;
  /** Asks before a restore replaces the form (and any unsaved edits in it). */
  confirmRestore: (version: number) => Promise<boolean>;
  /** The form's version (ETag), sent as If-Match: a restore over a newer save answers 412. */
  etag: () => string | undefined;
  /** The restored configuration, into the form, with its new ETag. */
  restored: (config: PublicEmailConfig, version: number, from: number, etag: string | undefined) => void;
}

const HEADERS = [
  'history.version',
  'history.saved',
  'history.by',
  'history.test',
  'history.relay',
  'history.action',
] as const satisfies readonly MessageKey[];

export function configHistory(deps: HistoryDeps) {
  const state = { data: undefined as ConfigVersionsResponse | undefined, generation: 0 };
  const clusterPath = () => `clusters/${encodeURIComponent(deps.cluster())}/email-config`;

  /** The newest version that delivered its test email and is not the current one. */
  function lastGood(): Version | undefined {
    return state.data?.items.find(
      (item) => item.testEmail?.ok && item.version !== state.data?.currentVersion,
    );
  }

  const cell = (column: (typeof HEADERS)[number], ...content: Array<Node | string>) =>
    labelledCell(t(column), ...content);

  function row(item: Version): HTMLTableRowElement {
    const current = item.version === state.data?.currentVersion;
    const tr = el('tr', null, current ? 'current' : undefined);
    tr.dataset.version = String(item.version);
    const version = cell('history.version', `${item.version}`);
    if (current) version.append(' ', el('span', t('history.current'), 'badge current'));
    if (item.restoredFrom)
      version.append(el('br'), el('span', t('history.restoredFrom', { version: item.restoredFrom }), 'hint'));
    const test = item.testEmail
      ? el(
          'span',
          item.testEmail.ok
            ? t('history.delivered')
            : t('history.failed', { stage: stageName(item.testEmail.stage) }),
          item.testEmail.ok ? 'good' : 'bad',
        )
      : el('span', t('history.notTested'), 'muted');
    const action = cell('history.action');
    if (!current) {
      const restore = actionButton(t('history.restore', { version: item.version }));
      restore.addEventListener('click', () => void restoreVersion(item.version));
      action.append(restore);
    }
    tr.append(
      version,
      cell('history.saved', when(item.savedAt)),
      cell('history.by', item.savedBy),
      cell('history.test', test),
      cell('history.relay', relayText(item.config)),
      action,
    );
    return tr;
  }

  function render(): void {
    const body = byId('history-body');
    const items = state.data?.items ?? [];
    body.replaceChildren(...items.map(row));
    if (state.data && items.length === 0) {
      const empty = el('td', t('history.empty'));
      empty.colSpan = HEADERS.length;
      const tr = el('tr', null, 'empty');
      tr.append(empty);
      body.append(tr);
    }
    const good = lastGood();
    const restoreGood = button('restore-last-good');
    restoreGood.disabled = !good;
    restoreGood.textContent = good
      ? t('history.restoreLastGoodVersion', { version: good.version })
      : t('history.restoreLastGood');
    restoreGood.title = good ? '' : t('history.noLastGood');
    if (state.data) renderLastTest(state.data.lastTestEmail);
  }

  async function load(): Promise<void> {
    const generation = ++state.generation;
    const res = await deps.api<ConfigVersionsResponse>('GET', `${clusterPath()}/versions`);
    if (generation !== state.generation) return;
    if (!res.ok) {
      state.data = undefined;
      render();
      if (res.status !== 401)
        status('history-status', t('history.loadFailed', { error: errorText(res) }), 'bad');
      return;
    }
    state.data = res.data;
    render();
  }

  async function restoreVersion(version: number): Promise<void> {
    if (!(await deps.confirmRestore(version))) return;
    status('history-status', t('history.restoring', { version }));
    const etag = deps.etag();
    const res = await deps.api<RestoreResponse>(
      'POST',
      `${clusterPath()}/versions/${version}/restore`,
      undefined,
      etag ? { ifMatch: etag } : {},
    );
    if (!res.ok && res.status === 412) {
      status('history-status', t('history.restoreStale', { version }), 'bad');
      await load();
      return;
    }
    if (!res.ok) {
      if (res.status !== 401)
        status('history-status', t('history.restoreFailed', { version, error: errorText(res) }), 'bad');
      return;
    }
    deps.restored(res.data.config, res.data.version, res.data.restoredFrom, res.etag);
    status(
      'history-status',
      t('history.restored', { from: res.data.restoredFrom, version: res.data.version }),
      'ok',
    );
    await load();
  }

  button('restore-last-good').addEventListener('click', () => {
    const good = lastGood();
    if (good) void restoreVersion(good.version);
  });

  return {
    load,
    render,
    clear: () => {
      state.data = undefined;
      state.generation++;
      byId('history-body').textContent = '';
      byId('last-test').hidden = true;
      status('history-status', '');
    },
  };
}
