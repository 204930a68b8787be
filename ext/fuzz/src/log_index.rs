//! The fact log's index against a reference model: the input bytes drive a
//! sequence of appends (a few stores and keys; fresh, repeated, upper-case and
//! plain-text ids; times that advance, tie, step back and include `-0.0`) and
//! lookups (latest with and without `as_of`, windows by `since`/`as_of`, a
//! store's facts, the latest fact of each key of a store in key order, by id,
//! the count). The model is a `Vec` of the appended facts, answered by scans:
//! every answer of the index must equal the model's.

use ledger_core::index::Index;

const STORES: [&str; 3] = ["tasks", "users", "t\u{e9}"];
const KEYS: [&str; 5] = ["a", "b", "c", "", "k\u{0}x"];
/// Bounds a lookup may use: ties with the appended times, the zeros, and
/// values between and beyond them.
const BOUNDS: [f64; 10] = [-0.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.25, 7.0, -3.0, 100.0];

/// One appended fact as the model keeps it.
struct Appended {
    store: &'static str,
    key: &'static str,
    id: String,
    tt: f64,
}

/// The bytes of the input, read one at a time (0 once they run out).
struct Bytes<'a>(std::slice::Iter<'a, u8>);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        self.0.next().copied().unwrap_or(0)
    }

    fn bound(&mut self) -> Option<f64> {
        match self.next() % 12 {
            n @ 0..=9 => Some(BOUNDS[n as usize]),
            _ => None,
        }
    }
}

struct Model {
    facts: Vec<Appended>,
    last_tt: f64,
    fresh: u32,
}

impl Model {
    fn in_bounds(tt: f64, since: Option<f64>, as_of: Option<f64>) -> bool {
        since.is_none_or(|s| tt >= s) && as_of.is_none_or(|a| tt <= a)
    }

    /// Positions of the facts `keep` selects, in append order.
    fn positions(&self, keep: impl Fn(&Appended) -> bool) -> Vec<u32> {
        (0..self.facts.len() as u32)
            .filter(|p| keep(&self.facts[*p as usize]))
            .collect()
    }

    fn latest(&self, store: &str, key: &str, as_of: Option<f64>) -> Option<u32> {
        self.positions(|f| f.store == store && f.key == key && Self::in_bounds(f.tt, None, as_of))
            .last()
            .copied()
    }

    /// The latest fact (at `as_of`) of every key of `store`, keys in the order
    /// they first appeared.
    fn latest_per_key(&self, store: &str, as_of: Option<f64>) -> Vec<u32> {
        let mut keys: Vec<&str> = Vec::new();
        for f in self.facts.iter().filter(|f| f.store == store) {
            if !keys.contains(&f.key) {
                keys.push(f.key);
            }
        }
        keys.iter()
            .filter_map(|k| self.latest(store, k, as_of))
            .collect()
    }

    fn by_id(&self, id: &str) -> Option<u32> {
        self.positions(|f| f.id == id).last().copied()
    }

    fn next_id(&mut self, input: &mut Bytes) -> String {
        self.fresh += 1;
        let n = self.fresh;
        match input.next() % 5 {
            0 | 1 => format!("{n:08x}-0000-4000-8000-{:012x}", u64::from(n) * 7919),
            2 => format!("{n:08X}-0000-4000-8000-{:012X}", u64::from(n) * 7919),
            3 => format!("id-{n}"),
            _ => match self.facts.len() {
                0 => format!("id-{n}"),
                len => self.facts[input.next() as usize % len].id.clone(),
            },
        }
    }

    fn next_tt(&mut self, input: &mut Bytes) -> f64 {
        let tt = match input.next() % 6 {
            0 | 1 => self.last_tt + f64::from(input.next() % 3) * 0.25,
            2 => self.last_tt - f64::from(input.next() % 5 + 1) * 0.5,
            3 => self.last_tt,
            4 => [-0.0, 0.0][usize::from(input.next() & 1)],
            _ => f64::from(input.next() % 16) / 2.0 - 2.0,
        };
        self.last_tt = tt;
        tt
    }
}

/// Runs the operations `data` encodes on an [`Index`] and on the model,
/// asserting that every lookup agrees.
pub fn check_log_index(data: &[u8]) {
    let mut input = Bytes(data.iter());
    let mut index = Index::default();
    let mut model = Model {
        facts: Vec::new(),
        last_tt: 0.0,
        fresh: 0,
    };
    while input.0.len() > 0 {
        let op = input.next();
        let store = STORES[input.next() as usize % STORES.len()];
        let key = KEYS[input.next() as usize % KEYS.len()];
        match op % 8 {
            0..=2 => {
                let id = model.next_id(&mut input);
                let tt = model.next_tt(&mut input);
                let pos = index.insert(store, key, &id, tt, None);
                assert_eq!(pos, Some(model.facts.len() as u32));
                model.facts.push(Appended { store, key, id, tt });
            }
            3 => {
                let as_of = input.bound();
                let got = index.key_timeline(store, key).and_then(|t| t.latest(as_of));
                assert_eq!(
                    got,
                    model.latest(store, key, as_of),
                    "latest {store}/{key} as_of {as_of:?}"
                );
            }
            4 => {
                let (since, as_of) = (input.bound(), input.bound());
                let timeline = index.key_timeline(store, key);
                let got = timeline.map(|t| t.select(since, as_of)).unwrap_or_default();
                let want = model.positions(|f| {
                    f.store == store && f.key == key && Model::in_bounds(f.tt, since, as_of)
                });
                assert_eq!(
                    got, want,
                    "history {store}/{key} since {since:?} as_of {as_of:?}"
                );
                if let Some(range) = timeline.and_then(|t| t.window(since, as_of)) {
                    assert_eq!(timeline.map(|t| &t.positions()[range]), Some(&want[..]));
                }
            }
            5 => {
                let (since, as_of) = (input.bound(), input.bound());
                let got = index
                    .store_timeline(store)
                    .map(|t| t.select(since, as_of))
                    .unwrap_or_default();
                let want =
                    model.positions(|f| f.store == store && Model::in_bounds(f.tt, since, as_of));
                assert_eq!(
                    got, want,
                    "facts of {store} since {since:?} as_of {as_of:?}"
                );
            }
            6 => {
                let as_of = input.bound();
                let got: Vec<u32> = index
                    .key_timelines(store)
                    .filter_map(|t| t.latest(as_of))
                    .collect();
                assert_eq!(
                    got,
                    model.latest_per_key(store, as_of),
                    "scope of {store} as_of {as_of:?}"
                );
            }
            _ => {
                let id = match model.facts.len() {
                    0 => "never-appended".to_string(),
                    len => model.facts[input.next() as usize % len].id.clone(),
                };
                assert_eq!(index.by_id(&id), model.by_id(&id), "by id {id}");
                assert_eq!(index.by_id("never-appended"), None);
                assert_eq!(index.len() as usize, model.facts.len());
                assert_eq!(index.is_empty(), model.facts.is_empty());
            }
        }
    }
}
