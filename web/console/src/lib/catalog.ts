// The category tree, loaded once per page load (it changes rarely; the catalog screen reloads it).
import { call, client, type Schemas } from '@civgrid/shared';

let cached: Promise<Schemas['CategoryGroup'][]> | undefined;

export function categories(reload = false): Promise<Schemas['CategoryGroup'][]> {
  if (reload || !cached) cached = call(client.GET('/api/catalog/categories', {}));
  cached.catch(() => (cached = undefined));
  return cached;
}
