// The `corda-img://image/<id>/<variant>` protocol: images are served by id through the service, which resolves
// and containment-checks the file; the renderer never sends a path.
import { readFile } from 'node:fs/promises';
import { parseAssetPath } from '../shared/api';
import type { Service } from '../core/service';

export function imageProtocolHandler(service: Service): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const asset = parseAssetPath(`${url.host}${url.pathname}`);
    if (!asset || request.method !== 'GET') return new Response('Not found', { status: 404 });
    try {
      const found = await service.asset(asset);
      const bytes = 'data' in found ? found.data : await readFile(found.path);
      // A correction changes with every stroke: never keep a copy of it.
      const headers: Record<string, string> = { 'Content-Type': found.mime, ...('correction' in asset && { 'Cache-Control': 'no-store' }) };
      return new Response(new Uint8Array(bytes), { status: 200, headers });
    } catch (error) {
      return new Response((error as Error).message, { status: 404 });
    }
  };
}
