import * as z from 'zod';
import { SenderEnvShape } from '../shared/service-env.js';

/** The daily notice function's environment; lib/ types the construct's `environment` from it. */
export const DailyNoticeEnvSchema = z.object(SenderEnvShape);
export type DailyNoticeEnv = z.output<typeof DailyNoticeEnvSchema>;
