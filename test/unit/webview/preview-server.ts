// Serves the built webview (dist/webview) with preview.html under the trace panel's CSP and a stub
// acquireVsCodeApi, on 127.0.0.1 only. The stub answers `ready` with a case's message, records
// what the webview posts in `window.__posted`, and keeps setState in sessionStorage so a reload
// restores state the way VS Code does.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { ToWebview } from '../../../src/shared/protocol';

export const repo = join(__dirname, '../../..');
export const THEMES = { dark: 'vscode-dark', light: 'vscode-light', 'hc-dark': 'vscode-high-contrast' } as const;
export type Theme = keyof typeof THEMES;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.html': 'text/html', '.map': 'application/json' };

/** A script literal that cannot end the script element it sits in. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

function stub(message: ToWebview | undefined): string {
  return `// stub acquireVsCodeApi (preview-server.ts)
window.__posted = [];
const message = ${scriptJson(message ?? null)};
window.acquireVsCodeApi = () => ({
  postMessage(m) {
    window.__posted.push(m);
    if (m && m.type === 'ready' && message) setTimeout(() => window.postMessage(message, '*'), 0);
  },
  setState(s) { sessionStorage.setItem('vscode-state', JSON.stringify(s)); },
  getState() { const s = sessionStorage.getItem('vscode-state'); return s === null ? undefined : JSON.parse(s); },
});
`;
}

export interface Preview {
  origin: string;
  url(caseName: string, theme?: Theme): string;
  close(): Promise<void>;
}

export async function startPreview(cases: Record<string, ToWebview>): Promise<Preview> {
  const page = readFileSync(join(__dirname, 'preview.html'), 'utf8');
  let origin = '';
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', origin);
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    try {
      if (u.pathname === '/' || u.pathname === '/preview.html') {
        const theme = (u.searchParams.get('theme') ?? 'dark') as Theme;
        const nonce = randomBytes(16).toString('base64');
        const fill: Record<string, string> = { origin, nonce, theme: theme in THEMES ? theme : 'dark', bodyClass: THEMES[theme] ?? THEMES.dark, case: encodeURIComponent(u.searchParams.get('case') ?? '') };
        return send(200, 'text/html', page.replace(/\{\{(\w+)\}\}/g, (_, k: string) => fill[k] ?? ''));
      }
      if (u.pathname === '/stub.js') return send(200, 'text/javascript', stub(cases[u.searchParams.get('case') ?? '']));
      const served = [['/webview/', join(repo, 'dist/webview')], ['/theme/', join(__dirname, 'themes')]] as const;
      for (const [prefix, dir] of served) {
        if (!u.pathname.startsWith(prefix)) continue;
        const file = normalize(join(dir, u.pathname.slice(prefix.length)));
        if (!file.startsWith(dir)) break;
        const ext = /\.[a-z]+$/.exec(file)?.[0] ?? '';
        return send(200, TYPES[ext] ?? 'application/octet-stream', readFileSync(file));
      }
      send(404, 'text/plain', 'not found');
    } catch {
      send(404, 'text/plain', 'not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (c, theme = 'dark') => `${origin}/preview.html?case=${encodeURIComponent(c)}&theme=${theme}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
