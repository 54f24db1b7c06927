//! Synthetic grid layouts for the demo city and the benchmarks: a jittered lattice cut into
//! rectangles of cells. Neighbouring blocks share every lattice point on their common edge,
//! so the polygons tile the plane with no overlap and no gap.

use crate::geo::{Boundary, Pt};

/// Cells `[x0, x1) × [y0, y1)` of a lattice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x0: i64,
    pub y0: i64,
    pub x1: i64,
    pub y1: i64,
}

impl Rect {
    pub fn area(&self) -> i64 {
        (self.x1 - self.x0) * (self.y1 - self.y0)
    }
}

/// A lattice of points placed from `origin` by `cell` degrees, each moved by a deterministic
/// jitter of at most `jitter` × cell (keep it below 0.25 so cells stay simple).
#[derive(Debug, Clone, Copy)]
pub struct Lattice {
    pub origin: Pt,
    pub cell: (f64, f64),
    pub jitter: f64,
    pub seed: u64,
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Deterministic value in [-1, 1).
pub fn noise(seed: u64, a: i64, b: i64) -> f64 {
    let h = splitmix(seed ^ splitmix(a as u64 ^ splitmix(b as u64)));
    (h >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

impl Lattice {
    pub fn point(&self, i: i64, j: i64) -> Pt {
        let jx = noise(self.seed, i, j) * self.jitter;
        let jy = noise(self.seed.wrapping_add(1), i, j) * self.jitter;
        // Rounded to 1e-7° (about 1 cm), as surveyed coordinates are.
        let r = |v: f64| (v * 1e7).round() / 1e7;
        [
            r(self.origin[0] + (i as f64 + jx) * self.cell.0),
            r(self.origin[1] + (j as f64 + jy) * self.cell.1),
        ]
    }

    /// The outline of a block of cells, through every lattice point on its edge.
    pub fn block(&self, r: Rect) -> Boundary {
        let mut ring = Vec::with_capacity(2 * ((r.x1 - r.x0) + (r.y1 - r.y0)) as usize + 1);
        ring.extend((r.x0..r.x1).map(|i| self.point(i, r.y0)));
        ring.extend((r.y0..r.y1).map(|j| self.point(r.x1, j)));
        ring.extend((r.x0 + 1..=r.x1).rev().map(|i| self.point(i, r.y1)));
        ring.extend((r.y0 + 1..=r.y1).rev().map(|j| self.point(r.x0, j)));
        Boundary::from_rings(vec![vec![ring]]).expect("lattice blocks are simple polygons")
    }
}

/// Splits `rect` into one block per weight, each roughly proportional to its weight, in
/// order. Returns `None` when the rectangle has too few cells.
pub fn treemap(rect: Rect, weights: &[u64]) -> Option<Vec<Rect>> {
    if weights.is_empty() {
        return Some(vec![]);
    }
    if (rect.area() as u64) < weights.len() as u64 {
        return None;
    }
    if weights.len() == 1 {
        return Some(vec![rect]);
    }
    let total: u64 = weights.iter().sum::<u64>().max(1);
    // The split point nearest half of the weight.
    let mut acc = 0;
    let mut k = 1;
    let mut best = u64::MAX;
    for (i, w) in weights[..weights.len() - 1].iter().enumerate() {
        acc += w;
        let d = acc.abs_diff(total - acc);
        if d < best {
            best = d;
            k = i + 1;
        }
    }
    let left: u64 = weights[..k].iter().sum();
    let (w, h) = (rect.x1 - rect.x0, rect.y1 - rect.y0);
    let vertical = w >= h;
    let len = if vertical { w } else { h };
    let mut tries = Vec::new();
    let ideal = ((len as f64) * left as f64 / total as f64).round() as i64;
    tries.push(ideal.clamp(1, len - 1));
    tries.extend(1..len);
    for cut in tries {
        let (a, b) = if vertical {
            (
                Rect {
                    x1: rect.x0 + cut,
                    ..rect
                },
                Rect {
                    x0: rect.x0 + cut,
                    ..rect
                },
            )
        } else {
            (
                Rect {
                    y1: rect.y0 + cut,
                    ..rect
                },
                Rect {
                    y0: rect.y0 + cut,
                    ..rect
                },
            )
        };
        if let (Some(mut l), Some(r)) = (treemap(a, &weights[..k]), treemap(b, &weights[k..])) {
            l.extend(r);
            return Some(l);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::Location;

    #[test]
    fn blocks_tile_without_overlap() {
        let lat = Lattice {
            origin: [116.0, 36.0],
            cell: (0.001, 0.001),
            jitter: 0.2,
            seed: 7,
        };
        let weights = [3, 1, 1, 2, 5, 1, 1];
        let rects = treemap(
            Rect {
                x0: 0,
                y0: 0,
                x1: 12,
                y1: 10,
            },
            &weights,
        )
        .unwrap();
        assert_eq!(rects.len(), weights.len());
        assert_eq!(rects.iter().map(Rect::area).sum::<i64>(), 120);
        let polys: Vec<Boundary> = rects.iter().map(|r| lat.block(*r)).collect();
        for (i, a) in polys.iter().enumerate() {
            for b in &polys[i + 1..] {
                assert!(!a.overlaps(b));
            }
        }
        // Every cell centre lies inside exactly one block.
        for i in 0..12 {
            for j in 0..10 {
                let c = {
                    let (a, b) = (lat.point(i, j), lat.point(i + 1, j + 1));
                    let (p, q) = (lat.point(i + 1, j), lat.point(i, j + 1));
                    [
                        (a[0] + b[0] + p[0] + q[0]) / 4.0,
                        (a[1] + b[1] + p[1] + q[1]) / 4.0,
                    ]
                };
                let n = polys
                    .iter()
                    .filter(|p| p.locate(c) == Location::Inside)
                    .count();
                assert_eq!(n, 1, "cell {i},{j}");
            }
        }
    }

    #[test]
    fn too_small() {
        assert!(
            treemap(
                Rect {
                    x0: 0,
                    y0: 0,
                    x1: 1,
                    y1: 2
                },
                &[1, 1, 1]
            )
            .is_none()
        );
        assert_eq!(
            treemap(
                Rect {
                    x0: 0,
                    y0: 0,
                    x1: 1,
                    y1: 3
                },
                &[1, 1, 1]
            )
            .unwrap()
            .len(),
            3
        );
    }
}
