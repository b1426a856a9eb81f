// The admin page inside the admin API's Lambda bundle: lib/bundling.ts builds web/admin-page
// (buildAdminPage) and has esbuild replace the constant below with the result, so the function
// carries the page as strings and never runs esbuild or reads a file.
import type { AdminPageAssets } from './admin-page-routes.js';

declare const __ADMIN_PAGE_ASSETS__: AdminPageAssets | undefined;

/** The page built into this bundle; the embedded runtime and the tests call buildAdminPage instead. */
export function bundledAdminPage(): AdminPageAssets {
  if (typeof __ADMIN_PAGE_ASSETS__ === 'undefined') {
    throw new Error('This bundle carries no admin page: build it with buildFunctionBundle (lib/bundling.ts)');
  }
  return __ADMIN_PAGE_ASSETS__;
}
