// The server's public settings (basemap, city). A server without a basemap gets plain maps.
import { get } from './api';

export interface Config {
  tile_url: string | null;
  tile_attribution: string | null;
  idle_timeout_minutes: number;
  city_code: string;
  city_name: string;
}

let cached: Promise<Config> | undefined;

export function config(): Promise<Config> {
  cached ??= get<Config>('/api/config');
  return cached;
}
