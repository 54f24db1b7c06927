// leaflet.markercluster extends the global `L`; this module sets it before the plugin loads.
import L from 'leaflet';

(window as unknown as { L: typeof L }).L = L;

export default L;
