//! Grid boundaries: GeoJSON Polygon / MultiPolygon in WGS-84, parsed and validated once,
//! then used for point-in-polygon and distance queries.

use serde_json::{Value, json};

/// Longitude, latitude in degrees (WGS-84 / CGCS2000).
pub type Pt = [f64; 2];

/// Upper bound on vertices in one boundary: a grid of 300–500 households never needs more,
/// and it bounds the quadratic self-intersection check.
pub const MAX_VERTICES: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GeometryError {
    #[error("边界必须是 GeoJSON Polygon 或 MultiPolygon")]
    BadType,
    #[error("边界坐标格式不正确")]
    Malformed,
    #[error("边界为空")]
    Empty,
    #[error("边界的环未闭合（首尾坐标必须相同）")]
    UnclosedRing,
    #[error("边界的环至少需要 4 个坐标点")]
    TooFewPoints,
    #[error("坐标超出 WGS-84 经纬度范围")]
    OutOfRange,
    #[error("边界自相交")]
    SelfIntersection,
    #[error("边界顶点过多")]
    TooComplex,
}

impl GeometryError {
    /// Stable code for the API.
    pub fn code(self) -> &'static str {
        match self {
            GeometryError::BadType => "geometry_bad_type",
            GeometryError::Malformed => "geometry_malformed",
            GeometryError::Empty => "geometry_empty",
            GeometryError::UnclosedRing => "geometry_unclosed_ring",
            GeometryError::TooFewPoints => "geometry_too_few_points",
            GeometryError::OutOfRange => "geometry_out_of_range",
            GeometryError::SelfIntersection => "geometry_self_intersection",
            GeometryError::TooComplex => "geometry_too_complex",
        }
    }
}

/// One polygon: an outer ring and holes. Rings are stored closed (first == last).
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    pub rings: Vec<Vec<Pt>>,
}

/// A validated grid boundary.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    pub polygons: Vec<Polygon>,
}

/// Axis-aligned bounding box `[min_lon, min_lat, max_lon, max_lat]`.
pub type BBox = [f64; 4];

/// Where a point lies relative to a polygon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Outside,
    OnBoundary,
    Inside,
}

impl Boundary {
    /// Parses and validates a GeoJSON geometry object.
    pub fn from_geojson(v: &Value) -> Result<Boundary, GeometryError> {
        let ty = v
            .get("type")
            .and_then(Value::as_str)
            .ok_or(GeometryError::BadType)?;
        let coords = v.get("coordinates").ok_or(GeometryError::Malformed)?;
        let polys: Vec<&Value> = match ty {
            "Polygon" => vec![coords],
            "MultiPolygon" => coords
                .as_array()
                .ok_or(GeometryError::Malformed)?
                .iter()
                .collect(),
            _ => return Err(GeometryError::BadType),
        };
        if polys.is_empty() {
            return Err(GeometryError::Empty);
        }
        let mut polygons = Vec::with_capacity(polys.len());
        let mut total = 0usize;
        for p in polys {
            let rings_v = p.as_array().ok_or(GeometryError::Malformed)?;
            if rings_v.is_empty() {
                return Err(GeometryError::Empty);
            }
            let mut rings = Vec::with_capacity(rings_v.len());
            for r in rings_v {
                let pts = r.as_array().ok_or(GeometryError::Malformed)?;
                total += pts.len();
                if total > MAX_VERTICES {
                    return Err(GeometryError::TooComplex);
                }
                let ring: Vec<Pt> = pts.iter().map(parse_position).collect::<Result<_, _>>()?;
                rings.push(ring);
            }
            polygons.push(Polygon { rings });
        }
        let b = Boundary { polygons };
        b.validate()?;
        Ok(b)
    }

    /// Builds a boundary from rings the caller made (closed or not) and validates it.
    pub fn from_rings(polys: Vec<Vec<Vec<Pt>>>) -> Result<Boundary, GeometryError> {
        let polygons = polys
            .into_iter()
            .map(|rings| Polygon {
                rings: rings
                    .into_iter()
                    .map(|mut r| {
                        if let Some(&f) = r.first().filter(|f| Some(*f) != r.last()) {
                            r.push(f);
                        }
                        r
                    })
                    .collect(),
            })
            .collect();
        let b = Boundary { polygons };
        b.validate()?;
        Ok(b)
    }

    fn validate(&self) -> Result<(), GeometryError> {
        if self.polygons.is_empty() {
            return Err(GeometryError::Empty);
        }
        for poly in &self.polygons {
            if poly.rings.is_empty() {
                return Err(GeometryError::Empty);
            }
            for ring in &poly.rings {
                if ring.is_empty() {
                    return Err(GeometryError::Empty);
                }
                for &[x, y] in ring {
                    let in_range = (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y);
                    if !in_range {
                        return Err(GeometryError::OutOfRange);
                    }
                }
                if ring.first() != ring.last() {
                    return Err(GeometryError::UnclosedRing);
                }
                if ring.len() < 4 {
                    return Err(GeometryError::TooFewPoints);
                }
                if signed_area(ring) == 0.0 {
                    return Err(GeometryError::SelfIntersection);
                }
            }
            if poly_self_intersects(poly) {
                return Err(GeometryError::SelfIntersection);
            }
        }
        Ok(())
    }

    pub fn to_geojson(&self) -> Value {
        let ring_json =
            |p: &Polygon| -> Value { Value::Array(p.rings.iter().map(|r| json!(r)).collect()) };
        if self.polygons.len() == 1 {
            json!({"type": "Polygon", "coordinates": ring_json(&self.polygons[0])})
        } else {
            json!({"type": "MultiPolygon",
                   "coordinates": self.polygons.iter().map(ring_json).collect::<Vec<_>>()})
        }
    }

    pub fn bbox(&self) -> BBox {
        let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        for p in &self.polygons {
            let pb = p.bbox();
            b = [
                b[0].min(pb[0]),
                b[1].min(pb[1]),
                b[2].max(pb[2]),
                b[3].max(pb[3]),
            ];
        }
        b
    }

    pub fn locate(&self, pt: Pt) -> Location {
        let mut best = Location::Outside;
        for p in &self.polygons {
            match p.locate(pt) {
                Location::Inside => return Location::Inside,
                Location::OnBoundary => best = Location::OnBoundary,
                Location::Outside => {}
            }
        }
        best
    }

    /// Distance in metres from `pt` to this boundary (0 when inside or on it).
    pub fn distance_m(&self, pt: Pt) -> f64 {
        self.polygons
            .iter()
            .map(|p| p.distance_m(pt))
            .fold(f64::MAX, f64::min)
    }

    pub fn vertex_count(&self) -> usize {
        self.polygons
            .iter()
            .flat_map(|p| &p.rings)
            .map(Vec::len)
            .sum()
    }
}

impl Polygon {
    pub fn bbox(&self) -> BBox {
        let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        for &[x, y] in &self.rings[0] {
            b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
        }
        b
    }

    /// Inside the outer ring and outside every hole; points on any ring are `OnBoundary`.
    pub fn locate(&self, pt: Pt) -> Location {
        let mut inside = false;
        for ring in &self.rings {
            match ring_locate(ring, pt) {
                Location::OnBoundary => return Location::OnBoundary,
                Location::Inside => inside = !inside,
                Location::Outside => {}
            }
        }
        if inside {
            Location::Inside
        } else {
            Location::Outside
        }
    }

    /// The rings concatenated with a `[NaN, NaN]` point between them, as `ring_locate` takes.
    pub fn flat_coords(&self, out: &mut Vec<Pt>) {
        for (i, ring) in self.rings.iter().enumerate() {
            if i > 0 {
                out.push([f64::NAN, f64::NAN]);
            }
            out.extend_from_slice(ring);
        }
    }

    pub fn distance_m(&self, pt: Pt) -> f64 {
        if self.locate(pt) != Location::Outside {
            return 0.0;
        }
        let mut best = f64::MAX;
        for ring in &self.rings {
            for w in ring.windows(2) {
                best = best.min(segment_distance_m(pt, w[0], w[1]));
            }
        }
        best
    }
}

impl Boundary {
    /// Whether the interiors of two boundaries meet. Touching along an edge or at a vertex
    /// is allowed (neighbouring grids share edges); any shared area is an overlap.
    pub fn overlaps(&self, other: &Boundary) -> bool {
        let [a0, a1, a2, a3] = self.bbox();
        let [b0, b1, b2, b3] = other.bbox();
        if a2 < b0 || b2 < a0 || a3 < b1 || b3 < a1 {
            return false;
        }
        self.polygons
            .iter()
            .any(|p| other.polygons.iter().any(|q| polygons_overlap(p, q)))
    }
}

/// Distances below this many degrees (about 0.1 mm) count as touching, so that shared
/// edges whose points round differently never read as overlaps.
const TOUCH: f64 = 1e-9;

/// Side of `p` relative to the line through `a`, `b`: -1, 0 (within TOUCH) or 1.
fn side(a: Pt, b: Pt, p: Pt) -> i8 {
    let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
    let d = if len == 0.0 {
        0.0
    } else {
        orient(a, b, p) / len
    };
    if d > TOUCH {
        1
    } else if d < -TOUCH {
        -1
    } else {
        0
    }
}

/// Planar distance in degrees from `p` to segment `ab`.
fn segment_distance_deg(p: Pt, a: Pt, b: Pt) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    };
    ((a[0] + t * dx - p[0]).powi(2) + (a[1] + t * dy - p[1]).powi(2)).sqrt()
}

fn polygons_overlap(p: &Polygon, q: &Polygon) -> bool {
    let edges = |poly: &Polygon| -> Vec<(Pt, Pt)> {
        poly.rings
            .iter()
            .flat_map(|r| r.windows(2).map(|w| (w[0], w[1])))
            .collect()
    };
    let (pe, qe) = (edges(p), edges(q));
    // Edges that cross at a point interior to both.
    for &(a, b) in &pe {
        for &(c, d) in &qe {
            if side(c, d, a) * side(c, d, b) < 0 && side(a, b, c) * side(a, b, d) < 0 {
                return true;
            }
        }
    }
    // Otherwise one may hold part of the other: probe vertices, edge midpoints and one
    // interior point of each against the other, ignoring probes on its edges.
    let probes = |poly: &Polygon, es: &[(Pt, Pt)]| -> Vec<Pt> {
        let mut v: Vec<Pt> = es
            .iter()
            .flat_map(|&(a, b)| [a, [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]])
            .collect();
        v.extend(interior_point(poly));
        v
    };
    let holds = |poly: &Polygon, es: &[(Pt, Pt)], pt: Pt| {
        poly.locate(pt) == Location::Inside
            && es
                .iter()
                .all(|&(a, b)| segment_distance_deg(pt, a, b) > TOUCH)
    };
    probes(p, &pe).into_iter().any(|pt| holds(q, &qe, pt))
        || probes(q, &qe).into_iter().any(|pt| holds(p, &pe, pt))
}

/// A point strictly inside the polygon: on a horizontal line through the middle of the
/// box that avoids vertices, halfway between the first two boundary crossings.
fn interior_point(poly: &Polygon) -> Option<Pt> {
    let [_, y0, _, y1] = poly.bbox();
    let ys: Vec<f64> = poly.rings.iter().flatten().map(|p| p[1]).collect();
    let mut y = (y0 + y1) / 2.0;
    for k in 1..64 {
        if !ys.contains(&y) {
            break;
        }
        y = y0 + (y1 - y0) * (k as f64 / 64.0);
    }
    let mut xs: Vec<f64> = poly
        .rings
        .iter()
        .flat_map(|r| r.windows(2))
        .filter(|w| (w[0][1] > y) != (w[1][1] > y))
        .map(|w| w[0][0] + (y - w[0][1]) * (w[1][0] - w[0][0]) / (w[1][1] - w[0][1]))
        .collect();
    xs.sort_by(f64::total_cmp);
    (xs.len() >= 2).then(|| [(xs[0] + xs[1]) / 2.0, y])
}

fn parse_position(v: &Value) -> Result<Pt, GeometryError> {
    let a = v.as_array().ok_or(GeometryError::Malformed)?;
    if a.len() < 2 || a.len() > 3 {
        return Err(GeometryError::Malformed);
    }
    let x = a[0].as_f64().ok_or(GeometryError::Malformed)?;
    let y = a[1].as_f64().ok_or(GeometryError::Malformed)?;
    Ok([x, y])
}

fn signed_area(ring: &[Pt]) -> f64 {
    ring.windows(2)
        .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
        .sum::<f64>()
        / 2.0
}

/// Crossing-number test with an exact on-edge check.
///
/// `coords` is one closed ring, or several closed rings separated by a `[NaN, NaN]` point
/// (a NaN never crosses and never matches), which gives the even-odd rule over all of them:
/// inside the shell and outside its holes. Each edge is evaluated from its lower end to its
/// upper end, so two grids sharing an edge compute the very same crossing, and a point near
/// their common edge belongs to exactly one of them.
pub fn ring_locate(coords: &[Pt], [px, py]: Pt) -> Location {
    let mut inside = false;
    let Some(&first) = coords.first() else {
        return Location::Outside;
    };
    let mut a = first;
    for &b in &coords[1..] {
        if (a[1] > py) != (b[1] > py) {
            let (lo, hi) = if a[1] < b[1] { (a, b) } else { (b, a) };
            let xi = lo[0] + (py - lo[1]) * (hi[0] - lo[0]) / (hi[1] - lo[1]);
            if xi == px {
                return Location::OnBoundary;
            }
            inside ^= px < xi;
        } else if a[1] == py
            && (a[0] == px || (b[1] == py && px >= a[0].min(b[0]) && px <= a[0].max(b[0])))
        {
            return Location::OnBoundary;
        }
        a = b;
    }
    if inside {
        Location::Inside
    } else {
        Location::Outside
    }
}

fn orient(a: Pt, b: Pt, c: Pt) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

fn on_segment(a: Pt, b: Pt, p: Pt) -> bool {
    p[0] >= a[0].min(b[0])
        && p[0] <= a[0].max(b[0])
        && p[1] >= a[1].min(b[1])
        && p[1] <= a[1].max(b[1])
}

/// Whether segments ab and cd share any point.
pub fn segments_intersect(a: Pt, b: Pt, c: Pt, d: Pt) -> bool {
    let d1 = orient(c, d, a);
    let d2 = orient(c, d, b);
    let d3 = orient(a, b, c);
    let d4 = orient(a, b, d);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    (d1 == 0.0 && on_segment(c, d, a))
        || (d2 == 0.0 && on_segment(c, d, b))
        || (d3 == 0.0 && on_segment(a, b, c))
        || (d4 == 0.0 && on_segment(a, b, d))
}

/// Any two edges of the polygon's rings that meet, other than neighbours on one ring
/// sharing their common vertex.
fn poly_self_intersects(poly: &Polygon) -> bool {
    let edges: Vec<(usize, usize, Pt, Pt)> = poly
        .rings
        .iter()
        .enumerate()
        .flat_map(|(ri, r)| {
            r.windows(2)
                .enumerate()
                .map(move |(ei, w)| (ri, ei, w[0], w[1]))
        })
        .collect();
    for (i, &(ri, ei, a, b)) in edges.iter().enumerate() {
        let n = poly.rings[ri].len() - 1;
        for &(rj, ej, c, d) in &edges[i + 1..] {
            if ri == rj {
                let adjacent = ej == ei + 1 || (ei == 0 && ej == n - 1);
                if adjacent {
                    // Neighbours share one vertex; they only conflict if they fold back.
                    let (shared, other_a, other_b) =
                        if ej == ei + 1 { (b, a, d) } else { (a, b, c) };
                    if orient(other_a, shared, other_b) == 0.0
                        && (on_segment(shared, other_a, other_b)
                            || on_segment(shared, other_b, other_a))
                    {
                        return true;
                    }
                    continue;
                }
            }
            if segments_intersect(a, b, c, d) {
                return true;
            }
        }
    }
    false
}

const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Distance from p to segment ab in metres, on a local equirectangular projection at p.
fn segment_distance_m(p: Pt, a: Pt, b: Pt) -> f64 {
    let k = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
    let kx = k * p[1].to_radians().cos();
    let (ax, ay) = ((a[0] - p[0]) * kx, (a[1] - p[1]) * k);
    let (bx, by) = ((b[0] - p[0]) * kx, (b[1] - p[1]) * k);
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
    };
    let (cx, cy) = (ax + t * dx, ay + t * dy);
    (cx * cx + cy * cy).sqrt()
}

/// Distance between two points in metres (equirectangular; exact enough below ~50 km).
pub fn point_distance_m(a: Pt, b: Pt) -> f64 {
    segment_distance_m(a, b, b)
}

/// Degrees of latitude and longitude spanned by `metres` around latitude `lat`.
pub fn metres_to_degrees(metres: f64, lat: f64) -> (f64, f64) {
    let dlat = (metres / EARTH_RADIUS_M).to_degrees();
    let dlon = dlat / lat.to_radians().cos().max(1e-6);
    (dlon, dlat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn square(x0: f64, y0: f64, s: f64) -> Value {
        json!({"type": "Polygon", "coordinates": [[[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s], [x0, y0]]]})
    }

    #[test]
    fn valid_square_and_locate() {
        let b = Boundary::from_geojson(&square(116.0, 36.0, 0.01)).unwrap();
        assert_eq!(b.locate([116.005, 36.005]), Location::Inside);
        assert_eq!(b.locate([116.0, 36.005]), Location::OnBoundary);
        assert_eq!(b.locate([116.02, 36.005]), Location::Outside);
        assert_eq!(b.bbox(), [116.0, 36.0, 116.01, 36.01]);
        let d = b.distance_m([116.02, 36.005]);
        assert!((d - 900.0).abs() < 10.0, "{d}");
        assert_eq!(Boundary::from_geojson(&b.to_geojson()).unwrap(), b);
    }

    #[test]
    fn hole_excludes() {
        let v = json!({"type": "Polygon", "coordinates": [
            [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0]],
            [[4.0, 4.0], [6.0, 4.0], [6.0, 6.0], [4.0, 6.0], [4.0, 4.0]]]});
        let b = Boundary::from_geojson(&v).unwrap();
        assert_eq!(b.locate([5.0, 5.0]), Location::Outside);
        assert_eq!(b.locate([4.0, 5.0]), Location::OnBoundary);
        assert_eq!(b.locate([2.0, 2.0]), Location::Inside);
    }

    #[test]
    fn invalid_geometries() {
        let e = |v: Value| Boundary::from_geojson(&v).unwrap_err();
        assert_eq!(
            e(json!({"type": "Point", "coordinates": [1, 2]})),
            GeometryError::BadType
        );
        assert_eq!(e(json!({"type": "Polygon"})), GeometryError::Malformed);
        assert_eq!(
            e(json!({"type": "Polygon", "coordinates": []})),
            GeometryError::Empty
        );
        assert_eq!(
            e(json!({"type": "MultiPolygon", "coordinates": []})),
            GeometryError::Empty
        );
        assert_eq!(
            e(json!({"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1]]]})),
            GeometryError::UnclosedRing
        );
        assert_eq!(
            e(json!({"type": "Polygon", "coordinates": [[[0,0],[1,0],[0,0]]]})),
            GeometryError::TooFewPoints
        );
        assert_eq!(
            e(json!({"type": "Polygon", "coordinates": [[[0,0],[181,0],[1,1],[0,0]]]})),
            GeometryError::OutOfRange
        );
        assert_eq!(
            e(json!({"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,95],[0,0]]]})),
            GeometryError::OutOfRange
        );
        // Bow tie.
        assert_eq!(
            e(json!({"type": "Polygon", "coordinates": [[[0,0],[1,1],[1,0],[0,1],[0,0]]]})),
            GeometryError::SelfIntersection
        );
        // Spike folding back on itself.
        assert_eq!(
            e(json!({"type": "Polygon", "coordinates": [[[0,0],[2,0],[1,0],[1,1],[0,0]]]})),
            GeometryError::SelfIntersection
        );
        assert_eq!(
            e(json!({"type": "Polygon", "coordinates": [[[0,0],["a",0],[1,1],[0,0]]]})),
            GeometryError::Malformed
        );
    }

    #[test]
    fn overlaps_but_touching_is_fine() {
        let sq = |x: f64, y: f64, s: f64| Boundary::from_geojson(&square(x, y, s)).unwrap();
        let a = sq(0.0, 0.0, 2.0);
        assert!(!a.overlaps(&sq(2.0, 0.0, 2.0)), "shared edge");
        assert!(!a.overlaps(&sq(2.0, 2.0, 1.0)), "shared corner");
        assert!(!a.overlaps(&sq(5.0, 5.0, 1.0)), "apart");
        assert!(a.overlaps(&sq(1.0, 1.0, 2.0)), "crossing edges");
        assert!(a.overlaps(&sq(0.5, 0.5, 0.5)), "inside");
        assert!(sq(0.5, 0.5, 0.5).overlaps(&a), "contains");
        assert!(a.overlaps(&sq(0.0, 0.0, 2.0)), "identical");
        assert!(a.overlaps(&sq(1.0, 0.0, 2.0)), "half over, edges collinear");
        // A grid in another's hole does not overlap it.
        let holed = Boundary::from_geojson(&json!({"type": "Polygon", "coordinates": [
            [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0]],
            [[4.0, 4.0], [6.0, 4.0], [6.0, 6.0], [4.0, 6.0], [4.0, 4.0]]]}))
        .unwrap();
        assert!(!holed.overlaps(&sq(4.0, 4.0, 2.0)));
        assert!(holed.overlaps(&sq(3.0, 3.0, 2.0)));
    }

    proptest! {
        /// Any axis-aligned rectangle is valid; its centre is inside, a point beyond it outside.
        #[test]
        fn rectangles(x in -179.0f64..179.0, y in -89.0f64..89.0, w in 0.0001f64..0.9, h in 0.0001f64..0.9) {
            let v = json!({"type": "Polygon", "coordinates": [[[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]]});
            let b = Boundary::from_geojson(&v).unwrap();
            prop_assert_eq!(b.locate([x + w / 2.0, y + h / 2.0]), Location::Inside);
            prop_assert_eq!(b.locate([x + w * 1.5, y + h / 2.0]), Location::Outside);
            prop_assert_eq!(b.locate([x, y + h / 2.0]), Location::OnBoundary);
        }

        /// Parsing arbitrary JSON shapes never panics.
        #[test]
        fn parse_total(coords in proptest::collection::vec(proptest::collection::vec((-200.0f64..200.0, -100.0f64..100.0), 0..8), 0..3)) {
            let rings: Vec<Vec<[f64; 2]>> = coords.iter().map(|r| r.iter().map(|&(a, b)| [a, b]).collect()).collect();
            let _ = Boundary::from_geojson(&json!({"type": "Polygon", "coordinates": rings}));
        }
    }
}
