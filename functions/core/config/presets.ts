// Provider presets: plain data with no imports, shared by the config schema and the admin page.

export const SMTP_ENCRYPTIONS = ['tls', 'starttls', 'none'] as const;
export type SmtpEncryption = (typeof SMTP_ENCRYPTIONS)[number];

export const OAUTH_PROVIDERS = ['microsoft', 'google', 'custom'] as const;
export type OAuthProvider = (typeof OAUTH_PROVIDERS)[number];

export interface OAuthPreset {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  scopes: string[];
  relay: { host: string; port: number; encryption: SmtpEncryption };
}

export const MICROSOFT_DEFAULT_TENANT = 'organizations';

export function oauthPreset(
  provider: OAuthProvider,
  tenant = MICROSOFT_DEFAULT_TENANT,
): OAuthPreset | undefined {
  switch (provider) {
    case 'microsoft':
      return {
        authorizationEndpoint: `https://login.microsoftonline.com/${encodeURIComponent(tenant)}/oauth2/v2.0/authorize`,
        tokenEndpoint: `https://login.microsoftonline.com/${encodeURIComponent(tenant)}/oauth2/v2.0/token`,
        scopes: ['https://outlook.office.com/SMTP.Send', 'offline_access'],
        relay: { host: 'smtp.office365.com', port: 587, encryption: 'starttls' },
      };
    case 'google':
      return {
        authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
        tokenEndpoint: 'https://oauth2.googleapis.com/token',
        scopes: ['https://mail.google.com/'],
        relay: { host: 'smtp.gmail.com', port: 587, encryption: 'starttls' },
      };
    case 'custom':
      return undefined;
  }
}
