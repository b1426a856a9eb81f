// The cluster id names a configuration, an SSM parameter and an EventBridge detail field, so
// one rule serves the API, the events and the admin page. No imports: the page bundles it.
export const CLUSTER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const CLUSTER_ID_MESSAGE =
  'must be 1-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit';

export const DEFAULT_CLUSTER_ID = 'default';

export const isClusterId = (value: string): boolean => CLUSTER_ID_PATTERN.test(value);
