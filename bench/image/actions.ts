/** The actions both image benches request, as the query strings the original's URLs used. */
export interface BenchAction {
  label: string;
  query: Record<string, string>;
}

export const ACTIONS: readonly BenchAction[] = [
  { label: 'show', query: { action: 'show' } },
  { label: 'rotate 90', query: { action: 'rotate', angle: '90' } },
  { label: 'rotate 33', query: { action: 'rotate', angle: '33' } },
  { label: 'facedetect', query: { action: 'facedetect' } },
];

/** The request path and query for an image (relative to the NAS root) and an action. */
export function requestPath(file: string, action: BenchAction): string {
  const encoded = file.split('/').map(encodeURIComponent).join('/');
  return `/${encoded}?${new URLSearchParams(action.query)}`;
}
