// The `corda-img://image/<id>/<variant>` protocol: images are served by id through the service, which resolves
// and containment-checks the file; the renderer never sends a path.
import { readFile } from 'node:fs/promises';
import { ImageVariant } from '../shared/api';
import type { Service } from '../core/service';

export function imageProtocolHandler(service: Service): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const match = `${url.host}${url.pathname}`.match(/^image\/(\d{1,15})\/([a-z]+)$/);
    const variant = ImageVariant.safeParse(match?.[2]);
    if (!match || !variant.success || request.method !== 'GET') return new Response('Not found', { status: 404 });
    try {
      const asset = await service.imageAsset(Number(match[1]), variant.data);
      return new Response(new Uint8Array(await readFile(asset.path)), { status: 200, headers: { 'Content-Type': asset.mime } });
    } catch (error) {
      return new Response((error as Error).message, { status: 404 });
    }
  };
}
