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

export function imagePage(model: ImagePageModel): string {
  const { relative, result, source, info } = model;
  const name = relative.split('/').pop() ?? relative;
  const actions = ACTION_LINKS.map(([label, params]) => `<a href="${escapeHtml(hrefFor(relative, params))}">${escapeHtml(label)}</a>`).join('');
  const rows = [
    row('Path', escapeHtml('/' + relative)),
    row('Size', `${source.width} × ${source.height} px`),
    row('Format', escapeHtml(source.type.toUpperCase())),
    row('File', `${source.bytes} bytes (${kib(source.bytes)})`),
    row('SHA-256', escapeHtml(source.hash)),
    ...(info
      ? [
          row('Source URL', info.sourceUrls.map(link).join('<br>')),
          row('Found on', link(info.firstPage)),
          row('Saved at', escapeHtml(info.savedAt)),
        ]
      : []),
    row('Shown as', `${escapeHtml(result.format.toUpperCase())}, ${result.width} × ${result.height} px, ${kib(result.data.length)}`),
    ...(result.faces ? [row('Faces', String(result.faces.length))] : []),
  ].join('');
  const description = model.action ? describeAction(model.action, model.values) : 'page';
  const body = `<h1>${escapeHtml(name)}${model.action ? ` — ${escapeHtml(description)}` : ''}</h1>
<nav class="actions">${actions}</nav>
${signingKeysFromEnv(process.env) ? '' : `<form method="get" action="${escapeHtml(hrefFor(relative))}"><input type="hidden" name="action" value="rotate">
<label>Rotate by <input name="angle" type="number" min="-360" max="360" step="any" value="45" required></label> <button>Rotate</button></form>`}
${model.shown.preview ? `<p class="note">The result is too large to embed (${kib(result.data.length)}); this is a preview. <a href="${escapeHtml(hrefFor(relative, { ...model.query, raw: '1' }))}">Open the full result</a>.</p>` : ''}
<p><img class="result" id="result" alt="${escapeHtml(name)}" src="${dataUri(model.shown.data, model.shown.mime)}"></p>
<table class="meta">${rows}</table>`;
  return layout(`${name} · ${description}`, body);
}

export interface GalleryTile {
  relative: string;
  name: string;
  bytes: number;
  modified: Date;
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
  return `<li><a href="${escapeHtml(hrefFor(t.relative))}">${picture}${escapeHtml(t.name)}</a><br>${kib(t.bytes)} · ${escapeHtml(t.modified.toISOString().slice(0, 16).replace('T', ' '))}</li>`;
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
