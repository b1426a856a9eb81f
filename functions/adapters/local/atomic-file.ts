import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Files that hold secrets or delivery data: readable by the service's user only. */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIRECTORY_MODE = 0o700;

// Temp files start with a dot and end in `.tmp`, so a crash mid-write leaves nothing that looks
// like a document.
const TEMP_SUFFIX = '.tmp';

/** True for a Node system error with one of these codes (checked by shape: errors may come from another realm). */
export function hasErrorCode(error: unknown, ...codes: string[]): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    codes.includes(error.code)
  );
}

/** Creates the directory (and its parents) if needed, and restricts it to the owner. */
export async function ensurePrivateDirectory(directory: string): Promise<void> {
  await mkdir(directory, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  try {
    // mkdir leaves an existing directory as it was; the data in it is secret either way.
    await chmod(directory, PRIVATE_DIRECTORY_MODE);
  } catch (error) {
    // Someone else's directory (e.g. a mounted volume): using it is still better than failing.
    if (!hasErrorCode(error, 'EPERM')) throw error;
  }
}

/**
 * Replaces `path` with `data` so that readers (in this process or another) see either the old
 * document or the new one, never a partial write: the data goes to a temp file in the same
 * directory (rename is atomic only within one file system), is flushed to disk, then renamed
 * over the target. Concurrent writers are safe; the last rename wins.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode: number = PRIVATE_FILE_MODE,
): Promise<void> {
  const directory = dirname(path);
  const temp = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
  // `wx`: never follow or reuse a file someone planted under the temp name.
  const handle = await open(temp, 'wx', mode);
  try {
    try {
      // The umask may have taken bits away from `mode`; set it exactly.
      await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(directory);
}

// Without this, a power loss right after the rename can bring back the old directory entry.
async function syncDirectory(directory: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch (error) {
    // Some platforms and file systems cannot open or fsync a directory; the rename is done.
    if (!hasErrorCode(error, 'EISDIR', 'EPERM', 'EINVAL', 'ENOTSUP', 'EBADF')) throw error;
  } finally {
    await handle?.close();
  }
}
