//! Chinese address parsing (DOMAIN.md §7): free text → 省 / 市 / 县区 / 乡镇街道 / 社区村 /
//! 街路巷 · 小区 / 门牌号 / 楼栋 / 单元 / 户室, with a confidence score.
//!
//! A [`Gazetteer`] holds the division names of the city (full names and their short forms:
//! 聊城市 → 聊城, 古楼街道 → 古楼, 王庄村委会 → 王庄村 / 王庄) in a character trie. Parsing
//! normalises the text (full-width → half-width, punctuation → one space), walks the trie
//! from each position taking the longest name that fits under what was found so far, and
//! reads the rest as road, number, building, unit and room. Missing levels are filled from a
//! deeper match's code, so "古城社区光明路 5 号" still yields its county and township.

use crate::area::Level;

/// One division: its significant code (2/4/6/9/12 digits) and full name.
#[derive(Debug, Clone)]
struct Entry {
    code: String,
    name: String,
    level: Level,
}

#[derive(Debug, Clone, Copy)]
struct Hit {
    entry: u32,
    /// A short form (suffix removed): must not run on into a road name (古楼 in 古楼东路).
    short: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct Node {
    edges: (u32, u32),
    hits: (u32, u32),
}

/// The division names of a city, ready for parsing.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    entries: Vec<Entry>,
    /// code → entry.
    by_code: std::collections::HashMap<String, u32>,
    /// Dense id of each CJK character that occurs in a name (0: none).
    char_ids: Vec<u16>,
    /// Root child per character id.
    root: Vec<u32>,
    nodes: Vec<Node>,
    edges: Vec<(u16, u32)>,
    hits: Vec<Hit>,
}

const CJK_START: u32 = 0x4E00;
const CJK_END: u32 = 0xA000;

/// Suffixes removed to make short forms, per level (longest first).
fn short_forms(level: Level, name: &str) -> Vec<String> {
    let strip: &[&str] = match level {
        Level::Province => &[
            "维吾尔自治区",
            "壮族自治区",
            "回族自治区",
            "自治区",
            "省",
            "市",
        ],
        Level::City => &["市", "地区", "盟"],
        Level::County => &["自治县", "区", "县", "市", "旗"],
        Level::Township => &["街道办事处", "街道", "镇", "乡"],
        _ => &[
            "社区居民委员会",
            "居民委员会",
            "村民委员会",
            "社区居委会",
            "居委会",
            "村委会",
        ],
    };
    let mut out = Vec::new();
    for s in strip {
        if let Some(base) = name.strip_suffix(s) {
            match (level, *s) {
                (Level::Village, "社区居民委员会" | "社区居委会") => {
                    out.push(format!("{base}社区"));
                    out.push(base.to_owned());
                }
                (Level::Village, "村民委员会" | "村委会") => {
                    out.push(format!("{base}村"));
                    out.push(base.to_owned());
                    if let Some(b) = base.strip_suffix('村') {
                        out.push(b.to_owned());
                    }
                }
                (Level::Township, _) => {
                    out.push(base.to_owned());
                    out.push(format!("{base}街道办事处"));
                    out.push(format!("{base}办事处"));
                }
                _ => out.push(base.to_owned()),
            }
            break;
        }
    }
    out.retain(|s| s.chars().count() >= 2 && s != name);
    out
}

/// Characters that continue a road or place name: a short form followed by one of these is
/// part of that name, not a division (柳园路, 古楼东街).
const ROAD_NEXT: &str = "路街巷道大东西南北中桥小花园广";

impl Gazetteer {
    /// Builds the gazetteer from `(code, full name)` pairs (codes in significant form).
    pub fn new<'a>(divisions: impl IntoIterator<Item = (&'a str, &'a str)>) -> Gazetteer {
        let mut entries = Vec::new();
        let mut names: Vec<(Vec<char>, Hit)> = Vec::new();
        for (code, name) in divisions {
            let Some(level) = Level::from_code_len(code.len()).filter(|l| l.depth() <= 4) else {
                continue;
            };
            let entry = entries.len() as u32;
            entries.push(Entry {
                code: code.to_owned(),
                name: name.to_owned(),
                level,
            });
            names.push((
                name.chars().collect(),
                Hit {
                    entry,
                    short: false,
                },
            ));
            for s in short_forms(level, name) {
                names.push((s.chars().collect(), Hit { entry, short: true }));
            }
        }
        let mut char_ids = vec![0u16; (CJK_END - CJK_START) as usize];
        let mut next_id = 1u16;
        names.retain(|(cs, _)| {
            cs.iter()
                .all(|&c| (CJK_START..CJK_END).contains(&(c as u32)))
        });
        for (cs, _) in &names {
            for &c in cs {
                let slot = &mut char_ids[(c as u32 - CJK_START) as usize];
                if *slot == 0 {
                    *slot = next_id;
                    next_id += 1;
                }
            }
        }
        // Build with maps, then flatten.
        let mut children: Vec<std::collections::BTreeMap<u16, u32>> = vec![Default::default()];
        let mut node_hits: Vec<Vec<Hit>> = vec![vec![]];
        for (cs, hit) in &names {
            let mut n = 0usize;
            for &c in cs {
                let id = char_ids[(c as u32 - CJK_START) as usize];
                n = match children[n].get(&id) {
                    Some(&m) => m as usize,
                    None => {
                        let m = children.len();
                        children.push(Default::default());
                        node_hits.push(vec![]);
                        children[n].insert(id, m as u32);
                        m
                    }
                };
            }
            node_hits[n].push(*hit);
        }
        let mut root = vec![0u32; next_id as usize];
        for (&id, &m) in &children[0] {
            root[id as usize] = m;
        }
        let mut nodes = Vec::with_capacity(children.len());
        let (mut edges, mut hits) = (Vec::new(), Vec::new());
        for (ch, hs) in children.iter().zip(&node_hits) {
            let e0 = edges.len() as u32;
            edges.extend(ch.iter().map(|(&k, &v)| (k, v)));
            let h0 = hits.len() as u32;
            hits.extend(hs.iter().copied());
            nodes.push(Node {
                edges: (e0, edges.len() as u32),
                hits: (h0, hits.len() as u32),
            });
        }
        Gazetteer {
            by_code: entries
                .iter()
                .enumerate()
                .map(|(i, e)| (e.code.clone(), i as u32))
                .collect(),
            entries,
            char_ids,
            root,
            nodes,
            edges,
            hits,
        }
    }

    /// Number of divisions held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every division as (code, full name).
    pub fn divisions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|e| (e.code.as_str(), e.name.as_str()))
    }

    /// The full name of a division code, when held.
    pub fn name_of(&self, code: &str) -> Option<&str> {
        self.by_code
            .get(code)
            .map(|&i| self.entries[i as usize].name.as_str())
    }

    /// Short forms of a full name at a level (聊城市 → [聊城]).
    pub fn short_names(level: Level, name: &str) -> Vec<String> {
        short_forms(level, name)
    }

    fn char_id(&self, c: char) -> u16 {
        let u = c as u32;
        if (CJK_START..CJK_END).contains(&u) {
            self.char_ids[(u - CJK_START) as usize]
        } else {
            0
        }
    }

    fn step(&self, node: u32, id: u16) -> Option<u32> {
        if node == 0 {
            return self.root.get(id as usize).copied().filter(|&m| m != 0);
        }
        let (a, b) = self.nodes[node as usize].edges;
        let es = &self.edges[a as usize..b as usize];
        es.binary_search_by_key(&id, |e| e.0).ok().map(|i| es[i].1)
    }

    /// Parses free text. Never fails: what it cannot place stays in `rest`.
    pub fn parse(&self, text: &str) -> ParsedAddress {
        let cs = normalise(text);
        let mut p = ParsedAddress::default();
        let mut ctx: Option<u32> = None;
        let mut ambiguous = false;
        let mut explicit = [false; 5];
        let mut i = 0;
        let mut tail_from = 0;
        while i < cs.len() {
            if cs[i].is_ascii_digit()
                || ctx.is_some_and(|e| self.entries[e as usize].level == Level::Village)
            {
                break;
            }
            match self.longest(&cs, i, ctx) {
                Some((end, pick)) => {
                    match pick {
                        Pick::One(e) => {
                            ctx = Some(e);
                            explicit[self.entries[e as usize].level.depth()] = true;
                        }
                        Pick::Many => ambiguous = true,
                    }
                    i = end;
                    tail_from = end;
                }
                None => i += 1,
            }
        }
        if let Some(e) = ctx {
            let code = &self.entries[e as usize].code;
            let at = |n: usize| (code.len() >= n).then(|| code[..n].to_owned());
            p.province = at(2);
            p.city = at(4);
            p.county = at(6);
            p.township = at(9);
            p.village = at(12);
        }
        // No division named at all: the text is all street.
        let mut tail = &cs[tail_from..];
        while let [' ', rest @ ..] = tail {
            tail = rest;
        }
        parse_street(tail, &mut p);
        // Confidence: what was named (not inferred), less for ambiguity and leftovers.
        let weights = [0.05, 0.1, 0.2, 0.2, 0.25];
        let mut c: f32 = explicit
            .iter()
            .zip(weights)
            .filter(|(e, _)| **e)
            .map(|(_, w)| w)
            .sum();
        // A deeper level named implies the ones above it.
        if let Some(d) = explicit.iter().rposition(|&e| e) {
            c = c.max(weights[..=d].iter().sum::<f32>() * 0.9);
        }
        if p.road.is_some() || p.place.is_some() {
            c += 0.1;
        }
        if p.number.is_some() || p.building.is_some() {
            c += 0.1;
        }
        if ambiguous {
            c *= 0.7;
        }
        if !p.rest.is_empty() {
            c *= 0.9;
        }
        p.confidence = c.min(1.0);
        p
    }

    /// The longest name starting at `i` with an entry that fits under `ctx`.
    fn longest(&self, cs: &[char], i: usize, ctx: Option<u32>) -> Option<(usize, Pick)> {
        let mut node = 0u32;
        let mut best = None;
        for (j, &c) in cs.iter().enumerate().skip(i) {
            let id = self.char_id(c);
            if id == 0 {
                break;
            }
            let Some(m) = self.step(node, id) else { break };
            node = m;
            let (a, b) = self.nodes[m as usize].hits;
            if a == b {
                continue;
            }
            let next = cs.get(j + 1).copied();
            if let Some(pick) = self.choose(&self.hits[a as usize..b as usize], ctx, next) {
                best = Some((j + 1, pick));
            }
        }
        best
    }

    /// Among the entries of one name, those below `ctx`; the shallowest level wins (a
    /// township and its seat village share a short name: the township comes first).
    fn choose(&self, hits: &[Hit], ctx: Option<u32>, next: Option<char>) -> Option<Pick> {
        let ctx = ctx.map(|e| &self.entries[e as usize]);
        let mut level = usize::MAX;
        let mut found: Option<u32> = None;
        let mut many = false;
        for h in hits {
            if h.short && next.is_some_and(|c| ROAD_NEXT.contains(c)) {
                continue;
            }
            let e = &self.entries[h.entry as usize];
            if let Some(x) = ctx
                && !(e.level > x.level && e.code.starts_with(&x.code))
            {
                continue;
            }
            let d = e.level.depth();
            if d < level {
                (level, found, many) = (d, Some(h.entry), false);
            } else if d == level && found != Some(h.entry) {
                many = true;
            }
        }
        found.map(|e| if many { Pick::Many } else { Pick::One(e) })
    }
}

enum Pick {
    One(u32),
    /// Several divisions share the name under the context: none is taken.
    Many,
}

/// The parsed parts. Division parts are significant codes; a level that was not named but
/// follows from a deeper one is filled in.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ParsedAddress {
    pub province: Option<String>,
    pub city: Option<String>,
    pub county: Option<String>,
    pub township: Option<String>,
    pub village: Option<String>,
    /// 街路巷
    pub road: Option<String>,
    /// 门牌号 (digits)
    pub number: Option<String>,
    /// 小区 / 自然村 / 单位院
    pub place: Option<String>,
    /// 楼栋
    pub building: Option<String>,
    pub unit: Option<String>,
    /// 户室
    pub room: Option<String>,
    /// Text that could not be placed.
    pub rest: String,
    /// 0–1.
    pub confidence: f32,
}

impl ParsedAddress {
    /// The deepest division found.
    pub fn area(&self) -> Option<&str> {
        self.village
            .as_deref()
            .or(self.township.as_deref())
            .or(self.county.as_deref())
            .or(self.city.as_deref())
            .or(self.province.as_deref())
    }

    /// The street part as one normalised key: 光明路|12|幸福小区|3|2|301.
    pub fn street_key(&self) -> String {
        let f = |o: &Option<String>| o.as_deref().unwrap_or("").to_owned();
        [
            f(&self.road),
            f(&self.number),
            f(&self.place),
            f(&self.building),
            f(&self.unit),
            f(&self.room),
        ]
        .join("|")
    }
}

/// Full-width → half-width; punctuation and spaces → one space; `#` → 号.
fn normalise(text: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut space = false;
    for c in text.chars() {
        let c = match c as u32 {
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(' '),
            0x3000 => ' ',
            _ => c,
        };
        let c = match c {
            '#' => '号',
            '－' | '—' | '–' | '_' => '-',
            // CJK first: `is_alphanumeric` takes a slow table path for them.
            '\u{4e00}'..='\u{9fff}' => c,
            c if c.is_ascii_alphanumeric() || c == '-' || c.is_alphanumeric() => c,
            _ => ' ',
        };
        if c == ' ' {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c.to_ascii_uppercase());
    }
    out
}

const ROAD_SUFFIX: [&str; 9] = ["大道", "大街", "胡同", "路", "街", "巷", "道", "弄", "里"];
const PLACE_SUFFIX: [&str; 14] = [
    "小区", "花园", "家园", "公寓", "大厦", "广场", "新村", "庄园", "苑", "院", "城", "园", "村",
    "庄",
];

fn chinese_digit(c: char) -> Option<u32> {
    "〇一二三四五六七八九十"
        .chars()
        .position(|d| d == c)
        .map(|p| p as u32)
}

/// Road, number, place, building, unit and room from the text after the divisions.
fn parse_street(cs: &[char], p: &mut ParsedAddress) {
    let mut i = 0;
    let mut rest = String::new();
    let mut loose: Vec<String> = Vec::new();
    while i < cs.len() {
        let c = cs[i];
        if c == ' ' || c == '-' {
            i += 1;
            continue;
        }
        // A number: ASCII digits, or a short Chinese numeral before 单元/栋/号楼/楼.
        let (num, end) = if c.is_ascii_digit() {
            let e = cs[i..]
                .iter()
                .position(|c| !c.is_ascii_digit())
                .map_or(cs.len(), |k| i + k);
            (Some(cs[i..e].iter().collect::<String>()), e)
        } else if chinese_digit(c).is_some() {
            let e = cs[i..]
                .iter()
                .position(|c| chinese_digit(*c).is_none())
                .map_or(cs.len(), |k| i + k);
            if e - i <= 2
                && ["单元", "号楼", "栋", "幢", "座"]
                    .iter()
                    .any(|s| starts(cs, e, s))
            {
                let v = cs[i..e].iter().fold(0u32, |acc, &d| {
                    let x = chinese_digit(d).unwrap_or(0);
                    if x == 10 {
                        acc.max(1) * 10
                    } else {
                        acc - acc % 10 + x
                    }
                });
                (Some(v.to_string()), e)
            } else {
                (None, i)
            }
        } else {
            (None, i)
        };
        if let Some(n) = num {
            let after = |s: &str| starts(cs, end, s);
            let (slot, len) = if after("号楼") {
                (&mut p.building, 2)
            } else if after("单元") {
                (&mut p.unit, 2)
            } else if after("号院") {
                (&mut p.number, 2)
            } else if after("栋") || after("幢") || after("座") {
                (&mut p.building, 1)
            } else if after("室") || after("户") {
                (&mut p.room, 1)
            } else if after("号") {
                if p.number.is_some() && p.building.is_none() {
                    (&mut p.building, 1)
                } else if p.number.is_some() {
                    (&mut p.room, 1)
                } else {
                    (&mut p.number, 1)
                }
            } else if after("组") || after("层") {
                loose.push(format!("{n}{}", cs[end]));
                i = end + 1;
                continue;
            } else {
                // A bare number: the next free of building, unit, room (3-2-301), or the
                // house number when nothing came before.
                let slot = if p.number.is_none() && p.building.is_none() && p.road.is_some() {
                    &mut p.number
                } else if p.building.is_none() && p.unit.is_none() {
                    &mut p.building
                } else if p.unit.is_none() && p.room.is_none() {
                    &mut p.unit
                } else {
                    &mut p.room
                };
                (slot, 0)
            };
            if slot.is_none() {
                *slot = Some(n);
            } else {
                loose.push(n);
            }
            i = end + len;
            continue;
        }
        // A word: up to the next digit or space.
        let e = cs[i..]
            .iter()
            .position(|c| c.is_ascii_digit() || *c == ' ' || *c == '-')
            .map_or(cs.len(), |k| i + k);
        let mut word: String = cs[i..e].iter().collect();
        // A word may end in a Chinese numeral that belongs to the next part (七单元): leave it.
        let mut e = e;
        while let Some(last) = word.chars().last()
            && chinese_digit(last).is_some()
            && word.chars().count() > 1
        {
            let after: String = cs[e..cs.len().min(e + 2)].iter().collect();
            if ["单元", "号楼", "栋", "幢", "座"]
                .iter()
                .any(|s| after.starts_with(s))
                || chinese_digit(cs.get(e).copied().unwrap_or(' ')).is_some()
            {
                word.pop();
                e -= 1;
            } else {
                break;
            }
        }
        take_word(&word, p, &mut rest);
        i = e;
    }
    if !loose.is_empty() {
        if !rest.is_empty() {
            rest.push(' ');
        }
        rest.push_str(&loose.join(" "));
    }
    p.rest = rest;
}

/// Whether `cs[i..]` begins with `s`.
fn starts(cs: &[char], i: usize, s: &str) -> bool {
    let mut rest = cs.get(i..).unwrap_or(&[]).iter();
    s.chars().all(|c| rest.next() == Some(&c))
}

/// Files a word as road and/or place (光明路幸福小区 → both), or leaves it in `rest`.
fn take_word(word: &str, p: &mut ParsedAddress, rest: &mut String) {
    // Split after the last road suffix when a place follows.
    let mut cut = None;
    for (bi, _) in word.char_indices() {
        let tail = &word[bi..];
        if let Some(s) = ROAD_SUFFIX.iter().find(|s| tail.starts_with(**s)) {
            let end = bi + s.len();
            // 道 inside 街道 / 大道 handled by longest-first order; ignore a suffix at 0.
            if bi > 0 {
                cut = Some(end);
            }
        }
    }
    let (road, after) = match cut {
        Some(end) => (Some(&word[..end]), &word[end..]),
        None => (None, word),
    };
    if let Some(r) = road
        && p.road.is_none()
    {
        p.road = Some(r.to_owned());
    } else if let Some(r) = road {
        rest.push_str(r);
    }
    if after.is_empty() {
        return;
    }
    let placeish = PLACE_SUFFIX.iter().any(|s| after.ends_with(s)) && after.chars().count() >= 2;
    if placeish && p.place.is_none() {
        p.place = Some(after.to_owned());
    } else if p.road.is_none() && p.place.is_none() && after.chars().count() >= 2 && road.is_none()
    {
        // An unmarked name before a number is usually the place (小区 or 自然村).
        p.place = Some(after.to_owned());
    } else {
        if !rest.is_empty() {
            rest.push(' ');
        }
        rest.push_str(after);
    }
}

/// Labelled addresses for measuring the parser: each village of `gaz` written in several
/// styles real people use (full, without province, short names, missing township, noisy
/// punctuation, full-width digits). Returns (text, village code).
pub fn labelled_samples(gaz: &Gazetteer, per_village: usize, seed: u64) -> Vec<(String, String)> {
    let by_code: std::collections::HashMap<&str, &Entry> =
        gaz.entries.iter().map(|e| (e.code.as_str(), e)).collect();
    let short = |e: &Entry| {
        short_forms(e.level, &e.name)
            .into_iter()
            .next()
            .unwrap_or_else(|| e.name.clone())
    };
    let roads = [
        "光明路",
        "建设路",
        "东昌路",
        "柳园南路",
        "兴华西路",
        "振兴街",
        "育新街",
        "利民巷",
    ];
    let places = [
        "幸福小区",
        "阳光花园",
        "金色家园",
        "水城明珠",
        "东方苑",
        "李家庄",
    ];
    let mut out = Vec::new();
    let mut x = seed | 1;
    let mut rnd = |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    for v in gaz.entries.iter().filter(|e| e.level == Level::Village) {
        let up = |n: usize| by_code.get(&v.code[..n]).copied();
        let (Some(pr), Some(ci), Some(co), Some(tw)) = (up(2), up(4), up(6), up(9)) else {
            continue;
        };
        for _ in 0..per_village {
            let road = roads[rnd(roads.len())];
            let n = 1 + rnd(300);
            let street = match rnd(4) {
                0 => format!("{road}{n}号"),
                1 => format!(
                    "{road}{n}号{}号楼{}单元{}室",
                    1 + rnd(30),
                    1 + rnd(6),
                    101 + rnd(1800)
                ),
                2 => format!(
                    "{}{}-{}-{}",
                    places[rnd(places.len())],
                    1 + rnd(30),
                    1 + rnd(6),
                    101 + rnd(1800)
                ),
                _ => format!("{}{}组{}号", places[rnd(places.len())], 1 + rnd(12), n),
            };
            let vs = short(v);
            let text = match rnd(8) {
                0 => format!(
                    "{}{}{}{}{}{street}",
                    pr.name, ci.name, co.name, tw.name, v.name
                ),
                1 => format!("{}{}{}{}{street}", ci.name, co.name, tw.name, v.name),
                2 => format!("{}{}{}{vs}{street}", short(ci), short(co), short(tw)),
                3 => format!("{}{}{vs}{street}", co.name, tw.name),
                4 => format!(
                    "{} {}，{} {}（{street}）",
                    pr.name,
                    ci.name,
                    co.name,
                    format_args!("{}{}", tw.name, vs)
                ),
                5 => format!(
                    "{}{}{}{vs}{}",
                    short(pr),
                    short(ci),
                    tw.name,
                    to_fullwidth(&street)
                ),
                6 => format!("住址：{}{}{}{street}", short(co), short(tw), v.name),
                _ => format!("{}{}{street}", co.name, vs),
            };
            out.push((text, v.code.clone()));
        }
    }
    out
}

fn to_fullwidth(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_digit() || c == '-' {
                char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn gaz() -> Gazetteer {
        Gazetteer::new([
            ("37", "山东省"),
            ("3715", "聊城市"),
            ("371502", "东昌府区"),
            ("371503", "茌平区"),
            ("371521", "阳谷县"),
            ("371502001", "古楼街道"),
            ("371502002", "柳园街道"),
            ("371502101", "侯营镇"),
            ("371503001", "振兴街道"),
            ("371502001001", "古城社区居委会"),
            ("371502001002", "湖南社区居委会"),
            ("371502101201", "侯营村委会"),
            ("371502101202", "王庄村民委员会"),
            ("371503001201", "王庄村委会"),
            ("371521001201", "古城村委会"),
        ])
    }

    #[test]
    fn full_address() {
        let p = gaz().parse("山东省聊城市东昌府区古楼街道古城社区居委会光明路12号3号楼2单元301室");
        assert_eq!(p.village.as_deref(), Some("371502001001"));
        assert_eq!(p.county.as_deref(), Some("371502"));
        assert_eq!(p.road.as_deref(), Some("光明路"));
        assert_eq!(p.number.as_deref(), Some("12"));
        assert_eq!(p.building.as_deref(), Some("3"));
        assert_eq!(p.unit.as_deref(), Some("2"));
        assert_eq!(p.room.as_deref(), Some("301"));
        assert_eq!(p.rest, "");
        assert!(p.confidence > 0.9, "{}", p.confidence);
    }

    #[test]
    fn short_names_and_missing_levels() {
        let g = gaz();
        let p = g.parse("聊城东昌府古楼古城社区幸福小区3-2-301");
        assert_eq!(p.village.as_deref(), Some("371502001001"));
        assert_eq!(p.place.as_deref(), Some("幸福小区"));
        assert_eq!(
            (p.building.as_deref(), p.unit.as_deref(), p.room.as_deref()),
            (Some("3"), Some("2"), Some("301"))
        );
        // Only the community: county and township follow from its code.
        let p = g.parse("湖南社区光明路5号");
        assert_eq!(p.township.as_deref(), Some("371502001"));
        assert_eq!(p.city.as_deref(), Some("3715"));
        assert_eq!(p.number.as_deref(), Some("5"));
        // 王庄 exists in two counties: without a county it is ambiguous …
        let p = g.parse("王庄村5号");
        assert_eq!(p.village, None);
        // … with one it is not.
        assert_eq!(
            g.parse("茌平王庄村5号").village.as_deref(),
            Some("371503001201")
        );
        // A township and its seat village share 侯营: the township first, then the village.
        let p = g.parse("东昌府区侯营镇侯营村3组");
        assert_eq!(p.village.as_deref(), Some("371502101201"));
        assert_eq!(p.rest, "3组");
    }

    #[test]
    fn road_named_like_a_division_is_a_road() {
        let p = gaz().parse("东昌府区柳园路88号");
        assert_eq!(p.township, None);
        assert_eq!(p.road.as_deref(), Some("柳园路"));
        assert_eq!(p.number.as_deref(), Some("88"));
    }

    #[test]
    fn noise_and_full_width() {
        let p =
            gaz().parse("  山东 聊城，东昌府区 古楼街道 古城社区（光明路１２号３栋二单元５０１）");
        assert_eq!(p.village.as_deref(), Some("371502001001"));
        assert_eq!(p.number.as_deref(), Some("12"));
        assert_eq!(p.building.as_deref(), Some("3"));
        assert_eq!(p.unit.as_deref(), Some("2"));
        assert_eq!(p.room.as_deref(), Some("501"));
    }

    #[test]
    fn samples_parse_back() {
        let g = gaz();
        let s = labelled_samples(&g, 20, 7);
        assert!(s.len() >= 100);
        let ok = s
            .iter()
            .filter(|(t, code)| g.parse(t).county.as_deref() == Some(&code[..6]))
            .count();
        assert!(ok * 100 >= s.len() * 95, "{ok}/{}", s.len());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,60}") {
            let p = gaz().parse(&s);
            prop_assert!((0.0..=1.0).contains(&p.confidence));
        }

        #[test]
        fn noise_does_not_move_the_county(pre in "[ ，,。]{0,3}", mid in "[ 、]{0,2}") {
            let g = gaz();
            let p = g.parse(&format!("{pre}聊城市{mid}东昌府区{mid}古楼街道{mid}古城社区{mid}光明路3号"));
            prop_assert_eq!(p.village.as_deref(), Some("371502001001"));
        }
    }
}

#[cfg(test)]
mod liaocheng {
    //! The parser over the real divisions of 聊城市 (the demo city's fixtures).
    use super::*;

    pub(crate) fn gazetteer() -> Gazetteer {
        let files = [
            include_str!("../../server/fixtures/liaocheng/provinces.csv"),
            include_str!("../../server/fixtures/liaocheng/cities.csv"),
            include_str!("../../server/fixtures/liaocheng/areas.csv"),
            include_str!("../../server/fixtures/liaocheng/streets.csv"),
            include_str!("../../server/fixtures/liaocheng/villages.csv"),
        ];
        let rows: Vec<(String, String)> = files
            .iter()
            .flat_map(|f| f.lines().skip(1))
            .filter_map(|l| {
                let mut it = l.split(',');
                Some((
                    it.next()?.to_owned(),
                    it.next()?.trim_matches('"').to_owned(),
                ))
            })
            .collect();
        Gazetteer::new(rows.iter().map(|(c, n)| (c.as_str(), n.as_str())))
    }

    #[test]
    fn labelled_set_accuracy() {
        let g = gazetteer();
        assert!(g.len() > 2500);
        let s = labelled_samples(&g, 4, 42);
        let (mut county, mut town, mut village) = (0, 0, 0);
        for (t, code) in &s {
            let p = g.parse(t);
            county += (p.county.as_deref() == Some(&code[..6])) as usize;
            town += (p.township.as_deref() == Some(&code[..9])) as usize;
            village += (p.village.as_deref() == Some(code.as_str())) as usize;
        }
        let pct = |n: usize| n as f64 * 100.0 / s.len() as f64;
        println!(
            "{} samples: county {:.2} % township {:.2} % village {:.2} %",
            s.len(),
            pct(county),
            pct(town),
            pct(village)
        );
        assert!(pct(county) >= 99.0);
        assert!(pct(town) >= 90.0);
    }

    #[test]
    fn real_style_addresses() {
        let g = gazetteer();
        let cases = [
            (
                "山东省聊城市东昌府区古楼街道古城社区居委会光明路12号",
                "371502001001",
            ),
            ("聊城市茌平区振兴街道", "371503001"),
            ("阳谷县阿城镇", "371521"),
            ("临清市青年路街道", "371581"),
        ];
        for (t, want) in cases {
            let p = g.parse(t);
            assert!(p.area().is_some_and(|a| a.starts_with(want)), "{t}: {p:?}");
        }
    }
}
