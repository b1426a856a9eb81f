// The admin page as a test drives it: signing in, and opening a cluster the way an admin does
// (the overview's "Cluster" field and Open). The API calls: test/support/runtime-api.ts.
import type { Page } from 'playwright-core';

/** The page after sign-in: the overview with its clusters counted, or the cluster a link named. */
export async function signedInView(page: Page): Promise<void> {
  await page
    .locator('#overview-status, #load-status')
    .filter({
      hasText: /\d+ (clusters?|Cluster)\.|Loaded|no configuration yet|geladen|noch keine Konfiguration/,
    })
    .first()
    .waitFor();
}

/** Signs in with the admin token on the page at `origin` (English labels). */
export async function signIn(page: Page, origin: string, token: string, path = '/admin/'): Promise<void> {
  await page.goto(`${origin}${path}`);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#workspace').waitFor({ state: 'visible' });
  await signedInView(page);
}

/** Opens a cluster as an admin does: back to the overview, its id into "Cluster", then Open. */
export async function openCluster(page: Page, id: string): Promise<void> {
  if (await page.locator('#cluster-view').isVisible()) {
    await page.getByRole('link', { name: 'All clusters' }).click();
  }
  await page.locator('#overview').waitFor({ state: 'visible' });
  await page.getByLabel('Cluster', { exact: true }).fill(id);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await page
    .locator('#load-status')
    .filter({
      hasText: new RegExp(
        `^(Loaded the configuration of cluster ${id}\\b|Cluster ${id} has no configuration yet)`,
      ),
    })
    .waitFor();
  await page.locator('#cluster-name').filter({ hasText: id }).waitFor();
}
