// The phone's GPS position (navigator.geolocation) and the grid holding it
// (GET /api/grids/locate when online). One watch for the whole app.
import { ref } from 'vue';
import { call, client, type Schemas } from '@civgrid/shared';
import { t } from './i18n';

export interface Position {
  lon: number;
  lat: number;
  accuracy: number;
}

export const position = ref<Position | null>(null);
/** When the phone took `position` (ms since the epoch). */
export const fixedAt = ref(0);
export const gpsError = ref('');
export const located = ref<Schemas['Located'] | null>(null);

let watchId: number | undefined;
let lastLocated: Position | null = null;

/** Metres between two positions (equirectangular; fine for tens of metres). */
function metres(a: Position, b: Position): number {
  const k = 111_320;
  const dx = (a.lon - b.lon) * k * Math.cos((a.lat * Math.PI) / 180);
  const dy = (a.lat - b.lat) * k;
  return Math.hypot(dx, dy);
}

export async function locate(force = false) {
  const p = position.value;
  if (!p || !navigator.onLine) return;
  if (!force && lastLocated && metres(p, lastLocated) < 20) return;
  try {
    located.value = await call(client.GET('/api/grids/locate', { params: { query: { lon: p.lon, lat: p.lat } } }));
    lastLocated = p;
  } catch {
    /* offline or refused: the server places the report from the position */
  }
}

/** Starts watching the position (again, when `restart`). */
export function startGps(restart = false) {
  if (!('geolocation' in navigator)) {
    gpsError.value = t('gps.unsupported');
    return;
  }
  if (watchId !== undefined) {
    if (!restart) return;
    navigator.geolocation.clearWatch(watchId);
  }
  gpsError.value = '';
  watchId = navigator.geolocation.watchPosition(
    (p) => {
      gpsError.value = '';
      fixedAt.value = p.timestamp || Date.now();
      position.value = {
        lon: Math.round(p.coords.longitude * 1e6) / 1e6,
        lat: Math.round(p.coords.latitude * 1e6) / 1e6,
        accuracy: Math.round(p.coords.accuracy),
      };
      void locate(restart);
      restart = false;
    },
    (e) => {
      gpsError.value = t('gps.failed', { msg: e.code === e.PERMISSION_DENIED ? t('gps.denied') : e.message });
    },
    { enableHighAccuracy: true, maximumAge: 30_000, timeout: 30_000 },
  );
}

/** A line saying where the phone is and which grid that is. */
export function gridLine(): string {
  const l = located.value;
  if (!position.value) return '';
  if (!navigator.onLine && !l) return t('grid.offline');
  if (!l) return '';
  if (l.match_type === 'inside' && l.grid) return t('grid.inside', { name: l.grid.name });
  if (l.match_type === 'nearest' && l.grid) return t('grid.nearest', { name: l.grid.name, d: Math.round(l.distance_m ?? 0) });
  return t('grid.none');
}
