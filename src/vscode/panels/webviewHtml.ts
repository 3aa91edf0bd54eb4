// The one page every netpath webview loads: the webview app (main.js) and its styles under a strict
// Content Security Policy with a fresh nonce; resources only from the built webview folder.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export function webviewHtml(webview: vscode.Webview, root: vscode.Uri, opts: { title: string; live?: boolean }): string {
  const nonce = randomBytes(16).toString('base64');
  const uri = (f: string) => webview.asWebviewUri(vscode.Uri.joinPath(root, f)).toString();
  const csp = `default-src 'none'; style-src ${webview.cspSource}; font-src ${webview.cspSource}; img-src ${webview.cspSource}; script-src 'nonce-${nonce}';`;
  const title = opts.title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${uri('codicon.css')}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${uri('main.css')}">
<title>${title}</title></head>
<body><main id="app"${opts.live ? ' aria-live="polite"' : ''}></main>
<script type="module" nonce="${nonce}" src="${uri('main.js')}"></script></body></html>`;
}
