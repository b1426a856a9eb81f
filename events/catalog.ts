// The contract with appliances: one entry per condition of SPEC.md "Events that send email".
// Everything about a condition derives from here: the EventBridge rule (event-pattern.ts), the
// validation of incoming events (envelope.ts), the email's wording and facts, the samples, and
// `GET /conditions`. Adding an id to CONDITION_IDS without an entry (or a test row, or a sample)
// does not compile or does not pass.
import type { z } from 'zod';
import { DEFAULT_CLUSTER_ID } from '../functions/kernel/cluster-id.js';
import { formatTime, type Language } from '../functions/kernel/text.js';
import {
  type ApplianceRole,
  BackupOperationsDisabledDetailSchema,
  BackupPromotedDetailSchema,
  type CommonDetail,
  DataSyncStaleDetailSchema,
  PrimaryAndTestIpsUnreachableDetailSchema,
  PrimaryCheckFailedDetailSchema,
  PrimaryHostnameUnreachableDetailSchema,
  PromotionPendingDetailSchema,
  SelfCheckFailedDetailSchema,
  SharedIpInterfaceDisabledDetailSchema,
  SharedIpNotAssignedDetailSchema,
  TestIpsUnreachableDetailSchema,
  VersionMismatchDetailSchema,
} from './detail-schemas.js';
import { formatCountdown, formatDuration, formatList, formatTimeBeforeObservation } from './format.js';

export const EVENT_SOURCE = 'appliance.failover';

export const CONDITION_IDS = [
  'version-mismatch',
  'shared-ip-interface-disabled',
  'shared-ip-not-assigned',
  'primary-and-test-ips-unreachable',
  'test-ips-unreachable',
  'backup-operations-disabled',
  'self-check-failed',
  'primary-hostname-unreachable',
  'primary-check-failed',
  'promotion-pending',
  'backup-promoted',
  'data-sync-stale',
] as const;
export type ConditionId = (typeof CONDITION_IDS)[number];

export const SEVERITIES = ['critical', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Localized<T> {
  en: T;
  de: T;
}

/** One line of the email's fact table: what an admin needs without logging in anywhere. */
export interface Fact {
  label: string;
  value: string;
}

export interface ConditionDefinition<S extends z.ZodType = z.ZodType, Id extends ConditionId = ConditionId> {
  readonly id: Id;
  /** EventBridge `detail-type`; with EVENT_SOURCE it is the rule's whole event pattern. */
  readonly detailType: string;
  readonly severity: Severity;
  /** Short enough for a subject line. */
  readonly title: Localized<string>;
  /** The condition in the seed's words. */
  readonly description: Localized<string>;
  readonly detailSchema: S;
  // A method (not a function property) on purpose: methods are bivariant in their parameters,
  // which lets every typed entry sit in the catalog's erased `ConditionDefinition` view.
  /** The condition's own facts from a validated detail; `commonFacts` renders the shared ones. */
  facts(detail: z.output<S>, language: Language): Fact[];
  /** What to check next, in order. */
  readonly checks: Localized<readonly string[]>;
  /** The primary this condition is about, for conditions that name one (inhibition `same-primary`). */
  primaryOf?(detail: z.output<S>): string;
  /**
   * Conditions this one makes redundant in the same cluster: an event of them is recorded
   * `inhibited` with this event's id, and listed under "also reported" rather than alerted on its
   * own. Each pair says why, from the seed's descriptions.
   */
  readonly supersedes?: readonly Supersession[];
}

/**
 * Which events of the superseded condition an event inhibits: those about the same primary (both
 * conditions have `primaryOf`), or reported by the same appliance.
 */
export type InhibitionScope = 'same-primary' | 'same-appliance';

export interface Supersession {
  readonly condition: ConditionId;
  readonly scope: InhibitionScope;
  /** Why the superseded event adds nothing an admin must act on once this one is known. */
  readonly why: Localized<string>;
}

/** Keeps each schema's own type for `facts` (and the id as a literal) while checking the shape. */
export function defineCondition<const Id extends ConditionId, S extends z.ZodType>(
  definition: ConditionDefinition<S, Id>,
): ConditionDefinition<S, Id> {
  return definition;
}

const pick = <T>(language: Language, en: T, de: T): T => (language === 'de' ? de : en);

const L = {
  primary: { en: 'Primary', de: 'Primärer Knoten' },
  backup: { en: 'Backup', de: 'Sicherungsknoten' },
  testIps: { en: 'Test IPs tried', de: 'Geprüfte Test-IP-Adressen' },
  sharedIp: { en: 'Shared IP', de: 'Geteilte IP-Adresse' },
  lastContact: { en: 'Last contact with the primary', de: 'Letzter Kontakt zum primären Knoten' },
} satisfies Record<string, Localized<string>>;

const fact = (label: Localized<string>, language: Language, value: string): Fact => ({
  label: label[language],
  value,
});

export const CATALOG = {
  'version-mismatch': defineCondition({
    id: 'version-mismatch',
    detailType: 'Failover Version Mismatch',
    severity: 'critical',
    title: {
      en: 'Product versions of primary and backup differ',
      de: 'Produktversionen von primärem Knoten und Sicherungsknoten unterscheiden sich',
    },
    description: {
      en: 'During a failover operation, the product version on the primary does not match the product version on the backup.',
      de: 'Während Failover-Vorgängen stimmt die Produktversion am primären Knoten nicht mit der Produktversion am Sicherungsknoten überein.',
    },
    detailSchema: VersionMismatchDetailSchema,
    facts: (d, language) => [
      fact({ en: 'Primary version', de: 'Version am primären Knoten' }, language, d.primaryVersion),
      fact({ en: 'Backup version', de: 'Version am Sicherungsknoten' }, language, d.backupVersion),
      ...(d.primaryHostname ? [fact(L.primary, language, d.primaryHostname)] : []),
      ...(d.backupHostname ? [fact(L.backup, language, d.backupHostname)] : []),
      ...(d.operation ? [fact({ en: 'Operation', de: 'Vorgang' }, language, d.operation)] : []),
    ],
    checks: {
      en: [
        "Upgrade the node with the older version to the primary's version (versions above).",
        'Do not fail over or promote the backup until both nodes run the same version.',
        'Then open Management > Failover on the primary and confirm that the backup is connected and in sync.',
      ],
      de: [
        'Aktualisieren Sie den Knoten mit der älteren Version auf die Version des primären Knotens (Versionen oben).',
        'Führen Sie keinen Failover durch und stufen Sie den Sicherungsknoten nicht hoch, bis beide Knoten dieselbe Version haben.',
        'Prüfen Sie danach auf dem primären Knoten unter Verwaltung > Failover, ob der Sicherungsknoten verbunden und synchron ist.',
      ],
    },
  }),

  'shared-ip-interface-disabled': defineCondition({
    id: 'shared-ip-interface-disabled',
    detailType: 'Failover Shared IP Interface Disabled',
    severity: 'critical',
    title: {
      en: "Shared IP's network interface is not enabled",
      de: 'Netzwerkschnittstelle der geteilten IP-Adresse ist nicht aktiviert',
    },
    description: {
      en: 'This appliance is the primary and a shared IP is configured in /login, but its network interface is not enabled.',
      de: 'Diese Appliance ist der primäre Knoten, und in /login ist eine geteilte IP-Adresse konfiguriert, deren Netzwerkschnittstelle jedoch nicht aktiviert ist.',
    },
    detailSchema: SharedIpInterfaceDisabledDetailSchema,
    facts: (d, language) => [
      fact(L.sharedIp, language, d.sharedIp),
      fact(
        { en: 'Network interface (disabled)', de: 'Netzwerkschnittstelle (deaktiviert)' },
        language,
        d.interface,
      ),
    ],
    checks: {
      en: [
        'Open /appliance on this primary and enable the network interface named above.',
        'Check in /login that the shared IP is the address intended for this cluster.',
        'Then connect to the shared IP from a client and confirm that the primary answers.',
      ],
      de: [
        'Öffnen Sie /appliance auf diesem primären Knoten und aktivieren Sie die oben genannte Netzwerkschnittstelle.',
        'Prüfen Sie in /login, ob die geteilte IP-Adresse die für diesen Cluster vorgesehene Adresse ist.',
        'Verbinden Sie sich danach von einem Client mit der geteilten IP-Adresse und prüfen Sie, ob der primäre Knoten antwortet.',
      ],
    },
  }),

  'shared-ip-not-assigned': defineCondition({
    id: 'shared-ip-not-assigned',
    detailType: 'Failover Shared IP Not Assigned',
    severity: 'warning',
    title: {
      en: 'Shared IP is not listed in /appliance',
      de: 'Geteilte IP-Adresse ist nicht in /appliance aufgeführt',
    },
    description: {
      en: 'A shared IP is configured in /login but is not listed as an IP address in /appliance.',
      de: 'Eine geteilte IP-Adresse ist in /login konfiguriert, wird aber in /appliance nicht als IP-Adresse aufgeführt.',
    },
    detailSchema: SharedIpNotAssignedDetailSchema,
    facts: (d, language) => [
      fact(
        { en: 'Shared IP (configured in /login)', de: 'Geteilte IP-Adresse (in /login konfiguriert)' },
        language,
        d.sharedIp,
      ),
      ...(d.applianceIps
        ? [
            fact(
              { en: 'IP addresses listed in /appliance', de: 'In /appliance aufgeführte IP-Adressen' },
              language,
              formatList(d.applianceIps, language),
            ),
          ]
        : []),
    ],
    checks: {
      en: [
        'Open /appliance on the primary and add the shared IP above to the network interface that should carry it.',
        'If the shared IP has changed instead, correct it in /login.',
        'Make sure no other host on the network uses that address.',
      ],
      de: [
        'Öffnen Sie /appliance auf dem primären Knoten und fügen Sie die oben genannte geteilte IP-Adresse der vorgesehenen Netzwerkschnittstelle hinzu.',
        'Falls sich stattdessen die geteilte IP-Adresse geändert hat, korrigieren Sie sie in /login.',
        'Stellen Sie sicher, dass kein anderer Host im Netzwerk diese Adresse verwendet.',
      ],
    },
  }),

  'primary-and-test-ips-unreachable': defineCondition({
    id: 'primary-and-test-ips-unreachable',
    detailType: 'Failover Primary And Test IPs Unreachable',
    severity: 'critical',
    title: {
      en: 'Backup reaches neither the primary nor any test IP',
      de: 'Sicherungsknoten erreicht weder den primären Knoten noch eine Test-IP-Adresse',
    },
    description: {
      en: 'The backup could reach neither the primary nor any of the test IPs configured on Management > Failover.',
      de: 'Der Sicherungsknoten konnte weder den primären Knoten noch eine der Test-IP-Adressen erreichen, die unter Verwaltung > Failover konfiguriert sind.',
    },
    detailSchema: PrimaryAndTestIpsUnreachableDetailSchema,
    facts: (d, language) => [
      fact(L.primary, language, d.primaryHostname),
      fact(L.testIps, language, formatList(d.testIps, language)),
    ],
    checks: {
      en: [
        "Check the backup's own network first (interface, gateway, firewall in /appliance on the backup): it is likely the backup that is cut off.",
        "From another host in the backup's network, ping the primary and the test IPs above.",
        'If the primary is up and serving, do not promote the backup.',
        'On Management > Failover, keep only test IPs of stable hosts that always answer, such as the default gateway.',
      ],
      de: [
        'Prüfen Sie zuerst das Netzwerk des Sicherungsknotens (Schnittstelle, Gateway, Firewall in /appliance auf dem Sicherungsknoten): Wahrscheinlich ist der Sicherungsknoten selbst vom Netzwerk abgeschnitten.',
        'Pingen Sie den primären Knoten und die oben genannten Test-IP-Adressen von einem anderen Host im Netzwerk des Sicherungsknotens.',
        'Wenn der primäre Knoten läuft und Anfragen bedient, stufen Sie den Sicherungsknoten nicht hoch.',
        'Tragen Sie unter Verwaltung > Failover nur Test-IP-Adressen stabiler Hosts ein, die immer antworten, z. B. das Standard-Gateway.',
      ],
    },
    primaryOf: (d) => d.primaryHostname,
    supersedes: [
      {
        condition: 'test-ips-unreachable',
        scope: 'same-appliance',
        why: {
          en: 'Reaching neither the primary nor any test IP includes reaching no test IP: the same backup reports the wider failure.',
          de: 'Wer weder den primären Knoten noch eine Test-IP-Adresse erreicht, erreicht auch keine Test-IP-Adresse: Derselbe Sicherungsknoten meldet den umfassenderen Fehler.',
        },
      },
    ],
  }),

  'test-ips-unreachable': defineCondition({
    id: 'test-ips-unreachable',
    detailType: 'Failover Test IPs Unreachable',
    severity: 'warning',
    title: {
      en: 'Backup reaches none of the test IPs',
      de: 'Sicherungsknoten erreicht keine der Test-IP-Adressen',
    },
    description: {
      en: 'The backup could reach none of the test IPs configured on Management > Failover.',
      de: 'Der Sicherungsknoten konnte keine der Test-IP-Adressen erreichen, die unter Verwaltung > Failover konfiguriert sind.',
    },
    detailSchema: TestIpsUnreachableDetailSchema,
    facts: (d, language) => [fact(L.testIps, language, formatList(d.testIps, language))],
    checks: {
      en: [
        "From another host in the backup's network, ping the test IPs above.",
        "If they answer there, check the backup's network settings in /appliance (gateway, routes, firewall).",
        'On Management > Failover, replace test IPs that no longer exist or do not answer with stable hosts: without them the backup cannot tell a primary outage from its own.',
      ],
      de: [
        'Pingen Sie die oben genannten Test-IP-Adressen von einem anderen Host im Netzwerk des Sicherungsknotens.',
        'Wenn sie dort antworten, prüfen Sie die Netzwerkeinstellungen des Sicherungsknotens in /appliance (Gateway, Routen, Firewall).',
        'Ersetzen Sie unter Verwaltung > Failover Test-IP-Adressen, die nicht mehr existieren oder nicht antworten, durch stabile Hosts: Ohne sie kann der Sicherungsknoten einen Ausfall des primären Knotens nicht von einer Störung im eigenen Netzwerk unterscheiden.',
      ],
    },
  }),

  'backup-operations-disabled': defineCondition({
    id: 'backup-operations-disabled',
    detailType: 'Failover Backup Operations Disabled',
    severity: 'warning',
    title: {
      en: 'Backup operations are disabled',
      de: 'Sicherungsvorgänge sind deaktiviert',
    },
    description: {
      en: 'Backup operations of the backup node are disabled on Management > Failover.',
      de: 'Die Sicherungsvorgänge des Sicherungsknotens sind unter Verwaltung > Failover deaktiviert.',
    },
    detailSchema: BackupOperationsDisabledDetailSchema,
    facts: (d, language) => [
      ...(d.disabledAt
        ? [
            fact(
              { en: 'Disabled at', de: 'Deaktiviert am' },
              language,
              formatTimeBeforeObservation(d.disabledAt, d.observedAt, language),
            ),
          ]
        : []),
      ...(d.disabledBy ? [fact({ en: 'Disabled by', de: 'Deaktiviert von' }, language, d.disabledBy)] : []),
    ],
    checks: {
      en: [
        'While backup operations are disabled, this backup will not take over if the primary fails.',
        'Open Management > Failover on the backup and enable backup operations again, unless they were disabled on purpose (maintenance).',
        'If it was not planned, find out who disabled them (see above, or the appliance audit log).',
      ],
      de: [
        'Solange die Sicherungsvorgänge deaktiviert sind, übernimmt dieser Sicherungsknoten nicht, wenn der primäre Knoten ausfällt.',
        'Öffnen Sie Verwaltung > Failover auf dem Sicherungsknoten und aktivieren Sie die Sicherungsvorgänge wieder, sofern sie nicht absichtlich (Wartung) deaktiviert wurden.',
        'War das nicht geplant, klären Sie, wer sie deaktiviert hat (siehe oben oder im Audit-Protokoll der Appliance).',
      ],
    },
  }),

  'self-check-failed': defineCondition({
    id: 'self-check-failed',
    detailType: 'Failover Self Check Failed',
    severity: 'critical',
    title: {
      en: 'Backup could not check itself (defect)',
      de: 'Sicherungsknoten konnte sich nicht selbst prüfen (Defekt)',
    },
    description: {
      en: 'The backup unexpectedly could not check itself. This indicates a defect.',
      de: 'Der Sicherungsknoten konnte sich unerwartet nicht selbst prüfen. Das deutet auf einen Defekt hin.',
    },
    detailSchema: SelfCheckFailedDetailSchema,
    facts: (d, language) => [fact({ en: 'Error', de: 'Fehler' }, language, d.error)],
    checks: {
      en: [
        'Do not rely on automatic failover until this is resolved.',
        'Open Management > Failover on the backup and check whether the failover status recovers.',
        'If it does not, restart the backup appliance and contact support with the error and the version above.',
      ],
      de: [
        'Verlassen Sie sich nicht auf den automatischen Failover, solange das nicht behoben ist.',
        'Öffnen Sie Verwaltung > Failover auf dem Sicherungsknoten und prüfen Sie, ob sich der Failover-Status wieder normalisiert.',
        'Falls nicht, starten Sie den Sicherungsknoten neu und wenden Sie sich mit dem Fehler und der Version (oben) an den Support.',
      ],
    },
  }),

  'primary-hostname-unreachable': defineCondition({
    id: 'primary-hostname-unreachable',
    detailType: 'Failover Primary Hostname Unreachable',
    severity: 'warning',
    title: {
      en: "Backup cannot reach the primary by the primary's hostname",
      de: 'Sicherungsknoten erreicht den primären Knoten nicht über dessen Hostnamen',
    },
    description: {
      en: "The backup could not reach the primary by the primary's hostname.",
      de: 'Der Sicherungsknoten konnte den primären Knoten nicht über dessen Hostnamen erreichen.',
    },
    detailSchema: PrimaryHostnameUnreachableDetailSchema,
    facts: (d, language) => [
      fact({ en: "Primary's hostname", de: 'Hostname des primären Knotens' }, language, d.primaryHostname),
      fact(
        { en: 'Resolved to', de: 'Aufgelöst zu' },
        language,
        d.resolvedIp ?? pick(language, 'did not resolve (DNS)', 'nicht aufgelöst (DNS)'),
      ),
    ],
    checks: {
      en: [
        "On the backup, check that the primary's hostname above resolves to the primary's current IP address (DNS).",
        "Check that the hostname on Management > Failover matches the primary's hostname in /appliance.",
        'Check firewalls and routes between the backup and that address.',
      ],
      de: [
        'Prüfen Sie auf dem Sicherungsknoten, ob der oben genannte Hostname zur aktuellen IP-Adresse des primären Knotens aufgelöst wird (DNS).',
        'Prüfen Sie, ob der Hostname unter Verwaltung > Failover mit dem Hostnamen des primären Knotens in /appliance übereinstimmt.',
        'Prüfen Sie Firewalls und Routen zwischen dem Sicherungsknoten und dieser Adresse.',
      ],
    },
    primaryOf: (d) => d.primaryHostname,
  }),

  'primary-check-failed': defineCondition({
    id: 'primary-check-failed',
    detailType: 'Failover Primary Check Failed',
    severity: 'critical',
    title: {
      en: 'Backup cannot check the primary (automatic failover is off)',
      de: 'Sicherungsknoten kann den primären Knoten nicht prüfen (automatischer Failover deaktiviert)',
    },
    description: {
      en: 'Automatic failover is disabled and the backup could not check the primary.',
      de: 'Der automatische Failover ist deaktiviert, und der Sicherungsknoten konnte den primären Knoten nicht prüfen.',
    },
    detailSchema: PrimaryCheckFailedDetailSchema,
    facts: (d, language) => [
      fact(L.primary, language, d.primaryHostname),
      ...(d.lastContactAt
        ? [
            fact(
              L.lastContact,
              language,
              formatTimeBeforeObservation(d.lastContactAt, d.observedAt, language),
            ),
          ]
        : []),
      fact(
        { en: 'Automatic failover', de: 'Automatischer Failover' },
        language,
        pick(
          language,
          'off: the backup will not take over',
          'deaktiviert: Der Sicherungsknoten übernimmt nicht',
        ),
      ),
    ],
    checks: {
      en: [
        'Check whether the primary is up: open its /login page.',
        "Check the network between the backup and the primary (routes, firewall, DNS for the primary's hostname).",
        'If the primary is down, decide whether to promote the backup by hand on Management > Failover: automatic failover is off.',
      ],
      de: [
        'Prüfen Sie, ob der primäre Knoten läuft: Öffnen Sie seine Seite /login.',
        'Prüfen Sie das Netzwerk zwischen Sicherungsknoten und primärem Knoten (Routen, Firewall, DNS für den Hostnamen des primären Knotens).',
        'Ist der primäre Knoten ausgefallen, entscheiden Sie, ob Sie den Sicherungsknoten unter Verwaltung > Failover manuell hochstufen; der automatische Failover ist deaktiviert.',
      ],
    },
    primaryOf: (d) => d.primaryHostname,
  }),

  'promotion-pending': defineCondition({
    id: 'promotion-pending',
    detailType: 'Failover Promotion Pending',
    severity: 'critical',
    title: {
      en: 'Backup will become primary if the primary stays silent',
      de: 'Sicherungsknoten wird zum primären Knoten, wenn der primäre Knoten weiterhin nicht antwortet',
    },
    description: {
      en: 'Automatic failover is enabled and the backup could not check the primary. The backup will become the primary automatically if the primary keeps not answering.',
      de: 'Der automatische Failover ist aktiviert, und der Sicherungsknoten konnte den primären Knoten nicht prüfen. Der Sicherungsknoten wird automatisch zum primären Knoten, wenn der primäre Knoten weiterhin nicht antwortet.',
    },
    detailSchema: PromotionPendingDetailSchema,
    facts: (d, language) => [
      fact(L.primary, language, d.primaryHostname),
      fact(
        { en: 'Backup becomes primary in', de: 'Sicherungsknoten übernimmt in' },
        language,
        formatCountdown(d.secondsUntilPromotion, d.observedAt, language),
      ),
      ...(d.lastContactAt
        ? [
            fact(
              L.lastContact,
              language,
              formatTimeBeforeObservation(d.lastContactAt, d.observedAt, language),
            ),
          ]
        : []),
    ],
    checks: {
      en: [
        'Act before the time above: check at once whether the primary is really down (open its /login page).',
        'If the primary is up and only the link between the nodes is broken, fix the network or disable automatic failover on Management > Failover, or you will have two primaries.',
        'If the primary is down, let the promotion happen, then make sure clients reach the new primary (shared IP, DNS).',
      ],
      de: [
        'Handeln Sie vor dem oben genannten Zeitpunkt: Prüfen Sie sofort, ob der primäre Knoten wirklich ausgefallen ist (Seite /login öffnen).',
        'Läuft der primäre Knoten und ist nur die Verbindung zwischen den Knoten gestört, beheben Sie das Netzwerkproblem oder deaktivieren Sie den automatischen Failover unter Verwaltung > Failover, sonst gibt es zwei primäre Knoten.',
        'Ist der primäre Knoten ausgefallen, lassen Sie die Übernahme zu und stellen Sie danach sicher, dass Clients den neuen primären Knoten erreichen (geteilte IP-Adresse, DNS).',
      ],
    },
    primaryOf: (d) => d.primaryHostname,
  }),

  'backup-promoted': defineCondition({
    id: 'backup-promoted',
    detailType: 'Failover Backup Promoted',
    severity: 'critical',
    title: {
      en: 'Backup became primary: the primary was silent too long',
      de: 'Sicherungsknoten ist zum primären Knoten geworden: Der primäre Knoten antwortete zu lange nicht',
    },
    description: {
      en: 'Automatic failover is enabled and the backup became the primary because the primary did not answer for too long.',
      de: 'Der automatische Failover ist aktiviert, und der Sicherungsknoten ist automatisch zum primären Knoten geworden, weil der bisherige primäre Knoten zu lange nicht geantwortet hat.',
    },
    detailSchema: BackupPromotedDetailSchema,
    facts: (d, language) => [
      fact({ en: 'New primary', de: 'Neuer primärer Knoten' }, language, d.appliance.hostname),
      fact({ en: 'Previous primary', de: 'Bisheriger primärer Knoten' }, language, d.previousPrimaryHostname),
      fact(
        { en: 'Previous primary silent for', de: 'Keine Antwort vom bisherigen primären Knoten seit' },
        language,
        formatDuration(d.silentForSeconds, language),
      ),
      fact(
        { en: 'Promoted at', de: 'Übernahme am' },
        language,
        formatTimeBeforeObservation(d.promotedAt, d.observedAt, language),
      ),
    ],
    checks: {
      en: [
        'Confirm on Management > Failover of the new primary that it serves users, and that the shared IP is now listed in its /appliance.',
        'Find out why the previous primary went silent before you bring it back.',
        'When the previous primary returns, make sure it rejoins as backup and does not also act as primary (check Management > Failover on both).',
      ],
      de: [
        'Prüfen Sie auf dem neuen primären Knoten unter Verwaltung > Failover, ob er Anfragen bedient, und ob die geteilte IP-Adresse jetzt in seinem /appliance aufgeführt ist.',
        'Klären Sie, warum der bisherige primäre Knoten nicht mehr antwortete, bevor Sie ihn wieder in Betrieb nehmen.',
        'Wenn der bisherige primäre Knoten wieder läuft, stellen Sie sicher, dass er dem Cluster als Sicherungsknoten beitritt und nicht ebenfalls als primärer Knoten arbeitet (auf beiden Knoten unter Verwaltung > Failover prüfen).',
      ],
    },
    primaryOf: (d) => d.previousPrimaryHostname,
    supersedes: [
      {
        condition: 'promotion-pending',
        scope: 'same-primary',
        why: {
          en: 'The promotion the countdown announced has happened: the backup is the primary now.',
          de: 'Die angekündigte Übernahme ist erfolgt: Der Sicherungsknoten ist jetzt der primäre Knoten.',
        },
      },
      {
        condition: 'primary-check-failed',
        scope: 'same-primary',
        why: {
          en: 'A backup that could not check the primary reports the silence that made another backup take over from that primary.',
          de: 'Ein Sicherungsknoten, der den primären Knoten nicht prüfen konnte, meldet dasselbe Ausbleiben der Antworten, wegen dessen ein anderer Sicherungsknoten übernommen hat.',
        },
      },
      {
        condition: 'primary-and-test-ips-unreachable',
        scope: 'same-primary',
        why: {
          en: "A backup that reached neither that primary nor its test IPs did not promote itself (the test IPs prevent it); the primary's silence is the incident, and that backup's own network is listed under also reported.",
          de: 'Ein Sicherungsknoten, der weder diesen primären Knoten noch seine Test-IP-Adressen erreichte, hat nicht übernommen (die Test-IP-Adressen verhindern das); der Vorfall ist der ausgefallene primäre Knoten, das Netzwerk dieses Sicherungsknotens steht unter „Ebenfalls gemeldet“.',
        },
      },
    ],
  }),

  'data-sync-stale': defineCondition({
    id: 'data-sync-stale',
    detailType: 'Failover Data Sync Stale',
    severity: 'warning',
    title: {
      en: 'No data sync to the backup for 24 hours',
      de: 'Seit 24 Stunden keine Datensynchronisierung mit dem Sicherungsknoten',
    },
    description: {
      en: 'The primary could not sync data to the backup in the last 24 hours.',
      de: 'Der primäre Knoten konnte in den letzten 24 Stunden keine Daten mit dem Sicherungsknoten synchronisieren.',
    },
    detailSchema: DataSyncStaleDetailSchema,
    facts: (d, language) => [
      fact(L.backup, language, d.backupHostname),
      fact(
        { en: 'Last successful sync', de: 'Letzte erfolgreiche Synchronisierung' },
        language,
        formatTimeBeforeObservation(d.lastSuccessfulSyncAt, d.observedAt, language),
      ),
    ],
    checks: {
      en: [
        'If the primary fails now, the backup takes over with data as old as the last successful sync above.',
        'On the primary, open Management > Failover and look at the data sync status and its last error.',
        'Check that the backup above is up and reachable from the primary, and that both run the same version.',
        'Once fixed, start a data sync on Management > Failover and watch it complete.',
      ],
      de: [
        'Fällt der primäre Knoten jetzt aus, übernimmt der Sicherungsknoten mit Daten vom Stand der letzten erfolgreichen Synchronisierung (oben).',
        'Öffnen Sie auf dem primären Knoten Verwaltung > Failover und prüfen Sie den Status der Datensynchronisierung und ihren letzten Fehler.',
        'Prüfen Sie, ob der oben genannte Sicherungsknoten läuft, vom primären Knoten erreichbar ist und dieselbe Version hat.',
        'Starten Sie nach der Behebung unter Verwaltung > Failover eine Datensynchronisierung und prüfen Sie, ob sie abgeschlossen wird.',
      ],
    },
  }),
} satisfies { [K in ConditionId]: ConditionDefinition<z.ZodType, K> };

/** The validated (output) detail of one condition, or of any condition. */
export type ConditionDetail<K extends ConditionId = ConditionId> = {
  [P in K]: z.output<(typeof CATALOG)[P]['detailSchema']>;
}[K];

/** The detail as an appliance sends it (before trimming), e.g. for samples and test fixtures. */
export type ConditionDetailInput<K extends ConditionId = ConditionId> = {
  [P in K]: z.input<(typeof CATALOG)[P]['detailSchema']>;
}[K];

const CONDITIONS: readonly ConditionDefinition[] = CONDITION_IDS.map((id) => CATALOG[id]);
const BY_DETAIL_TYPE = new Map(CONDITIONS.map((condition) => [condition.detailType, condition]));
const IDS: ReadonlySet<string> = new Set(CONDITION_IDS);

export function isConditionId(value: string): value is ConditionId {
  return IDS.has(value);
}

/** The condition an EventBridge `detail-type` names (exact, case-sensitive, as EventBridge matches). */
export function conditionByDetailType(detailType: string): ConditionDefinition | undefined {
  return BY_DETAIL_TYPE.get(detailType);
}

/** The cluster whose configuration an event selects (SPEC: `default` when the event names none). */
export function clusterIdOf(detail: Pick<CommonDetail, 'clusterId'>): string {
  return detail.clusterId ?? DEFAULT_CLUSTER_ID;
}

const ROLE: Record<ApplianceRole, Localized<string>> = {
  primary: { en: 'primary', de: 'primärer Knoten' },
  backup: { en: 'backup', de: 'Sicherungsknoten' },
  traffic: { en: 'traffic node', de: 'Datenverkehrsknoten' },
};

/** The facts every condition shares: which appliance, in which cluster, when. */
export function commonFacts(detail: CommonDetail, language: Language): Fact[] {
  const { hostname, role, version } = detail.appliance;
  return [
    fact({ en: 'Cluster', de: 'Cluster' }, language, clusterIdOf(detail)),
    fact(
      { en: 'Reported by', de: 'Gemeldet von' },
      language,
      `${hostname} (${ROLE[role][language]}, ${pick(language, 'version', 'Version')} ${version})`,
    ),
    fact(
      { en: 'Observed at', de: 'Festgestellt am' },
      language,
      formatTime(new Date(detail.observedAt), language),
    ),
  ];
}

export interface ConditionSummary {
  id: ConditionId;
  source: typeof EVENT_SOURCE;
  detailType: string;
  severity: Severity;
  title: Localized<string>;
  description: Localized<string>;
  checks: Localized<string[]>;
  /** The conditions this one inhibits in the same cluster, and why. */
  /** `why` in English, as the delivery log records it. */
  supersedes: { condition: ConditionId; scope: InhibitionScope; why: string }[];
}

/** `GET /conditions`: plain JSON, no schemas or functions. */
export function conditionsSummary(): ConditionSummary[] {
  return CONDITIONS.map((c) => ({
    id: c.id,
    source: EVENT_SOURCE,
    detailType: c.detailType,
    severity: c.severity,
    title: { ...c.title },
    description: { ...c.description },
    checks: { en: [...c.checks.en], de: [...c.checks.de] },
    supersedes: (c.supersedes ?? []).map((s) => ({ condition: s.condition, scope: s.scope, why: s.why.en })),
  }));
}

/** The node an event is about for an inhibition scope, or undefined when it names none. */
function inhibitionSubject(
  id: ConditionId,
  detail: ConditionDetail,
  scope: InhibitionScope,
): string | undefined {
  if (scope === 'same-appliance') return detail.appliance.hostname.toLowerCase();
  const definition = CATALOG[id] as ConditionDefinition;
  return definition.primaryOf?.(detail)?.toLowerCase();
}

/** One condition and node an event stands for, in the form inhibition matches on. */
export function inhibitionKey(condition: ConditionId, scope: InhibitionScope, subject: string): string {
  return `${condition}#${scope}#${subject}`;
}

/** The keys under which an event of `id` can be inhibited by an earlier or grouped superseder. */
export function inhibitableKeys(id: ConditionId, detail: ConditionDetail): string[] {
  const keys = (SUPERSEDED_BY.get(id) ?? []).flatMap(({ scope }) => {
    const subject = inhibitionSubject(id, detail, scope);
    return subject ? [inhibitionKey(id, scope, subject)] : [];
  });
  return [...new Set(keys)];
}

/** The keys an event of `id` inhibits: each superseded condition about the same node. */
export function inhibitedKeys(id: ConditionId, detail: ConditionDetail): string[] {
  const definition = CATALOG[id] as ConditionDefinition;
  return (definition.supersedes ?? []).flatMap(({ condition, scope }) => {
    const subject = inhibitionSubject(id, detail, scope);
    return subject ? [inhibitionKey(condition, scope, subject)] : [];
  });
}

/** Which superseders can inhibit each condition, by scope (derived from `supersedes`). */
const SUPERSEDED_BY = new Map<ConditionId, { by: ConditionId; scope: InhibitionScope }[]>();
for (const definition of CONDITIONS) {
  for (const { condition, scope } of definition.supersedes ?? []) {
    SUPERSEDED_BY.set(condition, [...(SUPERSEDED_BY.get(condition) ?? []), { by: definition.id, scope }]);
  }
}

/** Why `by` supersedes `condition`, as the catalog explains it. */
export function supersessionReason(
  by: ConditionId,
  condition: ConditionId,
  language: Language = 'en',
): string | undefined {
  return (CATALOG[by] as ConditionDefinition).supersedes?.find((s) => s.condition === condition)?.why[
    language
  ];
}
