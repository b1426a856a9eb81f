// The custom metrics' names: the functions emit them, lib/'s alarms read them. No imports.

export const METRIC_NAMES = {
  /** One per notify outcome: `NotificationSent`, `NotificationFolded`, ... */
  notification: (outcome: string) => `Notification${outcome.charAt(0).toUpperCase()}${outcome.slice(1)}`,
  /** An event left on the queue for a later attempt (a temporary failure, or an unexpected error). */
  notificationRetried: 'NotificationRetried',
  /**
   * An event waited on the queue for a relay's sending limit (the relay gate's pace, or the relay
   * answering that it is throttling us): no failure, and it costs no attempt.
   */
  relayThrottled: 'RelayThrottled',
  /**
   * Per daily notice run: clusters with the notice on that the run tried to serve (sent or
   * failed; not those already served today, not those with the notice off).
   */
  dailyNoticeDue: 'DailyNoticeDue',
  dailyNoticeSent: 'DailyNoticeSent',
  dailyNoticeFailed: 'DailyNoticeFailed',
  /**
   * Per daily notice run: of the failed, those that failed temporarily; the invocation fails so
   * that Lambda's retry sends them again.
   */
  dailyNoticeRetrying: 'DailyNoticeRetrying',
} as const;
