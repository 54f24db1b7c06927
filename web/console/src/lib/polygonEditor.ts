// A small polygon editor on a Leaflet map. Drawing from scratch, each click adds the next
// vertex; editing an existing ring, a click goes into the nearest edge. Drag a vertex to
// move it, right-click it to remove it, undo any of these. The result is a GeoJSON Polygon.
import { L } from './map';

export class PolygonEditor {
  private vertices: L.LatLng[] = [];
  private history: { vertices: L.LatLng[]; drawing: boolean }[] = [];
  private markers: L.Marker[] = [];
  private shape: L.Polygon;
  /** Drawing from scratch: clicks append instead of going into the nearest edge. */
  private drawing = true;

  constructor(
    private map: L.Map,
    /** Called after every change with the number of vertices and whether undo is possible. */
    private onChange: (count: number, canUndo: boolean) => void,
  ) {
    this.shape = L.polygon([], { color: '#d93026', weight: 2, dashArray: '6 4', fillOpacity: 0.15, interactive: false });
  }

  /** Starts editing `initial` (empty: draw from scratch). */
  start(initial: L.LatLng[]) {
    this.vertices = initial.map((p) => L.latLng(p.lat, p.lng));
    this.drawing = initial.length === 0;
    this.history = [];
    this.shape.addTo(this.map);
    this.map.on('click', this.onClick);
    this.map.getContainer().classList.add('cg-drawing');
    this.render();
  }

  stop() {
    this.map.off('click', this.onClick);
    this.map.getContainer().classList.remove('cg-drawing');
    this.markers.forEach((m) => m.remove());
    this.markers = [];
    this.shape.remove();
  }

  /** Removes every vertex (draw again). */
  clear() {
    this.save();
    this.vertices = [];
    this.drawing = true;
    this.render();
  }

  undo() {
    const prev = this.history.pop();
    if (!prev) return;
    this.vertices = prev.vertices;
    this.drawing = prev.drawing;
    this.render();
  }

  get count() {
    return this.vertices.length;
  }

  /** The polygon as GeoJSON (closed ring, longitude first). */
  geometry(): { type: 'Polygon'; coordinates: number[][][] } {
    const ring = this.vertices.map((p) => [round(p.lng), round(p.lat)]);
    ring.push([...ring[0]]);
    return { type: 'Polygon', coordinates: [ring] };
  }

  private save() {
    this.history.push({ vertices: this.vertices.map((p) => L.latLng(p.lat, p.lng)), drawing: this.drawing });
  }

  private onClick = (e: L.LeafletMouseEvent) => {
    this.save();
    const v = this.vertices;
    if (this.drawing || v.length < 3) v.push(e.latlng);
    else v.splice(this.nearestEdge(e.latlng) + 1, 0, e.latlng);
    this.render();
  };

  /** Index i of the edge (i, i+1) closest to `p` on screen. */
  private nearestEdge(p: L.LatLng): number {
    const at = this.map.latLngToLayerPoint(p);
    const pts = this.vertices.map((x) => this.map.latLngToLayerPoint(x));
    let best = pts.length - 1;
    let dist = Infinity;
    pts.forEach((a, i) => {
      const b = pts[(i + 1) % pts.length];
      const d = L.LineUtil.pointToSegmentDistance(at, a, b);
      if (d < dist) {
        dist = d;
        best = i;
      }
    });
    return best;
  }

  private render() {
    this.shape.setLatLngs(this.vertices);
    this.markers.forEach((m) => m.remove());
    this.markers = this.vertices.map((p, i) => {
      const m = L.marker(p, {
        draggable: true,
        icon: L.divIcon({ className: 'cg-vertex', html: '<span></span>', iconSize: [12, 12] }),
      });
      m.on('dragstart', () => this.save());
      m.on('drag', () => {
        this.vertices[i] = m.getLatLng();
        this.shape.setLatLngs(this.vertices);
      });
      m.on('dragend', () => this.onChange(this.vertices.length, this.history.length > 0));
      m.on('contextmenu', () => {
        this.save();
        this.vertices.splice(i, 1);
        this.render();
      });
      return m.addTo(this.map);
    });
    this.onChange(this.vertices.length, this.history.length > 0);
  }
}

const round = (x: number) => Math.round(x * 1e7) / 1e7;

/** The outer ring of a Polygon or the first polygon of a MultiPolygon, without the closing point. */
export function outerRing(g: { type?: string; coordinates?: unknown }): L.LatLng[] {
  const c = g.type === 'MultiPolygon' ? (g.coordinates as number[][][][])[0] : (g.coordinates as number[][][]);
  const ring = (c?.[0] ?? []).map(([lng, lat]) => L.latLng(lat, lng));
  if (ring.length > 1 && ring[0].equals(ring[ring.length - 1])) ring.pop();
  return ring;
}
