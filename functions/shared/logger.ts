import { Logger } from '@aws-lambda-powertools/logger';
import { REDACTED } from '../kernel/text.js';

// Keys whose values are secrets wherever they appear in a log entry. Defence in depth: code
// never logs a configuration or a token, but a future log line must not be able to either.
const SENSITIVE_KEY =
  /^(password|pass|clientSecret|client_secret|refreshToken|refresh_token|privateKeyPem|client_assertion|clientAssertion|accessToken|access_token|id_token|idToken|authorization|code_verifier|codeVerifier|secret|token)$/i;

export function redactSensitive(key: string, value: unknown): unknown {
  return SENSITIVE_KEY.test(key) && value !== undefined && value !== null && value !== false
    ? REDACTED
    : value;
}

export function createLogger(options: { serviceName?: string; logLevel?: string } = {}): Logger {
  return new Logger({
    serviceName: options.serviceName ?? 'appliance-notifier',
    ...(options.logLevel ? { logLevel: options.logLevel as 'INFO' } : {}),
    jsonReplacerFn: redactSensitive,
  });
}
