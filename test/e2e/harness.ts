// Real VS Code for end-to-end tests: code-server (installed on first use by scripts/code-server.mjs)
// serving the packaged .vsix from a fresh profile, driven through Debian's Chromium with
// playwright-core. Everything listens on 127.0.0.1 and everything started here is stopped by
// close(), also when launch() fails half way.
//
// The helpers drive the UI the way a user does (palette, quick picks, keyboard) and read the DOM;
// the selectors are VS Code 1.100's (code-server 4.100.3), tried in /work/shared/notes/code-server.md.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { ensureCodeServer, packageVsix, prepareProfile, repoRoot, SetupError, startServer, testSettings, type RunningServer } from '../../scripts/code-server.mjs';

export const chromiumPath = process.env.NETPATH_CHROMIUM ?? '/usr/bin/chromium';
export const artifactsDir = join(repoRoot, 'test-artifacts');

const exitSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

export interface ConsoleEntry {
  type: string;
  text: string;
  /** The document that logged it (a webview's inner frame, the workbench, ...). */
  url: string;
}

/** Seconds spent in each phase of launch(), for the test log. */
export interface LaunchTimings {
  install: number;
  package: number;
  profile: number;
  serverListen: number;
  browser: number;
  workbench: number;
  total: number;
}

export interface LaunchOptions {
  /** Prefix for screenshots. */
  name?: string;
  /** Extra files to put in the workspace folder (path relative to it -> content). */
  files?: Record<string, string>;
  /** Page size; the default fits the workbench, a sidebar and an editor. */
  viewport?: { width: number; height: number };
  /** User settings written before the server starts, over the harness's own (e.g. `netpath.kubeconfig`). */
  settings?: Record<string, unknown>;
}

/** The text a frame's document shows ('' for a frame that is gone). A string, as this tsconfig has no DOM types. */
const frameText = (frame: Frame): Promise<string> =>
  frame.evaluate('document.body ? document.body.innerText : ""').then(
    (t) => String(t),
    () => '',
  );
export const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const seconds = (since: number) => (Date.now() - since) / 1000;

/**
 * Wraps a test body so it runs as a named step of the suite's VS Code (the harness screenshots a
 * failing step); `get` returns the instance the suite's before hook launched.
 */
export function stepper(get: () => VsCode | undefined): (name: string, fn: (vs: VsCode) => Promise<void>) => () => Promise<void> {
  return (name, fn) => () => {
    const v = get();
    if (!v) throw new Error('VS Code did not start (see the before hook)');
    return v.step(name, () => fn(v));
  };
}

export class VsCode {
  /** Everything the page logged at level error or warning, from every frame. */
  readonly console: ConsoleEntry[] = [];
  timings: LaunchTimings = { install: 0, package: 0, profile: 0, serverListen: 0, browser: 0, workbench: 0, total: 0 };

  private browser: Browser | undefined;
  private server: RunningServer | undefined;
  private cleanupVsix: (() => void) | undefined;
  private closed = false;
  private readonly killOnExit = () => {
    // Last resort when the test process dies without running close(): the server has its own
    // process group (extension host included); Playwright ends the browser itself.
    if (this.server) {
      try {
        process.kill(-this.server.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    this.cleanupVsix?.();
    if (process.env.NETPATH_E2E_KEEP !== '1') rmSync(this.tmp, { recursive: true, force: true, maxRetries: 3 });
  };

  private readonly exitOnSignal = (sig: NodeJS.Signals) => {
    this.killOnExit();
    process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as Record<string, number>)[sig]!);
  };

  private _page: Page | undefined;
  get page(): Page {
    if (!this._page) throw new Error('VS Code is not running');
    return this._page;
  }

  /** The server's URL, http://127.0.0.1:PORT/. */
  url = '';

  private constructor(
    readonly name: string,
    /** Temporary directory holding the profile, the extensions and the workspace. */
    readonly tmp: string,
    /** The workspace folder VS Code has open; it contains demo-flannel-vxlan.json. */
    readonly workspace: string,
  ) {}

  /** Installs code-server if needed, packages the extension, starts both and waits for the workbench. */
  static async launch(options: LaunchOptions = {}): Promise<VsCode> {
    const started = Date.now();
    if (!existsSync(chromiumPath)) {
      throw new SetupError(`Chromium is not at ${chromiumPath}: run \`node scripts/system-deps.mjs\` as root (or apt-get install chromium), or set NETPATH_CHROMIUM`);
    }
    const tmp = mkdtempSync(join(tmpdir(), 'netpath-e2e-'));
    const vs = new VsCode(options.name ?? 'e2e', tmp, join(tmp, 'workspace'));
    process.once('exit', vs.killOnExit);
    // A signal ends the process without 'exit' listeners: turn it into an exit so they run (the
    // server is in its own process group and would outlive us; Playwright ends Chromium on exit).
    for (const sig of exitSignals) process.once(sig, vs.exitOnSignal);
    try {
      await vs.start(options);
    } catch (e) {
      await vs.close();
      throw e;
    }
    vs.timings.total = seconds(started);
    const t = vs.timings;
    console.log(
      `# ${vs.name}: VS Code ready at ${vs.url} in ${t.total.toFixed(1)} s (code-server install ${t.install.toFixed(1)}, package .vsix ${t.package.toFixed(1)}, ` +
        `profile ${t.profile.toFixed(1)}, server listening ${t.serverListen.toFixed(1)}, browser ${t.browser.toFixed(1)}, workbench ${t.workbench.toFixed(1)})`,
    );
    return vs;
  }

  private async start(options: LaunchOptions): Promise<void> {
    let t = Date.now();
    ensureCodeServer({ quiet: true });
    this.timings.install = seconds(t);

    t = Date.now();
    // NETPATH_E2E_VSIX: a .vsix built beforehand (CI can package once for every e2e file).
    let vsix = process.env.NETPATH_E2E_VSIX;
    if (vsix) {
      if (!existsSync(vsix)) throw new SetupError(`NETPATH_E2E_VSIX=${vsix} does not exist`);
    } else {
      const packaged = packageVsix({ isolated: true });
      this.cleanupVsix = packaged.cleanup;
      vsix = packaged.vsix;
    }
    this.timings.package = seconds(t);

    t = Date.now();
    const userDataDir = join(this.tmp, 'user-data');
    const extensionsDir = join(this.tmp, 'extensions');
    prepareProfile({ vsix, userDataDir, extensionsDir, folder: this.workspace, settings: { ...testSettings, ...options.settings } });
    for (const [rel, content] of Object.entries(options.files ?? {})) {
      const file = join(this.workspace, rel);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, content);
    }
    this.timings.profile = seconds(t);

    this.server = await startServer({ port: 0, userDataDir, extensionsDir, folder: this.workspace });
    this.timings.serverListen = this.server.seconds;
    this.url = this.server.url;

    t = Date.now();
    try {
      // Chromium writes crash reports under $XDG_CONFIG_HOME whatever the profile: keep them in tmp.
      const env = { ...process.env, XDG_CONFIG_HOME: join(this.tmp, 'chromium-config'), XDG_CACHE_HOME: join(this.tmp, 'chromium-cache') };
      this.browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs, env, timeout: 60_000 });
    } catch (e) {
      throw new SetupError(`cannot launch ${chromiumPath} with playwright-core: ${e instanceof Error ? e.message : String(e)}`);
    }
    const context = await this.browser.newContext({ viewport: options.viewport ?? { width: 1400, height: 900 } });
    this._page = await context.newPage();
    this.timings.browser = seconds(t);
    this.page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') this.console.push({ type: m.type(), text: m.text(), url: m.location().url });
    });
    this.page.on('pageerror', (e) => this.console.push({ type: 'pageerror', text: e.message, url: '' }));

    t = Date.now();
    await this.page.goto(this.url);
    await this.waitForWorkbench();
    this.timings.workbench = seconds(t);
  }

  /**
   * Ready means the workbench is drawn and the workspace folder was listed through the server, i.e.
   * the connection to the server (which hosts the extension host) works.
   */
  private async waitForWorkbench(): Promise<void> {
    try {
      await this.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await this.page.locator('.part.sidebar .monaco-list-row', { hasText: 'demo-flannel-vxlan.json' }).first().waitFor({ timeout: 60_000 });
    } catch (e) {
      await this.screenshot('workbench-not-ready').catch(() => undefined);
      throw new SetupError(
        `the VS Code workbench did not become ready at ${this.url}: ${e instanceof Error ? e.message : String(e)}\n` +
          `browser console:\n${this.console.map((c) => `  ${c.type}: ${c.text}`).join('\n')}\nserver output:\n${this.server?.output() ?? ''}`,
      );
    }
  }

  /**
   * Reloads the page as a user of VS Code in a browser does (F5) and waits until the workbench is
   * back. Unlike Developer: Reload Window, which waits for VS Code to save its state, this gives VS
   * Code only the page's unload, when it saves "optimistically, without waiting" (its browser
   * lifecycle service): state VS Code saves only now and then may be older than what was on screen.
   */
  async reload(): Promise<void> {
    await this.page.reload();
    await this.waitForWorkbench();
  }

  /**
   * One item of the workspace's storage as the browser holds it on disk (VS Code's IndexedDB database
   * for the workspace): an extension's workspaceState is stored under the extension's id, the editor
   * layout under `memento/workbench.parts.editor`. undefined while nothing is stored. A reload of the
   * page starts from this.
   */
  async storedWorkspaceItem(key: string): Promise<string | undefined> {
    const read = `(async (key) => {
      const open = (name) => new Promise((ok, fail) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
      const names = (await indexedDB.databases()).map((d) => d.name).filter((n) => n && n.startsWith('vscode-web-state-db-') && !n.startsWith('vscode-web-state-db-global'));
      for (const name of names) {
        const db = await open(name);
        try {
          if (!db.objectStoreNames.contains('ItemTable')) continue;
          const value = await new Promise((ok, fail) => { const q = db.transaction('ItemTable', 'readonly').objectStore('ItemTable').get(key); q.onsuccess = () => ok(q.result); q.onerror = () => fail(q.error); });
          if (typeof value === 'string') return value;
        } finally { db.close(); }
      }
      return null;
    })(${JSON.stringify(key)})`;
    const text = (await this.page.evaluate(read)) as string | null;
    return text ?? undefined;
  }

  /** An extension's workspaceState as stored on disk, parsed (see storedWorkspaceItem). */
  async storedWorkspaceState(extensionId: string): Promise<Record<string, unknown> | undefined> {
    const text = await this.storedWorkspaceItem(extensionId);
    return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
  }

  /** Waits until the extension's stored workspaceState satisfies `done` (it reaches disk a moment after the extension writes it). */
  async waitForStoredWorkspaceState(extensionId: string, done: (state: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.storedWorkspaceState(extensionId);
      if (state && done(state)) return state;
      if (Date.now() > deadline) throw new Error(`${extensionId}'s workspaceState on disk never became what was expected; it is ${JSON.stringify(state)?.slice(0, 500)}`);
      await this.page.waitForTimeout(100);
    }
  }

  /** The text of the status bar entry that starts with `prefix` ('' when there is none). */
  async statusBarText(prefix: string): Promise<string> {
    const items = await this.page.locator('.part.statusbar .statusbar-item').allInnerTexts();
    return items.map((t) => t.trim()).find((t) => t.startsWith(prefix)) ?? '';
  }

  /** Runs a command from the palette by its full title, e.g. "netpath: Load Demo Capture". */
  async runCommand(title: string, timeoutMs = 30_000): Promise<void> {
    // The palette lists what is registered when it opens, and an extension's commands appear only
    // once the extension host has scanned it: a busy machine shows the workbench first. So reopen
    // the palette until the command is there.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.page.keyboard.press('Control+Shift+P');
      await this.typeInQuickInput(`>${title}`);
      try {
        await this.pickQuickItem(title, 2000);
        return;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await this.page.keyboard.press('Escape');
        await this.page.waitForTimeout(500);
      }
    }
  }

  /** The quick input's text box (palette, quick pick, quick open, simple file dialog). */
  quickInput() {
    return this.page.locator('.quick-input-widget .quick-input-box input');
  }

  /** Replaces the quick input's text. */
  async typeInQuickInput(text: string): Promise<void> {
    const input = this.quickInput();
    await input.waitFor({ state: 'visible' });
    await input.fill(text);
  }

  /** The labels of the rows the quick input shows now. */
  async quickItems(): Promise<string[]> {
    return this.page.locator('.quick-input-widget .monaco-list-row .label-name').allInnerTexts();
  }

  /**
   * Picks the quick-input row whose label is exactly `label` (clicking it, as a user would), and
   * makes sure the pick was taken: a click that lands while the quick input is still drawing its rows
   * (it reuses one widget for successive prompts) can be lost — seen on a busy machine, where the
   * packet pick stayed open with "Packet size..." under the pointer. A user clicks again; so does
   * this, until the widget hides, changes its title or drops the row.
   */
  async pickQuickItem(label: string | RegExp, timeoutMs = 15_000): Promise<void> {
    const exact = typeof label === 'string' ? new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) : label;
    const row = this.page.locator('.quick-input-widget .monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: exact }) }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: timeoutMs });
    } catch {
      throw new Error(`no quick-input row labelled ${String(label)}; the rows are: ${JSON.stringify(await this.quickItems())}`);
    }
    const title = await this.quickTitle();
    const deadline = Date.now() + 30_000;
    for (let clicks = 1; ; clicks++) {
      // The row may be drawn again under the pointer; the next round clicks the new one. Never click
      // into the next prompt, which may hold a row with the same label.
      if (clicks > 1 && (await this.quickTitle()) !== title) return;
      await row.click({ timeout: 5000 }).catch(() => undefined);
      if (await this.quickInputMovedOn(row, title, 3000)) return;
      if (Date.now() > deadline) throw new Error(`the quick input did not take ${String(label)} after ${clicks} clicks; it shows ${JSON.stringify(title)} with ${JSON.stringify(await this.quickItems())}`);
    }
  }

  /** The quick input's title ('' when it has none or is hidden). */
  async quickTitle(): Promise<string> {
    const widget = this.page.locator('.quick-input-widget');
    if (!(await widget.isVisible().catch(() => false))) return '';
    return (await widget.locator('.quick-input-title').innerText({ timeout: 1000 }).catch(() => '')).trim();
  }

  /**
   * Whether, within `ms`, the quick input hid, changed its title, or no longer shows `row` — seen on
   * two polls in a row, so that a row drawn again (gone for a frame) is not taken for a pick.
   */
  private async quickInputMovedOn(row: ReturnType<Page['locator']>, title: string, ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    let seen = 0;
    for (;;) {
      const visible = await this.page.locator('.quick-input-widget').isVisible().catch(() => false);
      const moved = !visible || (await this.quickTitle()) !== title || !(await row.isVisible().catch(() => false));
      seen = moved ? seen + 1 : 0;
      if (seen >= 2) return true;
      if (Date.now() > until) return false;
      await this.page.waitForTimeout(100);
    }
  }

  /** Accepts whatever the quick input holds (Enter), e.g. a path typed into the simple file dialog. */
  async acceptQuickInput(): Promise<void> {
    await this.quickInput().press('Enter');
  }

  /**
   * Answers VS Code's simple file dialog (what showOpenDialog is in a browser: a quick input holding a
   * path) with an absolute file path. The dialog fills in its start folder and lists each folder
   * asynchronously, and Enter while it is still listing is not taken as a choice of file; so wait for
   * the start folder, type the path, wait until the file itself is listed, then accept.
   */
  async chooseFileInDialog(path: string): Promise<void> {
    const input = this.quickInput();
    await input.waitFor({ state: 'visible' });
    const ready = Date.now() + 15_000;
    while (!(await input.inputValue()).startsWith('/')) {
      if (Date.now() > ready) throw new Error(`the file dialog did not fill in its start folder: ${JSON.stringify(await input.inputValue())}`);
      await this.page.waitForTimeout(100);
    }
    await input.fill(path);
    const base = path.split('/').pop()!;
    const row = this.page.locator('.quick-input-widget .monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(base)}\\s*$`) }) });
    // The dialog may still be writing its start folder when the path is typed, and then prefixes it
    // ("/tmp/x/workspace//tmp/x/workspace/captures/..."): type the path again until it stays.
    const listed = Date.now() + 15_000;
    for (;;) {
      if ((await input.inputValue()) !== path) await input.fill(path);
      try {
        await row.first().waitFor({ state: 'visible', timeout: 1000 });
        break;
      } catch {
        if (Date.now() > listed) throw new Error(`the file dialog does not list ${base} after typing ${path}; it shows ${JSON.stringify(await this.quickItems())} with ${JSON.stringify(await input.inputValue())}`);
      }
    }
    // On a busy machine an Enter can land while the dialog is still updating from the typing and be
    // dropped: press again (with the path typed again if the dialog changed it) until it closes.
    const widget = this.page.locator('.quick-input-widget');
    const deadline = Date.now() + 20_000;
    for (;;) {
      if ((await input.inputValue()) !== path) await input.fill(path);
      await input.press('Enter');
      try {
        await widget.waitFor({ state: 'hidden', timeout: 3000 });
        return;
      } catch {
        if (Date.now() > deadline) {
          const message = await this.page.locator('.quick-input-widget .quick-input-message').innerText().catch(() => '');
          throw new Error(`the file dialog did not accept ${path}: it shows ${JSON.stringify(await input.inputValue())}, ${JSON.stringify(message)}`);
        }
      }
    }
  }

  /**
   * The webview document whose text contains `text`. Webviews are nested iframes (the host frame,
   * then the content frame), so every frame of the page is searched until one matches.
   */
  async webviewFrame(text: string, timeoutMs = 30_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const frame of this.page.frames()) {
        if (frame === this.page.mainFrame()) continue;
        const body = await frameText(frame);
        if (body.includes(text)) return frame;
      }
      if (Date.now() > deadline) {
        const seen = await Promise.all(this.page.frames().map(async (f) => `${f.url()}: ${(await frameText(f)).slice(0, 200)}`));
        throw new Error(`no webview shows ${JSON.stringify(text)} after ${timeoutMs / 1000} s; frames:\n${seen.join('\n')}`);
      }
      await this.page.waitForTimeout(250);
    }
  }

  /** Opens a workspace file in an editor through Quick Open (Ctrl+P). */
  async openFile(relPath: string): Promise<void> {
    await this.page.keyboard.press('Control+P');
    await this.typeInQuickInput(relPath);
    const base = relPath.split('/').pop()!;
    await this.pickQuickItem(base);
    await this.page.locator('.tabs-container .tab.active', { hasText: base }).waitFor();
  }

  /**
   * The hover text at line:column (1-based) of a workspace file: moves the cursor there with Go to
   * Line (Ctrl+G) and shows the hover with Ctrl+K Ctrl+I, as a keyboard user would.
   */
  async hoverAt(relPath: string, line: number, column: number, timeoutMs = 30_000): Promise<string> {
    await this.openFile(relPath);
    const deadline = Date.now() + timeoutMs;
    // A language server may still be starting: ask again until a hover with content shows.
    for (;;) {
      await this.page.keyboard.press('Control+G');
      await this.typeInQuickInput(`:${line}:${column}`);
      await this.acceptQuickInput();
      await this.page.keyboard.press('Control+K');
      await this.page.keyboard.press('Control+I');
      // Scoped to editors: workbench tooltips (e.g. the command center's) are .monaco-hover too.
      const hover = this.page.locator('.monaco-editor .monaco-hover:not(.hidden) .monaco-hover-content').first();
      try {
        await hover.waitFor({ state: 'visible', timeout: 3000 });
        const text = (await hover.innerText()).trim();
        if (text && !/^Loading/.test(text)) return text;
      } catch {
        /* no hover yet */
      }
      if (Date.now() > deadline) throw new Error(`no hover at ${relPath}:${line}:${column} after ${timeoutMs / 1000} s`);
      await this.page.keyboard.press('Escape');
      await this.page.waitForTimeout(500);
    }
  }

  /** Opens a view container from the activity bar by its title ("Explorer", "netpath", ...). */
  async openViewContainer(title: string): Promise<void> {
    const item = this.page.locator(`.part.activitybar .action-item:has(.action-label[aria-label^=${JSON.stringify(title)}])`).first();
    await item.waitFor({ state: 'visible' });
    // Clicking the active container's icon would collapse the sidebar.
    const active = /\bchecked\b/.test((await item.getAttribute('class')) ?? '');
    if (!active) await item.click();
    await this.page.locator('.part.sidebar').waitFor({ state: 'visible' });
  }

  /** The labels of the visible rows of the tree views in the sidebar. */
  async treeRows(): Promise<string[]> {
    return (await this.treeItems()).map((i) => i.label);
  }

  /**
   * The visible rows of the sidebar's tree views, top to bottom (the list reuses its row elements, so
   * their order in the page is not the order on screen): label, description, depth (aria-level) and
   * whether expanded (undefined: a leaf, no arrow).
   */
  async treeItems(): Promise<{ label: string; description: string; level: number; expanded: boolean | undefined }[]> {
    return this.page.locator('.part.sidebar .pane-body .monaco-list-row').evaluateAll((els) =>
      els
        .map((r) => ({
          label: (r.querySelector('.label-name')?.textContent ?? '').trim(),
          description: (r.querySelector('.label-description')?.textContent ?? '').trim(),
          level: Number(r.getAttribute('aria-level') ?? '0'),
          expanded: r.getAttribute('aria-expanded') === null ? undefined : r.getAttribute('aria-expanded') === 'true',
          top: Number.parseFloat((r as unknown as { style: { top: string } }).style.top || '0'),
        }))
        .sort((a, b) => a.top - b.top)
        .map(({ top: _top, ...row }) => row),
    );
  }

  /**
   * Expands the sidebar tree row labelled `label` (no-op when it is already expanded). Children a
   * provider computes lazily may appear a moment later: wait for the row you expect.
   */
  async expandTreeRow(label: string): Promise<void> {
    const row = this.page.locator('.part.sidebar .pane-body .monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }) }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: 15_000 });
    } catch {
      throw new Error(`no tree row labelled ${label}; the rows are: ${JSON.stringify(await this.treeRows())}`);
    }
    if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
    // The list re-renders its rows, so ask the locator again rather than hold on to an element.
    const deadline = Date.now() + 15_000;
    while ((await row.getAttribute('aria-expanded')) !== 'true') {
      if (Date.now() > deadline) throw new Error(`tree row ${label} did not expand; the rows are: ${JSON.stringify(await this.treeRows())}`);
      await this.page.waitForTimeout(100);
    }
  }

  /** Console messages that report a Content Security Policy violation (any frame). */
  cspViolations(): ConsoleEntry[] {
    return this.console.filter((c) => /Content Security Policy|Refused to (load|execute|apply|connect|frame|create)/i.test(c.text));
  }

  /** Saves a PNG of the page to test-artifacts/<launch name>-<name>.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    mkdirSync(artifactsDir, { recursive: true });
    const file = join(artifactsDir, `${this.name}-${name.replace(/[^\w.-]+/g, '-')}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Runs `fn`; when it throws, saves a screenshot named after the step and rethrows. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const shot = await this.screenshot(`${name}-failed`).catch(() => undefined);
      if (shot && e instanceof Error) e.message += `\n(screenshot: ${shot})`;
      throw e;
    }
  }

  /** Stops the browser and the server and removes the temporary directories. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const withTimeout = (p: Promise<unknown>, ms: number) => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, ms).unref())]);
    if (this.browser) await withTimeout(this.browser.close(), 15_000);
    if (this.server) await withTimeout(this.server.stop(), 15_000);
    process.removeListener('exit', this.killOnExit);
    for (const sig of exitSignals) process.removeListener(sig, this.exitOnSignal);
    this.cleanupVsix?.();
    if (process.env.NETPATH_E2E_KEEP === '1') console.error(`kept ${this.tmp} (NETPATH_E2E_KEEP=1)`);
    else rmSync(this.tmp, { recursive: true, force: true });
  }
}
