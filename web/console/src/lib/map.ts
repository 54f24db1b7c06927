// Leaflet helpers shared by the map screens: a map with or without a basemap, grid
// polygons, event markers clustered and coloured by light, and a heat colour scale.
import L from './leafletGlobal';
import 'leaflet.markercluster';
import 'leaflet/dist/leaflet.css';
import 'leaflet.markercluster/dist/MarkerCluster.css';
import { LIGHT_COLOR, type Schemas } from '@civgrid/shared';
import { config } from './config';

export { L };

export const NO_LIGHT = '#8492a6';
const RANK: Record<string, number> = { red: 3, yellow: 2, green: 1 };

/** A map on `el`: the basemap from the server's config if it has one, else a plain ground. */
export async function makeMap(el: HTMLElement, opts: L.MapOptions = {}): Promise<L.Map> {
  const map = L.map(el, { center: [36.45, 115.98], zoom: 10, minZoom: 3, maxZoom: 19, zoomSnap: 0.25, attributionControl: false, ...opts });
  try {
    const c = await config();
    if (c.tile_url) {
      L.tileLayer(c.tile_url, { attribution: c.tile_attribution ?? '', maxZoom: 19 }).addTo(map);
      map.attributionControl?.remove();
      L.control.attribution({ prefix: false }).addTo(map);
    }
  } catch {
    /* no config: the map works without a basemap */
  }
  return map;
}

type Point = Schemas['MapPoint'];

function dot(color: string, size: number, text = ''): L.DivIcon {
  return L.divIcon({
    className: 'cg-dot',
    html: `<span style="background:${color};width:${size}px;height:${size}px;line-height:${size}px">${text}</span>`,
    iconSize: [size, size],
  });
}

/** Event markers, clustered; a cluster takes the colour of its worst light. */
export function eventLayer(points: Point[], onClick: (p: Point) => void, label: (p: Point) => string) {
  const group = L.markerClusterGroup({
    chunkedLoading: true,
    showCoverageOnHover: false,
    maxClusterRadius: 50,
    iconCreateFunction: (c) => {
      let worst = 0;
      for (const m of c.getAllChildMarkers()) worst = Math.max(worst, RANK[(m.options as { light?: string }).light ?? ''] ?? 0);
      const light = Object.keys(RANK).find((k) => RANK[k] === worst);
      const n = c.getChildCount();
      return dot(light ? LIGHT_COLOR[light] : NO_LIGHT, n < 100 ? 30 : n < 1000 ? 36 : 42, String(n));
    },
  });
  const markers = points.map((p) => {
    const m = L.marker([p.lat, p.lon], {
      icon: dot(p.light ? LIGHT_COLOR[p.light] : NO_LIGHT, 14),
      light: p.light ?? '',
      title: label(p),
    } as L.MarkerOptions);
    m.on('click', () => onClick(p));
    return m;
  });
  group.addLayers(markers);
  return group;
}

/** Fill colour of a grid with `n` events when the busiest grid has `max`. */
export function heatColor(n: number, max: number): string {
  if (!n || !max) return '#f0f4f8';
  const f = Math.min(1, n / max);
  // from pale yellow (low) to deep red (high)
  const r = Math.round(255 - 40 * f);
  const g = Math.round(237 - 200 * f);
  const b = Math.round(160 - 130 * f);
  return `rgb(${r},${g},${b})`;
}
