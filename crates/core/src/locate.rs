//! In-memory spatial index of grid boundaries: which grid holds a point, and which grid is
//! nearest when none does.

use crate::geo::{Boundary, Location, Pt, metres_to_degrees};
use rstar::{AABB, RTree, RTreeObject};

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    env: AABB<Pt>,
    slot: u32,
    poly: u32,
}

impl RTreeObject for Entry {
    type Envelope = AABB<Pt>;
    fn envelope(&self) -> Self::Envelope {
        self.env
    }
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq)]
pub enum Found<'a, K> {
    /// The point lies in (or on the edge of) this grid.
    Inside(&'a K),
    /// No grid holds the point; this one is the closest within the allowed distance.
    Nearest(&'a K, f64),
    /// Nothing within the allowed distance.
    Nothing,
}

/// Grid boundaries keyed by `K` (the grid code).
pub struct GridIndex<K> {
    tree: RTree<Entry>,
    slots: Vec<Option<(K, Boundary)>>,
}

impl<K: Ord + Clone> Default for GridIndex<K> {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl<K: Ord + Clone> GridIndex<K> {
    /// Bulk-loads the index (much faster than inserting one by one).
    pub fn new(grids: Vec<(K, Boundary)>) -> Self {
        let entries = grids
            .iter()
            .enumerate()
            .flat_map(|(i, (_, b))| entries(i as u32, b))
            .collect();
        GridIndex {
            tree: RTree::bulk_load(entries),
            slots: grids.into_iter().map(Some).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sets (or replaces) the boundary of grid `key`.
    pub fn upsert(&mut self, key: K, boundary: Boundary) {
        self.remove(&key);
        let slot = match self.slots.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        for e in entries(slot as u32, &boundary) {
            self.tree.insert(e);
        }
        self.slots[slot] = Some((key, boundary));
    }

    pub fn remove(&mut self, key: &K) {
        if let Some(i) = self
            .slots
            .iter()
            .position(|s| s.as_ref().is_some_and(|(k, _)| k == key))
        {
            let (_, b) = self.slots[i].take().expect("slot is occupied");
            for e in entries(i as u32, &b) {
                self.tree.remove(&e);
            }
        }
    }

    /// The grid holding `pt`. A point inside a grid wins over one on an edge; among equals
    /// (a shared edge or vertex) the smallest key wins, so the answer is deterministic.
    pub fn locate(&self, pt: Pt) -> Option<&K> {
        let mut best: Option<(bool, &K)> = None;
        for e in self
            .tree
            .locate_in_envelope_intersecting(&AABB::from_point(pt))
        {
            let (key, b) = self.slots[e.slot as usize].as_ref().expect("indexed slot");
            let loc = b.polygons[e.poly as usize].locate(pt);
            let inside = match loc {
                Location::Outside => continue,
                Location::Inside => true,
                Location::OnBoundary => false,
            };
            let better = match best {
                None => true,
                Some((bi, bk)) => (inside && !bi) || (inside == bi && key < bk),
            };
            if better {
                best = Some((inside, key));
            }
        }
        best.map(|(_, k)| k)
    }

    /// `locate`, falling back to the nearest grid within `max_m` metres.
    pub fn find(&self, pt: Pt, max_m: f64) -> Found<'_, K> {
        if let Some(k) = self.locate(pt) {
            return Found::Inside(k);
        }
        if max_m <= 0.0 {
            return Found::Nothing;
        }
        let (dlon, dlat) = metres_to_degrees(max_m, pt[1]);
        let search = AABB::from_corners([pt[0] - dlon, pt[1] - dlat], [pt[0] + dlon, pt[1] + dlat]);
        let mut best: Option<(f64, &K)> = None;
        for e in self.tree.locate_in_envelope_intersecting(&search) {
            let (key, b) = self.slots[e.slot as usize].as_ref().expect("indexed slot");
            let d = b.polygons[e.poly as usize].distance_m(pt);
            if d <= max_m && best.is_none_or(|(bd, bk)| d < bd || (d == bd && key < bk)) {
                best = Some((d, key));
            }
        }
        match best {
            Some((d, k)) => Found::Nearest(k, d),
            None => Found::Nothing,
        }
    }
}

impl<K: Ord + Clone> GridIndex<K> {
    /// The first grid (by key) other than `except` whose area `boundary` would share.
    pub fn overlapping(&self, boundary: &Boundary, except: Option<&K>) -> Option<&K> {
        let [x0, y0, x1, y1] = boundary.bbox();
        let mut hits: Vec<&K> = self
            .tree
            .locate_in_envelope_intersecting(&AABB::from_corners([x0, y0], [x1, y1]))
            .filter_map(|e| self.slots[e.slot as usize].as_ref())
            .filter(|(k, b)| Some(k) != except && b.overlaps(boundary))
            .map(|(k, _)| k)
            .collect();
        hits.sort();
        hits.first().copied()
    }
}

fn entries(slot: u32, b: &Boundary) -> Vec<Entry> {
    b.polygons
        .iter()
        .enumerate()
        .map(|(pi, p)| {
            let [x0, y0, x1, y1] = p.bbox();
            Entry {
                env: AABB::from_corners([x0, y0], [x1, y1]),
                slot,
                poly: pi as u32,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(x: f64, y: f64) -> Boundary {
        Boundary::from_rings(vec![vec![vec![
            [x, y],
            [x + 1.0, y],
            [x + 1.0, y + 1.0],
            [x, y + 1.0],
        ]]])
        .unwrap()
    }

    #[test]
    fn locate_shared_edges_and_nearest() {
        let mut idx = GridIndex::new(vec![
            ("b".to_string(), cell(1.0, 0.0)),
            ("a".to_string(), cell(0.0, 0.0)),
        ]);
        assert_eq!(idx.locate([0.5, 0.5]).map(String::as_str), Some("a"));
        assert_eq!(idx.locate([1.5, 0.5]).map(String::as_str), Some("b"));
        // Shared edge and shared vertex: the smaller code, every time.
        assert_eq!(idx.locate([1.0, 0.5]).map(String::as_str), Some("a"));
        assert_eq!(idx.locate([1.0, 1.0]).map(String::as_str), Some("a"));
        assert_eq!(idx.locate([3.0, 0.5]), None);
        match idx.find([2.0001, 0.5], 100.0) {
            Found::Nearest(k, d) => {
                assert_eq!(k, "b");
                assert!(d > 5.0 && d < 20.0, "{d}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(idx.find([2.1, 0.5], 100.0), Found::Nothing);
        // Moving a boundary moves the answer.
        idx.upsert("b".to_string(), cell(5.0, 0.0));
        assert_eq!(idx.locate([1.5, 0.5]), None);
        assert_eq!(idx.locate([5.5, 0.5]).map(String::as_str), Some("b"));
        assert_eq!(idx.len(), 2);
        assert_eq!(
            idx.overlapping(&cell(0.5, 0.0), None).map(String::as_str),
            Some("a")
        );
        assert_eq!(
            idx.overlapping(&cell(0.5, 0.0), Some(&"a".to_string())),
            None
        );
        assert_eq!(
            idx.overlapping(&cell(1.0, 0.0), None),
            None,
            "touching a's edge"
        );
        idx.remove(&"a".to_string());
        assert_eq!(idx.locate([0.5, 0.5]), None);
        assert_eq!(idx.len(), 1);
    }
}
