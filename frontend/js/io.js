// The lesson's I/O task in the browser: a real `fetch` of a file served with the page, then the
// rest of a modelled network wait (server latency + size / bandwidth, as the native image
// server shapes its replies), then a real write to the Origin Private File System where the
// browser has one. Runs in a worker, while the lane has released its GIL.

/** Milliseconds on the lab's one clock (comparable across workers). */
export const absNow = () => performance.timeOrigin + performance.now();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let opfsDir = null;

async function opfs() {
  if (opfsDir) return opfsDir;
  if (!navigator.storage || !navigator.storage.getDirectory) return null;
  const root = await navigator.storage.getDirectory();
  opfsDir = await root.getDirectoryHandle('gil-lab', { create: true });
  return opfsDir;
}

/** Writes `body` as `name`, never leaving a partial file: a writable stream commits atomically
 *  on close; with only sync handles we write `name.part` and rename it. */
async function writeFile(name, body) {
  let dir;
  try {
    dir = await opfs();
  } catch (e) {
    dir = null;
  }
  if (!dir) return { file: `(not stored: this browser has no Origin Private File System)`, stored: false };
  const fh = await dir.getFileHandle(name, { create: true });
  if (fh.createWritable) {
    const w = await fh.createWritable();
    try {
      await w.write(body);
      await w.close();
    } catch (e) {
      await w.abort().catch(() => {});
      await dir.removeEntry(name).catch(() => {});
      throw e;
    }
  } else {
    const part = await dir.getFileHandle(name + '.part', { create: true });
    const h = await part.createSyncAccessHandle();
    try {
      h.truncate(0);
      h.write(new Uint8Array(body), { at: 0 });
      h.flush();
    } finally {
      h.close();
    }
    await part.move(name);
  }
  return { file: `opfs:gil-lab/${name}`, stored: true };
}

/**
 * Performs one download, then waits out the rest of `networkMs(bytes)`: the modelled network's
 * time for that body, which the engine computes (the core's one rule). Resolves to
 * `{ file, bytes }`; rejects with an Error whose message is one line for the report.
 */
export async function download(url, fileName, networkMs) {
  const t0 = absNow();
  let body;
  try {
    const resp = await fetch(url, { cache: 'no-store' });
    if (!resp.ok) throw new Error(`HTTP ${resp.status} for ${url}`);
    body = await resp.arrayBuffer();
  } catch (e) {
    throw new Error(`fetch ${url} failed: ${e.message || e}`);
  }
  const left = networkMs(body.byteLength) - (absNow() - t0);
  if (left > 0) await sleep(left);
  const { file } = await writeFile(fileName, body);
  return { file, bytes: body.byteLength };
}
