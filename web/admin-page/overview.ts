// The fleet overview the page opens on: every cluster with its health (unhealthy first), sortable
// by any column with the column's button (aria-sort says how), each cluster a link to its form.
// The server's findings are said in the page's language; one it does not know falls back to the
// server's English sentence.
import type { SmtpEncryption } from '../../functions/core/config/presets.js';
import type { HealthFindingCode } from '../../functions/core/fleet/health-findings.js';
import { ADMIN_PAGE_CLUSTER_KEY } from '../../functions/kernel/public-paths.js';
import {
  type ApiCall,
  type ClusterHealthItem,
  type ConditionSummary,
  errorText,
  type FleetOverviewResponse,
  type HealthFinding,
} from './api-client.js';
import type { PublicOAuthStatus } from './api-types.js';
import { conditionTitleOf, outcomeText } from './delivery-log.js';
import { actionButton, byId, el, labelledCell, status, when } from './dom.js';
import { type MessageKey, t, tn } from './i18n.js';
import { stageName } from './result-views.js';

const HEALTH_RANK = { failing: 0, warning: 1, ok: 2 } as const;

const COLUMNS = [
  { id: 'cluster', label: 'overview.cluster' },
  { id: 'health', label: 'overview.health' },
  { id: 'relay', label: 'overview.relay' },
  { id: 'lastTest', label: 'overview.lastTest' },
  { id: 'lastDelivery', label: 'overview.lastDelivery' },
  { id: 'last24h', label: 'overview.last24h' },
  { id: 'oauth', label: 'overview.oauth' },
  { id: 'dailyNotice', label: 'overview.dailyNotice' },
  { id: 'pending', label: 'overview.pending' },
] as const satisfies ReadonlyArray<{ id: string; label: MessageKey }>;

type ColumnId = (typeof COLUMNS)[number]['id'];

const byId_ = (a: ClusterHealthItem, b: ClusterHealthItem) =>
  a.clusterId < b.clusterId ? -1 : a.clusterId > b.clusterId ? 1 : 0;
const time = (iso: string | undefined) => (iso ? Date.parse(iso) : Number.NEGATIVE_INFINITY);

/** Each column's order, ascending; ties by cluster id. Health ascending is failing first. */
const COMPARE: Record<ColumnId, (a: ClusterHealthItem, b: ClusterHealthItem) => number> = {
  cluster: () => 0,
  health: (a, b) => HEALTH_RANK[a.health] - HEALTH_RANK[b.health],
  relay: (a, b) => (a.relay ?? '').localeCompare(b.relay ?? ''),
  lastTest: (a, b) => time(a.lastTestEmail?.at) - time(b.lastTestEmail?.at),
  lastDelivery: (a, b) => time(a.lastDelivery?.at) - time(b.lastDelivery?.at),
  last24h: (a, b) => (a.last24h?.failed ?? 0) - (b.last24h?.failed ?? 0),
  oauth: (a, b) => (a.oauth?.status ?? '').localeCompare(b.oauth?.status ?? ''),
  dailyNotice: (a, b) => time(a.dailyNotice?.lastSentAt) - time(b.dailyNotice?.lastSentAt),
  pending: (a, b) => (a.pendingRetries ?? 0) - (b.pendingRetries ?? 0),
};

/** Each finding the server names, in the page's language (a new code does not compile until it is here). */
const FINDINGS = {
  'test-email-failed': (finding) => t('finding.testEmailFailed', { stage: stageName(finding.stage) }),
  'oauth-needs-authorization': () => t('finding.oauthNeedsAuthorization'),
  'last-event-retrying': () => t('finding.lastEventRetrying'),
  'last-event-failed': () => t('finding.lastEventFailed'),
  'failed-24h': (finding) => tn('finding.failed24h', finding.count ?? 0),
  'daily-notice-failed': () => t('finding.dailyNoticeFailed'),
  'no-test-email': () => t('finding.noTestEmail'),
  'throttled-24h': (finding) => tn('finding.throttled24h', finding.count ?? 0),
  'pending-retries': (finding) => tn('finding.pendingRetries', finding.count ?? 0),
  'daily-notice-overdue': () => t('finding.dailyNoticeOverdue'),
  'credential-expiring': (finding) => tn('finding.credentialExpiring', finding.count ?? 0),
  'credential-expired': () => t('finding.credentialExpired'),
  unreadable: () => t('finding.unreadable'),
} satisfies Record<HealthFindingCode, (finding: HealthFinding) => string>;

const isKnownFinding = (code: string): code is HealthFindingCode => code in FINDINGS;

/** A finding in the page's language; one this page does not know yet in the server's English. */
function findingText(finding: HealthFinding, fallback: string | undefined): string {
  if (finding.code === 'unreadable' && fallback) return fallback;
  return isKnownFinding(finding.code) ? FINDINGS[finding.code](finding) : (fallback ?? finding.code);
}

function findingsOf(item: ClusterHealthItem): string[] {
  if (!item.findings) return item.problems;
  return item.findings.map((finding, index) => findingText(finding, item.problems[index]));
}

const ENCRYPTION_SHORT = {
  tls: 'encryptionShort.tls',
  starttls: 'encryptionShort.starttls',
  none: 'encryptionShort.none',
} as const satisfies Record<SmtpEncryption, MessageKey>;

const OAUTH_STATUS_LABELS = {
  authorized: 'oauth.authorized',
  'app-only': 'oauth.appOnly',
  'service-account': 'oauth.serviceAccount',
  'needs-authorization': 'oauth.needs',
} as const satisfies Record<PublicOAuthStatus['status'], MessageKey>;

/** `host:port (encryption)` in the page's language, or Amazon SES. */
export function relayText(item: {
  transport?: string;
  smtp?: ClusterHealthItem['smtp'];
  relay?: string;
}): string {
  if (item.transport === 'ses') return t('form.transportSes');
  if (item.transport === 'graph') return item.relay ?? t('form.graph');
  if (!item.smtp) return item.relay ?? '—';
  return `${item.smtp.host}:${item.smtp.port} (${t(ENCRYPTION_SHORT[item.smtp.encryption])})`;
}

export interface OverviewDeps {
  api: ApiCall;
  conditions: () => ConditionSummary[];
  /** The page's link to a cluster's form. */
  href: (clusterId: string) => string;
}

export function fleetOverview(deps: OverviewDeps) {
  const state = {
    items: [] as ClusterHealthItem[],
    sort: { column: 'health' as ColumnId, ascending: true },
    loaded: false,
    generatedAt: '',
  };

  function sorted(): ClusterHealthItem[] {
    const compare = COMPARE[state.sort.column];
    const direction = state.sort.ascending ? 1 : -1;
    return [...state.items].sort((a, b) => direction * compare(a, b) || byId_(a, b));
  }

  function renderHead(): void {
    const head = byId('overview-head');
    head.replaceChildren(
      ...COLUMNS.map((column) => {
        const th = el('th');
        th.scope = 'col';
        const active = state.sort.column === column.id;
        th.setAttribute('aria-sort', active ? (state.sort.ascending ? 'ascending' : 'descending') : 'none');
        const sort = actionButton(t(column.label), 'sort');
        sort.append(el('span', active ? (state.sort.ascending ? ' ▲' : ' ▼') : '', 'sort-mark'));
        sort.addEventListener('click', () => {
          state.sort = active
            ? { column: column.id, ascending: !state.sort.ascending }
            : { column: column.id, ascending: true };
          render();
        });
        th.append(sort);
        return th;
      }),
    );
  }

  const conditionTitle = (id: string) => conditionTitleOf(deps.conditions(), id);

  const cell = (column: ColumnId, ...content: Array<Node | string>) =>
    labelledCell(t(COLUMNS.find((c) => c.id === column)?.label ?? 'overview.cluster'), ...content);

  const nothing = () => el('span', '—', 'muted');

  function row(item: ClusterHealthItem): HTMLTableRowElement {
    const tr = el('tr', null, `health-${item.health}`);
    tr.dataset.clusterId = item.clusterId;
    const link = el('a', item.clusterId);
    link.href = deps.href(item.clusterId);
    const health = cell('health', el('span', t(`health.${item.health}`), `badge health-${item.health}`));
    const findings = findingsOf(item);
    if (findings.length > 0) {
      const list = el('ul', null, 'findings');
      for (const text of findings) list.append(el('li', text));
      health.append(list);
    }
    const test = item.lastTestEmail;
    const last = item.lastDelivery;
    const day = item.last24h;
    const notice = item.dailyNotice;
    tr.append(
      cell('cluster', link),
      health,
      cell('relay', relayText(item)),
      test
        ? cell(
            'lastTest',
            el(
              'span',
              test.ok ? t('overview.testOk') : t('overview.testFailed', { stage: stageName(test.stage) }),
              test.ok ? 'good' : 'bad',
            ),
            el('br'),
            when(test.at),
          )
        : cell('lastTest', nothing()),
      last
        ? cell(
            'lastDelivery',
            `${conditionTitle(last.condition)}: `,
            el('span', outcomeText(last.outcome), `outcome-${last.outcome}`),
            el('br'),
            when(last.at),
          )
        : cell('lastDelivery', nothing()),
      day
        ? cell('last24h', t('overview.day', { sent: day.sent, failed: day.failed, throttled: day.throttled }))
        : cell('last24h', nothing()),
      item.oauth
        ? cell(
            'oauth',
            el(
              'span',
              t(OAUTH_STATUS_LABELS[item.oauth.status]),
              item.oauth.status === 'needs-authorization' ? 'bad' : 'good',
            ),
          )
        : cell('oauth', nothing()),
      notice
        ? notice.enabled
          ? notice.lastSentAt
            ? cell('dailyNotice', when(notice.lastSentAt))
            : cell('dailyNotice', t('overview.noticeNever'))
          : cell('dailyNotice', t('overview.noticeOff'))
        : cell('dailyNotice', nothing()),
      cell('pending', String(item.pendingRetries ?? 0)),
    );
    return tr;
  }

  function render(): void {
    renderHead();
    const body = byId('overview-body');
    body.replaceChildren(...sorted().map(row));
    if (state.loaded && state.items.length === 0) {
      const empty = el('td', t('overview.empty'));
      empty.colSpan = COLUMNS.length;
      const tr = el('tr', null, 'empty');
      tr.append(empty);
      body.append(tr);
    }
    if (state.loaded) {
      const failing = state.items.filter((item) => item.health === 'failing').length;
      const warning = state.items.filter((item) => item.health === 'warning').length;
      status(
        'overview-status',
        `${tn('overview.count', state.items.length)} ${t('overview.summary', { failing, warning })}`,
        failing > 0 ? 'bad' : '',
      );
    }
  }

  async function load(): Promise<void> {
    status('overview-status', t('overview.loading'));
    const res = await deps.api<FleetOverviewResponse>('GET', 'clusters');
    if (!res.ok) {
      if (res.status !== 401)
        status('overview-status', t('overview.loadFailed', { error: errorText(res) }), 'bad');
      return;
    }
    state.items = res.data.items;
    state.generatedAt = res.data.generatedAt;
    state.loaded = true;
    render();
  }

  return { load, render, ids: () => state.items.map((item) => item.clusterId) };
}

export const clusterHash = (clusterId: string): string =>
  `#${new URLSearchParams({ [ADMIN_PAGE_CLUSTER_KEY]: clusterId }).toString()}`;
