/** HTML building blocks: escaping (every interpolated value goes through it), links and the page frame. */
import { signingKeysFromEnv, signParams } from './url-signature';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/**
 * A root-relative link to a NAS path, each segment percent-encoded, with optional query parameters. Every link a
 * page emits is built here, so with IMAGE_URL_SECRET set every link is signed (url-signature.ts).
 */
export function hrefFor(relative: string, params: Record<string, string> = {}): string {
  const segments = relative.split('/').filter(Boolean);
  const secret = signingKeysFromEnv(process.env)?.current;
  const query = new URLSearchParams(secret ? signParams('/' + segments.join('/'), params, secret) : params).toString();
  const path = '/' + segments.map(encodeURIComponent).join('/');
  return query ? `${path}?${query}` : path;
}

/** No scripts at all; images only from data: URIs. */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'";

const STYLE = `
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f5f5f7}
header{background:#1d1d1f;color:#fff;padding:.5em 1.2em}header a{color:#fff;text-decoration:none;font-weight:600}
main{padding:.8em 1.2em;max-width:1400px;margin:auto}
a{color:#0a58ca}nav.pages a{margin-right:.9em}
h1{margin:.2em 0 .5em;font-size:1.4em;overflow-wrap:anywhere}h1 .sub{font-weight:400;color:#555;font-size:.8em}
.view{display:grid;gap:1em;align-items:start}
@media (min-width:900px){.view{grid-template-columns:minmax(0,1fr) 360px}}
figure.frame{margin:0;min-width:0;text-align:center}
img.result{display:block;margin:auto;max-width:100%;max-height:calc(100vh - 8.5em);width:auto;height:auto;object-fit:contain;background:repeating-conic-gradient(#ddd 0 25%,#fff 0 50%) 0 0/16px 16px;border:1px solid #ccc;cursor:zoom-in}
aside.details{min-width:0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8em}
nav.actions{display:flex;flex-wrap:wrap;gap:.3em .9em;margin-bottom:.6em}
form{margin-bottom:.6em}input[type=number]{width:6em}
table.meta{width:100%;table-layout:fixed;border-collapse:collapse}
table.meta td{padding:.2em .6em .2em 0;vertical-align:top;overflow-wrap:anywhere}table.meta td:first-child{width:6.5em;color:#555}
.note{font-size:13px;color:#555}
ul.gallery{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:12px}
ul.gallery li{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;text-align:center;font-size:12px;min-width:0}
ul.gallery img{max-width:100%;max-height:160px;display:block;margin:0 auto 6px}
ul.gallery .name{display:block;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
ul.gallery .facts{color:#555}
.error{background:#fff;border-left:4px solid #d00;padding:1em}
`;

export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><header><a href="${escapeHtml(hrefFor(''))}">fc-nas-images gallery</a></header><main>
${body}
</main></body></html>`;
}
