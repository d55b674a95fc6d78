import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { errorResponse, type HttpRequestMessage, type HttpResponseMessage } from '../../../core/http/http-message.js';

/** The files the run view's page loads, by path: uPlot's script and style. */
export type RunViewAssets = ReadonlyMap<string, { contentType: string; body: string }>;

/**
 * uPlot's minified script and style, read once from the installed `uplot` package (a runtime
 * dependency, so `npm ci --omit=dev` and the container image have it; the bundle in dist/ resolves
 * it from the node_modules beside it). Undefined when the package cannot be read: the page then
 * shows its tables only.
 */
export function loadRunViewAssets(): RunViewAssets | undefined {
  try {
    const require = createRequire(import.meta.url);
    const read = (file: string) => readFileSync(require.resolve(`uplot/dist/${file}`), 'utf8');
    return new Map([
      ['/assets/uplot.min.js', { contentType: 'text/javascript; charset=utf-8', body: read('uPlot.iife.min.js') }],
      ['/assets/uplot.min.css', { contentType: 'text/css; charset=utf-8', body: read('uPlot.min.css') }],
    ]);
  } catch {
    return undefined;
  }
}

/** Whether `path` is under the run view's assets. */
export function isAssetPath(path: string): boolean {
  return path.startsWith('/assets/');
}

/** Answers an asset path: the file, 404 for one that is not there, 405 for a method other than GET or HEAD. */
export function assetResponse(request: HttpRequestMessage, assets: RunViewAssets | undefined): HttpResponseMessage {
  if (request.method !== 'GET' && request.method !== 'HEAD') return errorResponse(405, 'method not allowed: use GET', { allow: 'GET' });
  const asset = assets?.get(request.path);
  if (!asset) return errorResponse(404, `no route for ${request.path}`);
  return { status: 200, headers: { 'content-type': asset.contentType, 'cache-control': 'private, max-age=86400' }, body: asset.body };
}
