// The HTTP form of configuration versions: `ETag: "v7"` on GET and on a save's answer, and
// `If-Match` on PUT, DELETE and restore (RFC 9110 section 13.1.1). A stale If-Match answers 412 with the
// version that is current and who saved it when; a malformed one answers 400.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type {
  ConfigPreconditionFailedError,
  VersionPrecondition,
} from '../core/config/config-precondition.js';
import { type PublicEmailConfig, toPublicConfig } from '../core/config/public-config.js';
import { HttpError } from '../shared/http.js';

/** The strong entity tag of a configuration version: `"v7"` (`"v0"`: stored before the history). */
export function configEtag(version: number): string {
  return `"v${version}"`;
}

// entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text; a list is
// separated by commas with optional whitespace.
const LIST_ITEM = /[ \t]*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(?:,|$)/y;
const VERSION_TAG = /^v(0|[1-9]\d{0,9})$/;

/**
 * The request's `If-Match` as a precondition on the version; undefined without one (the save is
 * unconditional). Weak tags and tags that are not ours are well-formed but never match (If-Match
 * compares strongly). Anything else is a 400 naming the header.
 */
export function ifMatchPrecondition(event: APIGatewayProxyEventV2): VersionPrecondition | undefined {
  const raw = ifMatchHeader(event);
  if (raw === undefined) return undefined;
  const value = raw.trim();
  if (value === '*') return { any: true };
  const versions: number[] = [];
  LIST_ITEM.lastIndex = 0;
  let items = 0;
  while (LIST_ITEM.lastIndex < value.length) {
    const tag = LIST_ITEM.exec(value);
    if (!tag) break;
    items++;
    const version = tag[1] ? null : VERSION_TAG.exec(tag[2] ?? '');
    if (version) versions.push(Number(version[1]));
  }
  if (items === 0 || LIST_ITEM.lastIndex !== value.length || value.endsWith(',')) {
    throw new HttpError(400, 'Invalid If-Match header', [
      {
        path: 'If-Match',
        message: `must be "*" or entity tags as this API's ETag sends them (e.g. "v7", with the quotes); got ${JSON.stringify(raw.slice(0, 100))}`,
      },
    ]);
  }
  return { versions };
}

/** The raw `If-Match` header (the headers are normalized to lower case). */
export function ifMatchHeader(event: APIGatewayProxyEventV2): string | undefined {
  return event.headers['if-match'] ?? event.headers['If-Match'];
}

/** The body of a 412: what is current instead, so a page can show what changed. */
export interface PreconditionFailedBody {
  error: string;
  clusterId: string;
  /** The If-Match the request sent, as it was sent. */
  ifMatch: string;
  /** The current configuration; null when the cluster has none (deleted meanwhile). */
  current: {
    version: number;
    etag: string;
    /** Absent for version 0 (stored before the history kept versions). */
    savedAt?: string;
    savedBy?: string;
    restoredFrom?: number;
    /** The current configuration as GET shows it (secrets as set or not set). */
    config: PublicEmailConfig;
  } | null;
}

export function preconditionFailedBody(
  error: ConfigPreconditionFailedError,
  ifMatch: string,
): PreconditionFailedBody {
  const { current } = error;
  return {
    error: error.message,
    clusterId: error.clusterId,
    ifMatch,
    current: current
      ? {
          version: current.version,
          etag: configEtag(current.version),
          ...(current.saved ?? {}),
          config: toPublicConfig(current.document),
        }
      : null,
  };
}
