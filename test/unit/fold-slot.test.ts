import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  confirmFoldSlot,
  decideFoldSlot,
  type FoldSlot,
  undoFoldSlot,
} from '../../functions/core/notify/fold-slot.js';

const WINDOW = 30 * 60_000;
const LEASE = 5 * 60_000;
const timing = (nowMs: number) => ({ nowMs, windowMs: WINDOW, pendingMs: LEASE, retentionMs: 24 * 3600_000 });

describe('the fold slot state machine', () => {
  it("never folds the slot owner's own redelivery, confirmed or not, at any time in the window", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 0, max: WINDOW - 1 }), (confirmed, later) => {
        let slot: FoldSlot | undefined = decideFoldSlot(undefined, 'owner', timing(0)).next;
        if (confirmed) slot = confirmFoldSlot(slot, 'owner') ?? slot;
        return decideFoldSlot(slot, 'owner', timing(later)).decision.send;
      }),
    );
  });

  it('folds every other event inside a confirmed window, and sends once it has passed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 * WINDOW }), (later) => {
        const taken = decideFoldSlot(undefined, 'owner', timing(0)).next;
        const slot = confirmFoldSlot(taken, 'owner') as FoldSlot;
        return decideFoldSlot(slot, 'other', timing(later)).decision.send === later >= WINDOW;
      }),
    );
  });

  it('folds into an unconfirmed send only during its lease', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: WINDOW - 1 }), (later) => {
        const slot = decideFoldSlot(undefined, 'owner', timing(0)).next;
        return decideFoldSlot(slot, 'other', timing(later)).decision.send === later > LEASE;
      }),
    );
  });

  it('changes the version on every write, so a conditional write detects any race', () => {
    const first = decideFoldSlot(undefined, 'a', timing(0)).next;
    const folded = decideFoldSlot(first, 'b', timing(1000)).next;
    const confirmed = confirmFoldSlot(folded, 'a') as FoldSlot;

    expect([first.version, folded.version, confirmed.version]).toEqual([1, 2, 3]);
    expect(confirmFoldSlot(confirmed, 'a')).toBeUndefined();
    expect(undoFoldSlot(confirmed, 'b')).toBeUndefined();
    expect(undoFoldSlot(confirmed, 'a')).toBeNull();
  });

  it('a takeover of a send that was never confirmed does not claim that email went out', () => {
    const slot = decideFoldSlot(undefined, 'crashed-owner', timing(0)).next;
    const folded = decideFoldSlot(slot, 'repeat', timing(1000)).next;

    const takeover = decideFoldSlot(folded, 'next', timing(LEASE + 1)).decision;

    expect(takeover).toEqual({
      send: true,
      previous: {
        lastSentAt: new Date(0).toISOString(),
        lastSentEventId: 'crashed-owner',
        foldedCount: 2,
        firstFoldedAt: new Date(0).toISOString(),
        lastSentUnconfirmed: true,
      },
    });
  });
});
