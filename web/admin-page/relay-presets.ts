// The relay presets the page offers: the server's own table (functions/core/config/presets.ts),
// re-exported without DOM code so that test/unit/relay-presets.test.ts can check it is that table.
import { RELAY_PRESETS } from '../../functions/core/config/presets.js';

export const PAGE_RELAY_PRESETS = RELAY_PRESETS;
