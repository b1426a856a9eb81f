// The custom metrics' names: the functions emit them, lib/'s alarms read them. No imports.

export const METRIC_NAMES = {
  /** One per notify outcome: `NotificationSent`, `NotificationFolded`, ... */
  notification: (outcome: string) => `Notification${outcome.charAt(0).toUpperCase()}${outcome.slice(1)}`,
  /** An event left on the queue for a later attempt (a temporary failure, or an unexpected error). */
  notificationRetried: 'NotificationRetried',
  dailyNoticeSent: 'DailyNoticeSent',
  dailyNoticeFailed: 'DailyNoticeFailed',
} as const;
