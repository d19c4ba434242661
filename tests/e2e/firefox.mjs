// Firefox ESR for the browser tests: Debian's /usr/bin/firefox-esr driven over WebDriver BiDi
// by puppeteer-core (Playwright can only drive its own patched Firefox builds, and a test tool
// must never download a browser). The tests are written against Playwright's API; this wraps
// a puppeteer page in the part of that API they use, so one test file runs in both browsers.
//
// What a test uses that this does not have throws `Unsupported`, which the runner prints as
// skipped in Firefox, with the reason, rather than passing it.

import puppeteer from 'puppeteer-core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';

/** A Playwright feature the Firefox wrapper does not offer (the test is skipped there). */
export class Unsupported extends Error {}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Elements matching `sel` under `root` (a page or a frame), or under each element `parent`
 *  matches; only the `index`th if given. */
class Locator {
  constructor(root, sel, index = null, parent = null) { Object.assign(this, { root, sel, index, parent }); }
  async all() {
    let els;
    if (this.parent) {
      const outer = await this.parent.all();
      els = (await Promise.all(outer.map((e) => e.$$(this.sel)))).flat();
    } else {
      els = await this.root.$$(this.sel);
    }
    return this.index === null ? els : els.slice(this.index, this.index + 1);
  }
  async one() {
    const [el] = await this.all();
    if (!el) throw new Error(`no element matches ${this.sel}`);
    return el;
  }
  first() { return new Locator(this.root, this.sel, 0, this.parent); }
  nth(k) { return new Locator(this.root, this.sel, k, this.parent); }
  locator(sub) { return new Locator(this.root, sub, null, this); }
  async count() { return (await this.all()).length; }
  async textContent() { return (await this.one()).evaluate((e) => e.textContent); }
  async allTextContents() { return Promise.all((await this.all()).map((e) => e.evaluate((x) => x.textContent))); }
  async getAttribute(name) { return (await this.one()).evaluate((e, n) => e.getAttribute(n), name); }
  async evaluateAll(fn, arg) {
    const els = await this.all();
    const list = await this.root.evaluateHandle((...xs) => xs, ...els);
    return list.evaluate(fn, arg);
  }
  async isVisible() {
    const [el] = await this.all();
    return Boolean(el && await el.isVisible());
  }
  async isHidden() { return !(await this.isVisible()); }
  async waitFor(options = {}) {
    const until = Date.now() + (options.timeout ?? 30000);
    while (!(await this.isVisible())) {
      if (Date.now() > until) throw new Error(`${this.sel} did not appear`);
      await sleep(50);
    }
  }
  async click() {
    await this.waitFor();
    await (await this.one()).click();
  }
}

/** Playwright's click waits until the element is visible and enabled; so does this. */
async function clickWhenReady(root, sel, timeout = 30000) {
  await root.waitForSelector(sel, { visible: true, timeout });
  await root.waitForFunction((s) => { const e = document.querySelector(s); return e && !e.disabled; }, { timeout, polling: 50 }, sel);
  await root.click(sel);
}

/** A puppeteer page with the Playwright methods the tests call. */
class Page {
  constructor(page) {
    this.page = page;
    this.keyboard = page.keyboard;
  }
  on(event, fn) {
    if (event === 'console') this.page.on('console', (m) => fn({ type: () => m.type(), text: () => m.text() }));
    else if (event === 'pageerror') this.page.on('pageerror', fn);
    else if (event === 'response') this.page.on('response', (r) => fn({ status: () => r.status(), url: () => r.url() }));
    else if (event === 'requestfailed') this.page.on('requestfailed', (r) => fn({ url: () => r.url() }));
    else throw new Unsupported(`page.on('${event}')`);
  }
  goto(url, options = {}) { return this.page.goto(url, { waitUntil: options.waitUntil === 'commit' ? 'domcontentloaded' : 'load', timeout: 60000 }); }
  setContent(html) { return this.page.setContent(html); }
  reload() { return this.page.reload({ waitUntil: 'load' }); }
  close() { return this.page.close(); }
  evaluate(fn, arg) { return this.page.evaluate(fn, arg); }
  addInitScript(fn) { return this.page.evaluateOnNewDocument(fn); }
  waitForTimeout(ms) { return sleep(ms); }
  waitForFunction(fn, arg, options = {}) {
    return this.page.waitForFunction(fn, { timeout: options.timeout ?? 30000, polling: options.polling ?? 50 }, arg);
  }
  waitForSelector(sel, options = {}) {
    return this.page.waitForSelector(sel, { visible: options.state !== 'attached', timeout: options.timeout ?? 30000 });
  }
  locator(sel) { return new Locator(this.page, sel); }
  frameLocator(sel) {
    const page = this.page;
    const frame = async () => {
      const el = await page.waitForSelector(sel);
      return el.contentFrame();
    };
    return { locator: (inner) => new FrameLocator(frame, inner) };
  }
  click(sel) { return clickWhenReady(this.page, sel); }
  focus(sel) { return this.page.focus(sel); }
  textContent(sel) { return this.locator(sel).textContent(); }
  isDisabled(sel) { return this.page.$eval(sel, (e) => e.disabled); }
  async selectOption(sel, value) {
    await this.page.waitForSelector(sel, { timeout: 30000 });
    await this.page.select(sel, value);
  }
  /** Like Playwright's fill: the field's whole value replaced, with the input events a typing
   *  user's browser sends. */
  async fill(sel, value) {
    await this.page.waitForSelector(sel, { visible: true, timeout: 30000 });
    await this.page.$eval(sel, (e, v) => {
      e.focus();
      const proto = e instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
      Object.getOwnPropertyDescriptor(proto, 'value').set.call(e, v);
      e.dispatchEvent(new Event('input', { bubbles: true }));
      e.dispatchEvent(new Event('change', { bubbles: true }));
    }, value);
  }
  async setInputFiles(sel, file) {
    const el = await this.page.waitForSelector(sel, { timeout: 30000 });
    let path = file;
    if (typeof file !== 'string') {
      const dir = mkdtempSync(join(tmpdir(), 'gil-lab-ff-upload-'));
      path = join(dir, file.name);
      writeFileSync(path, file.buffer);
    }
    await el.uploadFile(path);
  }
  async emulateMedia(media) {
    // WebDriver BiDi has no media emulation for this yet (puppeteer asks for CDP).
    if (media.reducedMotion) throw new Unsupported('prefers-reduced-motion emulation');
  }
  async check(sel) {
    await this.page.waitForSelector(sel, { visible: true, timeout: 30000 });
    if (!(await this.page.$eval(sel, (e) => e.checked))) await this.page.click(sel);
  }
  addScriptTag(options) { return this.page.addScriptTag(options); }
  isChecked(sel) { return this.page.$eval(sel, (e) => e.checked); }
  screenshot(options) { return this.page.screenshot(options); }
  waitForEvent(name) { throw new Unsupported(`page.waitForEvent('${name}')`); }
}

/** A locator inside an iframe (the embed tests). */
class FrameLocator {
  constructor(frame, sel) { Object.assign(this, { frame, sel }); }
  async resolved() { return new Locator(await this.frame(), this.sel); }
  async click() { await clickWhenReady(await this.frame(), this.sel); }
  async waitFor(options) { return (await this.resolved()).waitFor(options); }
  async count() { return (await this.resolved()).count(); }
  async getAttribute(n) { return (await this.resolved()).getAttribute(n); }
  async evaluateAll(fn, arg) { return (await this.resolved()).evaluateAll(fn, arg); }
}

/** A fresh Firefox with a fresh profile; `device` as for Chromium (a viewport). */
export async function launchFirefox(device = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gil-lab-ff-'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: dir,
    // Nothing a fresh profile would fetch from the network on its own.
    extraPrefsFirefox: {
      'app.update.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
    },
  });
  const viewport = device.viewport || { width: 1280, height: 900 };
  const ctx = {
    async newPage() {
      const p = await browser.newPage();
      await p.setViewport(viewport);
      return new Page(p);
    },
    async close() { await browser.close(); },
  };
  const close = async () => { await browser.close(); rmSync(dir, { recursive: true, force: true }); };
  return { ctx, close };
}
