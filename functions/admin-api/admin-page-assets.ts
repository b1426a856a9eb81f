// The built admin page for the admin API function. In its Lambda bundle, lib/bundling.ts has
// esbuild replace __ADMIN_PAGE_ASSETS__ with the page buildAdminPage built (as a JSON string), so
// the branch that would build it is dead: esbuild drops it and never bundles esbuild, and the
// function carries the page without reading a file. Run unbundled (tsx, tests that import
// handler.ts), the module builds the page itself, with the same function.
import type { AdminPageAssets } from './admin-page-routes.js';

declare const __ADMIN_PAGE_ASSETS__: string;

let assets: AdminPageAssets;
if (typeof __ADMIN_PAGE_ASSETS__ === 'string') assets = JSON.parse(__ADMIN_PAGE_ASSETS__);
else assets = (await import('../../web/admin-page/build.js')).buildAdminPage();

export const adminPageAssets: AdminPageAssets = assets;
