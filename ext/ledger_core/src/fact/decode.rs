//! The decode rules of a fact body (doc/format.md "Decoding a fact body"), in one place.
//!
//! The pure-Ruby half of the same rules is `Igniter::Store::FactDecode`; both are fed
//! the cases of `spec/fixtures/decode_cases.json` (`tests/decode_cases.rs` here, the
//! rspec table there), so a rule cannot drift between the two.

use rustc_hash::FxHashMap;

use crate::error::{Error, Result};
use crate::fact::{new_uuid, FactRecord};
use crate::json::encode::MAX_NESTING;
use crate::json::packed::{self, Reader};
use crate::json::parse::{parse_body_packed, parse_members, Member};
use crate::json::{dedup_keys, Json};

/// Deepest nesting of a body: the body object, then a value of up to [`MAX_NESTING`].
pub const BODY_NESTING: usize = MAX_NESTING + 1;

/// Why a body was skipped, in the words both halves use: the rule it broke, "not strict
/// JSON" for text that does not parse, or Ruby's nesting message.
pub fn rejection_reason(error: &Error) -> String {
    match error {
        Error::InvalidRecord(msg) => msg.clone(),
        Error::Nesting(depth) => format!("nesting of {depth} is too deep"),
        _ => "not strict JSON".to_string(),
    }
}

fn invalid(msg: &str) -> Error {
    Error::InvalidRecord(msg.to_string())
}

/// A JSON number as f64 (Ruby `to_f`); `None` for non-numbers or out-of-range BigInts.
fn number(v: &Json) -> Option<f64> {
    match v {
        Json::Int(i) => Some(*i as f64),
        Json::BigInt(t) => t.parse::<f64>().ok().filter(|f| f.is_finite()),
        Json::Float(f) => Some(*f),
        _ => None,
    }
}

/// Absent and `null` both mean "not given" (Ruby `hash[:x] || fallback`).
fn given(v: Option<Json>) -> Option<Json> {
    v.filter(|v| *v != Json::Null)
}

/// A data member that may be absent: `null` and `false` mean none (as a falsy
/// `producer:` does at `Fact.build`).
fn optional_data(v: Option<Json>) -> Json {
    match v {
        None | Some(Json::Bool(false)) => Json::Null,
        Some(v) => v,
    }
}

/// The members a body may carry, each the last occurrence of its key.
#[derive(Default)]
struct Members {
    id: Option<Json>,
    store: Option<Json>,
    key: Option<Json>,
    value: Option<Json>,
    value_hash: Option<Json>,
    causation: Option<Json>,
    transaction_time: Option<Json>,
    timestamp: Option<Json>,
    valid_time: Option<Json>,
    term: Option<Json>,
    schema_version: Option<Json>,
    producer: Option<Json>,
    derivation: Option<Json>,
    symbols: Option<Json>,
}

impl Members {
    /// Moves each member into its slot; a repeated key overwrites, so the last one wins as
    /// in a Ruby Hash. Unknown members are dropped.
    fn sort(members: Vec<(std::borrow::Cow<'_, str>, Json)>) -> Self {
        let mut m = Members::default();
        for (k, v) in members {
            if let Some(slot) = m.slot(&k) {
                *slot = Some(v);
            }
        }
        m
    }

    /// The slot of member `name`; `None` for an unknown member (dropped).
    fn slot(&mut self, name: &str) -> Option<&mut Option<Json>> {
        let m = self;
        Some(match name {
            "id" => &mut m.id,
            "store" => &mut m.store,
            "key" => &mut m.key,
            "value" => &mut m.value,
            "value_hash" => &mut m.value_hash,
            "causation" => &mut m.causation,
            "transaction_time" => &mut m.transaction_time,
            "timestamp" => &mut m.timestamp,
            "valid_time" => &mut m.valid_time,
            "term" => &mut m.term,
            "schema_version" => &mut m.schema_version,
            "producer" => &mut m.producer,
            "derivation" => &mut m.derivation,
            "symbols" => &mut m.symbols,
            _ => return None,
        })
    }
}

fn opt_string(v: Option<Json>, what: &str) -> Result<Option<String>> {
    match given(v) {
        None => Ok(None),
        Some(Json::Str(s)) => Ok(Some(s)),
        Some(_) => Err(Error::InvalidRecord(format!("{what} is not a string"))),
    }
}

/// Decodes a fact body by the format.md rules; any broken rule is an
/// `Error::InvalidRecord` (or `Parse`/`Nesting` for bad JSON) so the reader can skip it.
pub fn decode_fact_body(body: &[u8]) -> Result<FactRecord> {
    let Some(members) = parse_members(body, BODY_NESTING)? else {
        return Err(invalid("top level is not an object"));
    };
    let m = Members::sort(members);
    // Fields are evaluated in the order written, which is the order doc/format.md gives
    // the checks: a body breaking two rules is reported by the first.
    let mut rec = FactRecord {
        id: id_of(m.id)?,
        store: store_of(m.store)?,
        key: key_of(m.key)?,
        value_hash: opt_string(m.value_hash, "value_hash")?,
        causation: opt_string(m.causation, "causation")?,
        transaction_time: transaction_time_of(m.transaction_time, m.timestamp)?,
        valid_time: valid_time_of(m.valid_time, m.term)?,
        schema_version: schema_version_of(m.schema_version)?,
        value: m.value.unwrap_or(Json::Null),
        producer: optional_data(m.producer),
        derivation: optional_data(m.derivation),
    };
    restore_data(&mut rec, m.symbols.as_ref());
    Ok(rec)
}

/// A fact decoded for the in-memory log's compact records
/// ([`crate::fact::compact::CompactFacts::push_packed`]): the members of a
/// [`FactRecord`], the data members as packed bytes ([`crate::json::packed`]), the
/// optional ones `None` when absent (null, as nil).
#[derive(Debug, Clone, PartialEq)]
pub struct PackedRecord {
    pub id: String,
    pub store: String,
    pub key: String,
    pub value: Vec<u8>,
    pub value_hash: Option<String>,
    pub causation: Option<String>,
    pub transaction_time: f64,
    pub valid_time: Option<f64>,
    pub schema_version: Json,
    pub producer: Option<Vec<u8>>,
    pub derivation: Option<Vec<u8>>,
}

/// [`decode_fact_body`] straight into packed data members, no model tree built for
/// them. `None` when the body is not one this route decodes to the same fact — any
/// broken rule, bad JSON, or a data object with a repeated name — so the caller
/// decodes it with [`decode_fact_body`], which applies (or reports) every rule.
pub fn decode_packed_body(body: &[u8]) -> Option<PackedRecord> {
    let members = parse_body_packed(body, BODY_NESTING, &["value", "producer", "derivation"])?;
    let mut m = Members::default();
    let (mut value, mut producer, mut derivation) = (None, None, None);
    for (name, member) in members {
        match (name.as_ref(), member) {
            ("value", Member::Packed(b)) => value = Some(b),
            ("producer", Member::Packed(b)) => producer = Some(b),
            ("derivation", Member::Packed(b)) => derivation = Some(b),
            (name, Member::Json(j)) => {
                if let Some(slot) = m.slot(name) {
                    *slot = Some(j);
                }
            }
            _ => return None,
        }
    }
    // In decode_fact_body's order, so a rule it would report sends the body there.
    let id = id_of(m.id).ok()?;
    let store = store_of(m.store).ok()?;
    let key = key_of(m.key).ok()?;
    let value_hash = opt_string(m.value_hash, "value_hash").ok()?;
    let causation = opt_string(m.causation, "causation").ok()?;
    let transaction_time = transaction_time_of(m.transaction_time, m.timestamp).ok()?;
    let valid_time = valid_time_of(m.valid_time, m.term).ok()?;
    let schema_version = schema_version_of(m.schema_version).ok()?;
    // Absent and null data are nil; false producer/derivation too (optional_data).
    let none_if = |b: Option<Vec<u8>>, falsy: &[u8]| b.filter(|b| !falsy.contains(&b[0]));
    let mut value = value.unwrap_or_else(|| vec![packed::NULL]);
    let mut producer = none_if(producer, &[packed::NULL, packed::FALSE]);
    let mut derivation = none_if(derivation, &[packed::NULL, packed::FALSE]);
    if let Some(paths) = m.symbols.as_ref() {
        let trie = SymbolTrie::from_paths(paths);
        for (field, bytes) in [
            ("value", Some(&mut value)),
            ("producer", producer.as_mut()),
            ("derivation", derivation.as_mut()),
        ] {
            if let (Some(node), Some(bytes)) = (trie.key(field), bytes) {
                let mut at = Vec::new();
                symbol_places(node, bytes, 0, &mut at)?;
                for i in at {
                    bytes[i] = packed::SYM;
                }
            }
        }
    }
    Some(PackedRecord {
        id,
        store,
        key,
        value,
        value_hash,
        causation,
        transaction_time,
        valid_time,
        schema_version,
        producer,
        derivation,
    })
}

/// The offsets of the String tags under the node at `at` that `node`'s paths turn
/// into Symbols — [`SymbolTrie::restore`] on packed bytes; returns the node's end.
fn symbol_places(
    node: &SymbolTrie<'_>,
    bytes: &[u8],
    at: usize,
    out: &mut Vec<usize>,
) -> Option<usize> {
    let tag = *bytes.get(at)?;
    match tag {
        packed::STR if node.leaf => {
            out.push(at);
            packed::node_end(bytes, at)
        }
        packed::OBJECT if !node.keys.is_empty() => {
            let mut r = Reader::new(&bytes[at + 1..]);
            let n = r.varint()?;
            let mut pos = bytes.len() - r.rest().len();
            for _ in 0..n {
                let mut r = Reader::new(&bytes[pos..]);
                let name = r.text()?;
                let value_at = bytes.len() - r.rest().len();
                pos = match node.keys.get(name) {
                    Some(child) => symbol_places(child, bytes, value_at, out)?,
                    None => packed::node_end(bytes, value_at)?,
                };
            }
            Some(pos)
        }
        packed::ARRAY if !node.indexes.is_empty() => {
            let mut r = Reader::new(&bytes[at + 1..]);
            let n = r.varint()?;
            let mut pos = bytes.len() - r.rest().len();
            for i in 0..n {
                pos = match usize::try_from(i).ok().and_then(|i| node.indexes.get(&i)) {
                    Some(child) => symbol_places(child, bytes, pos, out)?,
                    None => packed::node_end(bytes, pos)?,
                };
            }
            Some(pos)
        }
        _ => packed::node_end(bytes, at),
    }
}

/// `id`: a string; absent or null is a fresh UUID.
fn id_of(v: Option<Json>) -> Result<String> {
    match given(v) {
        None => Ok(new_uuid()),
        Some(Json::Str(s)) => Ok(s),
        Some(_) => Err(invalid("id is not a string")),
    }
}

/// `store`: a required string.
fn store_of(v: Option<Json>) -> Result<String> {
    match v {
        Some(Json::Str(s)) => Ok(s),
        Some(_) => Err(invalid("store is not a string")),
        None => Err(invalid("store is missing")),
    }
}

/// `key`: a required string, or a legacy integer of any size as its decimal text.
fn key_of(v: Option<Json>) -> Result<String> {
    match v {
        Some(Json::Str(s)) => Ok(s),
        Some(Json::Int(i)) => Ok(i.to_string()),
        Some(Json::BigInt(t)) => Ok(t),
        Some(_) => Err(invalid("key is not a string or integer")),
        None => Err(invalid("key is missing")),
    }
}

/// `transaction_time`, else the legacy `timestamp`: a number; neither is 0.0.
fn transaction_time_of(v: Option<Json>, legacy: Option<Json>) -> Result<f64> {
    match given(v).or_else(|| given(legacy)) {
        None => Ok(0.0),
        Some(v) => number(&v).ok_or_else(|| invalid("transaction_time is not a number")),
    }
}

/// `valid_time`, else the legacy `term`: a number or none.
fn valid_time_of(v: Option<Json>, legacy: Option<Json>) -> Result<Option<f64>> {
    match given(v).or_else(|| given(legacy)) {
        None => Ok(None),
        Some(v) => number(&v)
            .map(Some)
            .ok_or_else(|| invalid("valid_time is not a number")),
    }
}

/// `schema_version`: an integer of any size; absent or null is 1.
fn schema_version_of(v: Option<Json>) -> Result<Json> {
    match given(v) {
        None => Ok(Json::Int(1)),
        Some(v @ (Json::Int(_) | Json::BigInt(_))) => Ok(v),
        Some(_) => Err(invalid("schema_version is not an integer")),
    }
}

/// The data fields as Ruby reads them back: duplicate keys resolved as a Hash
/// does, and the Strings the `symbols` paths name turned back into Symbols.
fn restore_data(rec: &mut FactRecord, symbols: Option<&Json>) {
    for data in [&mut rec.value, &mut rec.producer, &mut rec.derivation] {
        dedup_keys(data);
    }
    if let Some(paths) = symbols {
        let trie = SymbolTrie::from_paths(paths);
        trie.apply("value", &mut rec.value);
        trie.apply("producer", &mut rec.producer);
        trie.apply("derivation", &mut rec.derivation);
    }
}

/// The `symbols` paths as a trie, so applying them visits each container once, however
/// many paths lead into it (a pairwise search per path would be quadratic). Public for
/// the binding, which applies it to Ruby values (`Fact.from_h` with a `symbols:` member).
#[derive(Default)]
pub struct SymbolTrie<'a> {
    /// A path ends here: the String at this place becomes a Symbol.
    leaf: bool,
    keys: FxHashMap<&'a str, SymbolTrie<'a>>,
    indexes: FxHashMap<usize, SymbolTrie<'a>>,
}

impl<'a> SymbolTrie<'a> {
    /// Well-formed paths only: an Array whose head names a data field and whose other
    /// steps are Strings or Integers (format.md); any other entry is ignored on its own,
    /// a `symbols` member that is not an Array entirely.
    pub fn from_paths(paths: &'a Json) -> Self {
        let mut root = SymbolTrie::default();
        let Json::Array(paths) = paths else {
            return root;
        };
        for path in paths {
            let Json::Array(steps) = path else { continue };
            let Some((Json::Str(field), rest)) = steps.split_first() else {
                continue;
            };
            if !matches!(field.as_str(), "value" | "producer" | "derivation") {
                continue;
            }
            if !rest
                .iter()
                .all(|s| matches!(s, Json::Str(_) | Json::Int(_) | Json::BigInt(_)))
            {
                continue;
            }
            let mut node = root.keys.entry(field.as_str()).or_default();
            let mut reachable = true;
            for step in rest {
                node = match step {
                    Json::Str(k) => node.keys.entry(k.as_str()).or_default(),
                    // A negative or huge index names no element; the path stays well
                    // formed (and is ignored) but needs no node.
                    Json::Int(i) => match usize::try_from(*i) {
                        Ok(i) => node.indexes.entry(i).or_default(),
                        Err(_) => {
                            reachable = false;
                            break;
                        }
                    },
                    _ => {
                        reachable = false;
                        break;
                    }
                };
            }
            if reachable {
                node.leaf = true;
            }
        }
        root
    }

    /// True when a path ends here: the String at this place becomes a Symbol.
    pub fn is_leaf(&self) -> bool {
        self.leaf
    }

    /// The node of an object key, or of a data field at the root.
    pub fn key(&self, name: &str) -> Option<&SymbolTrie<'a>> {
        self.keys.get(name)
    }

    /// The object keys paths continue through, with their nodes.
    pub fn keys(&self) -> impl Iterator<Item = (&'a str, &SymbolTrie<'a>)> + '_ {
        self.keys.iter().map(|(k, v)| (*k, v))
    }

    /// The array indexes paths continue through, with their nodes.
    pub fn indexes(&self) -> impl Iterator<Item = (usize, &SymbolTrie<'a>)> + '_ {
        self.indexes.iter().map(|(i, v)| (*i, v))
    }

    fn apply(&self, field: &str, target: &mut Json) {
        if let Some(node) = self.keys.get(field) {
            node.restore(target);
        }
    }

    fn restore(&self, at: &mut Json) {
        match at {
            Json::Str(s) if self.leaf => {
                let name = std::mem::take(s);
                *at = Json::Sym(name);
            }
            Json::Object(members) if !self.keys.is_empty() => {
                for (k, item) in members.iter_mut() {
                    if let Some(child) = self.keys.get(k.as_str()) {
                        child.restore(item);
                    }
                }
            }
            Json::Array(items) => {
                for (i, child) in &self.indexes {
                    if let Some(item) = items.get_mut(*i) {
                        child.restore(item);
                    }
                }
            }
            _ => {}
        }
    }
}
