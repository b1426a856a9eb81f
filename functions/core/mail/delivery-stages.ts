// The stages a delivery passes, each one a place it can fail. No imports: the admin page bundles
// this list to name the stage of a failed test email.
export const DELIVERY_STAGES = [
  'dns',
  'connect',
  'tls',
  'auth',
  'envelope',
  'data',
  'token',
  'send',
] as const;
export type DeliveryStage = (typeof DELIVERY_STAGES)[number];
