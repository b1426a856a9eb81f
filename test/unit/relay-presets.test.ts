// The admin page's relay presets are the server's table (functions/core/config/presets.ts), and
// the limits the page shows for a preset are the ones delivery applies to its host.
import { describe, expect, it } from '@jest/globals';
import {
  effectiveRelayLimits,
  matchRelayPreset,
  oauthPreset,
  RELAY_PRESETS,
  relayPreset,
} from '../../functions/core/config/presets.js';
import { PAGE_RELAY_PRESETS } from '../../web/admin-page/relay-presets.js';

describe('relay presets', () => {
  it('the page offers the server table itself, not a copy', () => {
    expect(PAGE_RELAY_PRESETS).toBe(RELAY_PRESETS);
    expect(RELAY_PRESETS.map((preset) => preset.id)).toEqual([
      'exchange-online',
      'gmail-starttls',
      'gmail-tls',
      'amazon-ses',
    ]);
  });

  it('fills the documented relays; SES per region', () => {
    expect(relayPreset('exchange-online')).toEqual({
      host: 'smtp.office365.com',
      port: 587,
      encryption: 'starttls',
    });
    expect(relayPreset('gmail-starttls')).toEqual({
      host: 'smtp.gmail.com',
      port: 587,
      encryption: 'starttls',
    });
    expect(relayPreset('gmail-tls')).toEqual({ host: 'smtp.gmail.com', port: 465, encryption: 'tls' });
    expect(relayPreset('amazon-ses', 'eu-central-1')).toEqual({
      host: 'email-smtp.eu-central-1.amazonaws.com',
      port: 587,
      encryption: 'starttls',
    });
    expect(relayPreset('amazon-ses', 'evil.example.com/')).toBeUndefined();
    expect(relayPreset('custom')).toBeUndefined();
  });

  it("gives each preset's host the limits delivery applies (Exchange Online: 3 and 30)", () => {
    const exchange = relayPreset('exchange-online');
    expect(exchange && effectiveRelayLimits({ host: exchange.host })).toEqual({
      maxConnections: 3,
      messagesPerMinute: 30,
      source: 'preset:exchange-online',
    });
    const ses = relayPreset('amazon-ses', 'us-east-1');
    expect(ses && effectiveRelayLimits({ host: ses.host })).toEqual({ source: 'none' });
  });

  it('matches a relay back to its preset and region, and the OAuth presets propose the same relays', () => {
    expect(matchRelayPreset({ host: 'SMTP.gmail.com', port: 465, encryption: 'tls' })).toEqual({
      id: 'gmail-tls',
    });
    expect(
      matchRelayPreset({ host: 'email-smtp.eu-west-1.amazonaws.com', port: 587, encryption: 'starttls' }),
    ).toEqual({ id: 'amazon-ses', region: 'eu-west-1' });
    expect(
      matchRelayPreset({ host: 'smtp.office365.com', port: 25, encryption: 'starttls' }),
    ).toBeUndefined();
    expect(matchRelayPreset({ host: 'smtp.office365.com' }, false)).toEqual({ id: 'exchange-online' });
    expect(matchRelayPreset({ host: 'relay.example.com' }, false)).toBeUndefined();
    expect(oauthPreset('microsoft')?.relay).toEqual(relayPreset('exchange-online'));
    expect(oauthPreset('google')?.relay).toEqual(relayPreset('gmail-starttls'));
  });
});
