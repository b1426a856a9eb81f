// Ports every subdomain shares. Each subdomain's own ports live in its folder (config/config-store,
// mail/mailer, oauth/oauth-ports); adapters implement them and core never imports an adapter.

export type Clock = () => Date;

/** The logging surface core uses; Powertools' Logger satisfies it. */
export interface Log {
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...extra: [Error] | Record<string, unknown>[]): void;
}
