// The server's public settings (basemap tiles). Without a basemap the maps draw on a plain ground.
import { call, client, type Schemas } from '@civgrid/shared';

let cached: Promise<Schemas['ClientConfig']> | undefined;

export function config(): Promise<Schemas['ClientConfig']> {
  cached ??= call(client.GET('/api/config'));
  return cached;
}
