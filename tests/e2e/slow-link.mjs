// First paint and first Run on a slow link (a benchmark, not a test: it prints figures).
//
//   BASE=http://127.0.0.1:PORT node slow-link.mjs      (tests/e2e/run.sh --slow-link does it)
//
// Chromium's own network emulation (DevTools protocol), 1.6 Mbps down, 0.75 Mbps up, 150 ms
// round trip, on the lab (`/`) and the lesson (`/lesson/`), each with an empty cache and then
// again with the cache warm (a second visit). For each it prints, from navigation:
//   - ready: the first Run button is enabled (the UI module is loaded and started);
//   - done:  that first Run, clicked at once, has finished and its picture is drawn;
//   - bytes: what went over the wire (encoded sizes, as the server sent them).
// The page's own run time is part of `done`; it is printed beside it.

import { launch } from './lib.mjs';

const BASE = (process.env.BASE || 'http://127.0.0.1:8080').replace(/\/$/, '');
const LINK = { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 0.75e6 / 8 };

/** Where each page's first Run is, and how to tell it has finished. */
const PAGES = {
  lab: {
    path: '/',
    button: '#run',
    done: () => ['done', 'error', 'invalid'].includes(window.__gilLabState),
  },
  lesson: {
    path: '/lesson/',
    button: '.lesson-section button.run',
    done: () => {
      const s = document.querySelector('.lesson-section');
      return ['done', 'failed', 'stopped'].includes(s?.dataset.state);
    },
  },
};

async function visit(ctx, which) {
  const spec = PAGES[which];
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', LINK);
  let bytes = 0;
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; });
  const t0 = Date.now();
  await page.goto(`${BASE}${spec.path}`, { waitUntil: 'commit' });
  await page.waitForSelector(`${spec.button}:enabled`, { timeout: 60000 });
  const ready = Date.now() - t0;
  await page.click(spec.button);
  await page.waitForFunction(spec.done, null, { timeout: 120000, polling: 50 });
  const done = Date.now() - t0;
  const wall = await page.evaluate(() => {
    try { return JSON.parse(window.__gilLabLastReport).wall_us / 1000; } catch { return null; }
  });
  await page.close();
  return { ready, done, wall, bytes };
}

const { ctx, close } = await launch();
try {
  console.log(`slow link: ${LINK.downloadThroughput * 8 / 1e6} Mbps down, ${LINK.latency} ms RTT (Chromium's emulation)`);
  for (const which of Object.keys(PAGES)) {
    // Each page starts from an empty cache; its second visit finds the first one's files.
    const cdp = await ctx.newCDPSession(await ctx.newPage());
    await cdp.send('Network.clearBrowserCache');
    for (const visitKind of ['empty cache', 'warm cache']) {
      const r = await visit(ctx, which);
      const wall = r.wall == null ? '' : ` (the run itself: ${r.wall.toFixed(0)} ms)`;
      console.log(`  ${which}, ${visitKind}: Run enabled after ${r.ready} ms; first run drawn after ${r.done} ms${wall}; ${(r.bytes / 1024).toFixed(1)} KB over the wire`);
    }
  }
} finally {
  await close();
}
