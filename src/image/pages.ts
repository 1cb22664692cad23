/** The HTML pages: an image (the result embedded as a data: URI, metadata, actions), the gallery, an error. */
import { escapeHtml, hrefFor, layout } from './html';
import { signingKeysFromEnv } from './url-signature';
import type { RenderedImage } from './render';
import type { ShownImage } from './response-size';
import { ACTION_TABLE, ACTIONS, type ActionValues, type ImageAction } from './actions';
import type { SourceInfo } from './source-info';

export interface ImagePageModel {
  relative: string;
  action: ImageAction | undefined;
  /** The action's parameters, for the heading. */
  values: ActionValues;
  /** The action and its parameters as requested, for the link to the raw result. */
  query: Record<string, string>;
  result: RenderedImage;
  /** What the page embeds: the result, or a preview when the result is too large for one answer. */
  shown: ShownImage;
  /** The face count from the face sidecar, when the request did not detect faces itself. */
  knownFaces: number | undefined;
  source: { type: string; bytes: number; hash: string; width: number; height: number };
  info: SourceInfo | undefined;
}

const ACTION_LINKS: Array<[string, Record<string, string>]> = [['Page', {}], ...ACTIONS.flatMap((a) => ACTION_TABLE[a].links), ['Raw', { raw: '1' }]];

function describeAction(action: ImageAction, values: ActionValues): string {
  const definition = ACTION_TABLE[action];
  return definition.describe?.(values) ?? definition.label;
}

export const dataUri = (data: Buffer, mime: string) => `data:${mime};base64,${data.toString('base64')}`;

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function row(name: string, value: string): string {
  return `<tr><td>${escapeHtml(name)}</td><td>${value}</td></tr>`;
}

const link = (url: string) => `<a href="${escapeHtml(url)}" rel="noreferrer">${escapeHtml(url)}</a>`;

/** What a person calls the image: the file name in its source URL (moon-landing.jpg), else the file's own name. */
export function displayName(sourceUrl: string | undefined, fileName: string): string {
  if (!sourceUrl) return fileName;
  try {
    const last = new URL(sourceUrl).pathname.split('/').filter(Boolean).pop();
    return last ? decodeURIComponent(last) : fileName;
  } catch {
    return fileName;
  }
}

export function imagePage(model: ImagePageModel): string {
  const { relative, result, source, info } = model;
  const fileName = relative.split('/').pop() ?? relative;
  const name = displayName(info?.sourceUrls[0], fileName);
  const actions = ACTION_LINKS.map(([label, params]) => `<a href="${escapeHtml(hrefFor(relative, params))}">${escapeHtml(label)}</a>`).join('');
  const faces = result.faces?.length ?? model.knownFaces;
  const rows = [
    row('Size', `${source.width} × ${source.height} px`),
    row('Format', escapeHtml(source.type.toUpperCase())),
    row('File', `${source.bytes} bytes (${kib(source.bytes)})`),
    ...(faces !== undefined ? [row('Faces', String(faces))] : []),
    ...(info
      ? [
          row('Source URL', info.sourceUrls.map(link).join('<br>')),
          row('Found on', link(info.firstPage)),
          row('Saved at', escapeHtml(info.savedAt)),
          ...(info.goneSince ? [row('Gone from the site', `since ${escapeHtml(info.goneSince)}: no page shows it any more; the file is kept`)] : []),
        ]
      : []),
    row('Shown as', `${escapeHtml(result.format.toUpperCase())}, ${result.width} × ${result.height} px, ${kib(result.data.length)}`),
    row('Path', escapeHtml('/' + relative)),
    row('SHA-256', `<code>${escapeHtml(source.hash)}</code>`),
  ].join('');
  const description = model.action ? describeAction(model.action, model.values) : 'page';
  const full = hrefFor(relative, { ...model.query, raw: '1' });
  const body = `<h1 class="title">${escapeHtml(name)}${model.action ? ` <span class="sub">${escapeHtml(description)}</span>` : ''}</h1>
<div class="view">
<figure class="frame"><a href="${escapeHtml(full)}" title="Open full size"><img class="result" id="result" alt="${escapeHtml(name)}" src="${dataUri(model.shown.data, model.shown.mime)}"></a>
${model.shown.preview ? `<figcaption class="note">The result is too large to embed (${kib(result.data.length)}); this is a preview. <a href="${escapeHtml(full)}">Open the full result</a>.</figcaption>` : ''}</figure>
<aside class="details">
<nav class="actions">${actions}</nav>
${signingKeysFromEnv(process.env) ? '' : `<form method="get" action="${escapeHtml(hrefFor(relative))}"><input type="hidden" name="action" value="rotate">
<label>Rotate by <input name="angle" type="number" min="-360" max="360" step="any" value="45" required></label> <button>Rotate</button></form>`}
<table class="meta">${rows}</table>
</aside>
</div>`;
  return layout(`${name} · ${description}`, body);
}

export interface GalleryTile {
  relative: string;
  /** What the tile is labelled with: the source URL's file name, else the file's own. */
  name: string;
  width: number | undefined;
  height: number | undefined;
  faces: number | undefined;
  thumbnail: { data: Buffer; mime: string } | { error: string };
}

export interface GalleryPageModel {
  folder: string;
  tiles: GalleryTile[];
  page: number;
  pages: number;
  total: number;
  /** The walk stopped at its cap; older images are not listed. */
  truncated: boolean;
}

function tile(t: GalleryTile): string {
  const picture =
    'data' in t.thumbnail
      ? `<img alt="${escapeHtml(t.name)}" src="${dataUri(t.thumbnail.data, t.thumbnail.mime)}">`
      : `<span class="no-preview">no preview: ${escapeHtml(t.thumbnail.error)}</span>`;
  const facts = [
    t.width && t.height ? `${t.width} × ${t.height} px` : '',
    t.faces !== undefined ? `${t.faces} face${t.faces === 1 ? '' : 's'}` : '',
  ].filter(Boolean);
  return `<li><a href="${escapeHtml(hrefFor(t.relative))}">${picture}<span class="name">${escapeHtml(t.name)}</span></a><span class="facts">${facts.join(' · ')}</span></li>`;
}

export function galleryPage(model: GalleryPageModel): string {
  const where = '/' + model.folder;
  const nav = (page: number, label: string) => `<a href="${escapeHtml(hrefFor(model.folder, { page: String(page) }))}">${label}</a>`;
  const pager = [
    model.page > 1 ? nav(model.page - 1, '← newer') : '',
    `page ${model.page} of ${Math.max(1, model.pages)}`,
    model.page < model.pages ? nav(model.page + 1, 'older →') : '',
  ].join(' ');
  const list = model.tiles.length
    ? `<ul class="gallery">${model.tiles.map(tile).join('')}</ul>`
    : `<p>No images${model.page > 1 ? ' on this page' : ' yet: the crawler saves them under img/'}.</p>`;
  const body = `<h1>Images in ${escapeHtml(where)}</h1>
<p>${model.total} image${model.total === 1 ? '' : 's'}, newest first.${model.truncated ? ' The folder holds more files than one listing scans; the oldest are not shown.' : ''}</p>
<nav class="pages">${pager}</nav>
${list}
<nav class="pages">${pager}</nav>`;
  return layout(`Gallery ${where}`, body);
}

export function errorPage(status: number, title: string, message: string): string {
  return layout(`${status} ${title}`, `<div class="error"><h1>${status} ${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p><a href="${escapeHtml(hrefFor(''))}">Back to the gallery</a></p></div>`);
}
