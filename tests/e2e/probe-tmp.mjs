import { launch } from './lib.mjs';
const { ctx, close } = await launch();
const page = await ctx.newPage();
await page.addInitScript(() => { window.__lt = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__lt.push([Math.round(e.startTime), Math.round(e.duration)]); }).observe({ type: 'longtask', buffered: true }); });
await page.goto('http://127.0.0.1:23456/');
await page.waitForSelector('#run');
await page.waitForTimeout(1500);
console.log('startup', await page.evaluate(() => JSON.stringify(window.__lt)));
for (const f of process.argv.slice(2)) {
  await page.evaluate(() => { window.__lt = []; window.__gilLabRedraws = []; window.__t0 = performance.now(); window.__gilLabState = 'x'; });
  await page.setInputFiles('#open-report', f);
  await page.waitForFunction(() => window.__gilLabState === 'opened' || document.querySelector('.controls .error'));
  const t1 = await page.evaluate(() => Math.round(performance.now()));
  await page.waitForTimeout(1000);
  console.log(f.slice(-20), t1, await page.evaluate(() => JSON.stringify({ t0: Math.round(window.__t0), lt: window.__lt, redraws: window.__gilLabRedraws })));
}
await close();
