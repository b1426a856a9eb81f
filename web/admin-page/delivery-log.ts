// The delivery log of one cluster: condition titles and severity in the page's language, times in
// the viewer's time zone (also those inside the server's reasons), the API's stable order,
// filters by outcome and condition, cursor paging ("Show older events"), and a Replay button on
// failed events that shows what the replay did. On a narrow screen each row is a card.
import { OUTCOMES } from '../../functions/core/notify/delivery-ledger.js';
import {
  type ApiCall,
  type ConditionSummary,
  type DeliveriesResponse,
  type DeliveryRecord,
  errorText,
  type ReplayResponse,
} from './api-client.js';
import { actionButton, byId, el, labelledCell, select, status, when, withLocalTimes } from './dom.js';
import { language, type MessageKey, t, tn } from './i18n.js';

const PAGE_SIZE = 50;
const DAILY_NOTICE = 'daily-notice';
/** How long the page follows a replay that was only queued (AWS: notify picks it up from SQS). */
const REPLAY_FOLLOW_MS = 60_000;
const REPLAY_POLL_MS = 2_000;

type Item = DeliveriesResponse['items'][number];

const OUTCOME_KEYS = {
  sent: 'outcome.sent',
  folded: 'outcome.folded',
  rejected: 'outcome.rejected',
  failed: 'outcome.failed',
  grouped: 'outcome.grouped',
  inhibited: 'outcome.inhibited',
} as const satisfies Record<(typeof OUTCOMES)[number], MessageKey>;

const isOutcome = (outcome: string): outcome is keyof typeof OUTCOME_KEYS => outcome in OUTCOME_KEYS;

export const outcomeText = (outcome: string): string =>
  isOutcome(outcome) ? t(OUTCOME_KEYS[outcome]) : outcome;

/** A condition id as the page says it: its catalog title, the daily notice, or an unrecognized event. */
export function conditionTitleOf(conditions: readonly ConditionSummary[], id: string): string {
  if (id === DAILY_NOTICE) return t('log.dailyNotice');
  if (id === 'unknown') return t('log.unknownEvent');
  const found = conditions.find((condition) => condition.id === id);
  return found ? found.title[language()] : id;
}

export interface DeliveryLogDeps {
  api: ApiCall;
  cluster: () => string;
  /** The condition catalog (GET /conditions), for titles and the filter. */
  conditions: () => ConditionSummary[];
}

interface ReplayNote {
  text: string;
  kind: 'ok' | 'bad' | '';
}

export function deliveryLog(deps: DeliveryLogDeps) {
  const state = {
    items: [] as Item[],
    nextCursor: undefined as string | undefined,
    /** What each replay did, by event id, until the log is loaded again. */
    replays: new Map<string, ReplayNote>(),
    /** Replays not finished yet: their buttons stay disabled. */
    replaying: new Set<string>(),
    /** Increments with every load: a late answer for an older load is dropped. */
    generation: 0,
  };
  const clusterPath = () => `clusters/${encodeURIComponent(deps.cluster())}`;

  const conditionTitle = (id: string) => conditionTitleOf(deps.conditions(), id);

  function severityOf(item: Item): string | undefined {
    return item.severity ?? deps.conditions().find((condition) => condition.id === item.condition)?.severity;
  }

  /** The filter selects, in the page's language, keeping what is chosen. */
  function renderFilters(): void {
    const outcome = select('filter-outcome');
    const condition = select('filter-condition');
    const chosenOutcome = outcome.value;
    const chosenCondition = condition.value;
    const option = (value: string, text: string) => {
      const node = el('option', text);
      node.value = value;
      return node;
    };
    outcome.replaceChildren(
      option('', t('log.allOutcomes')),
      ...OUTCOMES.map((id) => option(id, outcomeText(id))),
    );
    condition.replaceChildren(
      option('', t('log.allConditions')),
      option(DAILY_NOTICE, t('log.dailyNotice')),
      ...deps.conditions().map((c) => option(c.id, c.title[language()])),
    );
    outcome.value = chosenOutcome;
    condition.value = chosenCondition;
  }

  /** Who got it, who is still pending and who refused it: a partial delivery never reads as complete. */
  function recipientsText(item: DeliveryRecord): string {
    return [
      item.recipients.join(', '),
      item.pendingRecipients?.length ? t('log.pending', { list: item.pendingRecipients.join(', ') }) : '',
      item.refusedRecipients?.length ? t('log.refused', { list: item.refusedRecipients.join(', ') }) : '',
    ]
      .filter(Boolean)
      .join('; ');
  }

  const HEADERS = [
    'log.arrived',
    'log.condition',
    'log.appliance',
    'log.outcome',
    'log.reason',
    'log.recipients',
    'log.action',
  ] as const satisfies readonly MessageKey[];

  const cell = (column: (typeof HEADERS)[number], ...content: Array<Node | string>) =>
    labelledCell(t(column), ...content);

  function row(item: Item): HTMLTableRowElement {
    const partial = Boolean(item.pendingRecipients?.length || item.refusedRecipients?.length);
    const tr = el('tr');
    tr.dataset.eventId = item.eventId;
    const condition = el('span', conditionTitle(item.condition), 'condition-title');
    const severity = severityOf(item);
    const conditionCell = cell('log.condition', condition);
    if (severity) {
      conditionCell.append(
        ' ',
        el(
          'span',
          t(severity === 'critical' ? 'severity.critical' : 'severity.warning'),
          `badge ${severity}`,
        ),
      );
    }
    const outcome = cell(
      'log.outcome',
      partial ? t('log.partial', { outcome: outcomeText(item.outcome) }) : outcomeText(item.outcome),
    );
    outcome.className = `outcome-${item.outcome}`;
    const action = cell('log.action');
    if (item.outcome === 'failed') {
      const replay = actionButton(t('log.replay'));
      replay.disabled = state.replaying.has(item.eventId);
      replay.addEventListener('click', () => void runReplay(item, replay));
      action.append(replay);
    }
    const note = state.replays.get(item.eventId);
    if (note) action.append(el('p', note.text, `status replay-result ${note.kind}`));
    tr.append(
      // The log's order: when the event arrived (its own time can be late, early or replayed).
      cell('log.arrived', when(item.receivedAt || item.at)),
      conditionCell,
      cell('log.appliance', item.appliance || '—'),
      outcome,
      cell('log.reason', withLocalTimes(item.reason || '')),
      cell('log.recipients', recipientsText(item)),
      action,
    );
    return tr;
  }

  function render(): void {
    renderFilters();
    const tbody = byId('deliveries-body');
    tbody.replaceChildren(...state.items.map(row));
    if (state.items.length === 0) {
      const empty = el('td', filtered() ? t('log.noneMatching') : t('log.none', { cluster: deps.cluster() }));
      empty.colSpan = HEADERS.length;
      const tr = el('tr', null, 'empty');
      tr.append(empty);
      tbody.append(tr);
    }
    byId('more-deliveries').hidden = !state.nextCursor;
    status(
      'deliveries-status',
      `${tn('log.count', state.items.length)}${state.nextCursor ? ` ${t('log.moreAvailable')}` : ''}`,
    );
  }

  const filtered = () => select('filter-outcome').value !== '' || select('filter-condition').value !== '';

  function query(cursor?: string): string {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (select('filter-outcome').value) params.set('outcome', select('filter-outcome').value);
    if (select('filter-condition').value) params.set('condition', select('filter-condition').value);
    if (cursor) params.set('cursor', cursor);
    return params.toString();
  }

  /** The newest page (again); `more` appends the page after the last one shown. */
  async function load(more = false): Promise<void> {
    const generation = ++state.generation;
    if (!more) state.replays.clear();
    status('deliveries-status', t('log.loading'));
    const res = await deps.api<DeliveriesResponse>(
      'GET',
      `${clusterPath()}/deliveries?${query(more ? state.nextCursor : undefined)}`,
    );
    if (generation !== state.generation) return;
    if (!res.ok) {
      if (res.status !== 401)
        status('deliveries-status', t('log.loadFailed', { error: errorText(res) }), 'bad');
      return;
    }
    state.items = more ? [...state.items, ...res.data.items] : res.data.items;
    state.nextCursor = res.data.nextCursor;
    render();
  }

  function replace(record: DeliveryRecord): void {
    state.items = state.items.map((item) =>
      item.eventId === record.eventId ? { ...item, ...record } : item,
    );
  }

  function noteReplay(eventId: string, text: string, kind: ReplayNote['kind']): void {
    state.replays.set(eventId, { text, kind });
    render();
  }

  /** Follows a queued replay through GET of its record until its outcome is recorded again. */
  async function follow(item: Item): Promise<void> {
    const deadline = Date.now() + REPLAY_FOLLOW_MS;
    while (Date.now() < deadline) {
      await new Promise((resolve) => window.setTimeout(resolve, REPLAY_POLL_MS));
      const res = await deps.api<Item>(
        'GET',
        `${clusterPath()}/deliveries/${encodeURIComponent(item.eventId)}`,
      );
      if (!res.ok) continue;
      if (res.data.at !== item.at || res.data.outcome !== 'failed') {
        replace(res.data);
        replayFinished(item.eventId, res.data.outcome, res.data.reason);
        return;
      }
    }
    noteReplay(item.eventId, t('log.replayStillQueued'), '');
  }

  function replayFinished(eventId: string, outcome: string, reason?: string): void {
    const delivered = outcome !== 'failed' && outcome !== 'rejected';
    const text = delivered
      ? t('log.replayDone', { outcome: outcomeText(outcome) })
      : t('log.replayFailedAgain', { reason: reason || outcomeText(outcome) });
    noteReplay(eventId, text, delivered ? 'ok' : 'bad');
  }

  async function runReplay(item: Item, target: HTMLButtonElement): Promise<void> {
    if (state.replaying.has(item.eventId)) return;
    state.replaying.add(item.eventId);
    target.disabled = true;
    try {
      await replay(item);
    } finally {
      state.replaying.delete(item.eventId);
      render();
    }
  }

  async function replay(item: Item): Promise<void> {
    noteReplay(item.eventId, t('log.replaying'), '');
    const res = await deps.api<ReplayResponse>(
      'POST',
      `${clusterPath()}/deliveries/${encodeURIComponent(item.eventId)}/replay`,
    );
    if (!res.ok) {
      if (res.status !== 401)
        noteReplay(item.eventId, t('log.replayRefused', { error: errorText(res) }), 'bad');
      return;
    }
    if (res.status === 202 || res.data.outcome === 'queued') {
      noteReplay(item.eventId, t('log.replayQueued'), '');
      await follow(item);
      return;
    }
    if (res.data.record) replace(res.data.record);
    replayFinished(item.eventId, res.data.outcome, res.data.error);
  }

  return { load, render };
}
