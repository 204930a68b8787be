//! The value model shared by the encoder, the parser and the binding.

/// A JSON-model value as the ledger stores it.
///
/// Objects keep insertion order and may hold duplicate keys (the parser keeps what the text
/// says); readers that need one value per key take the last one, as a Ruby Hash would.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer beyond i64, as decimal text with an optional leading '-'.
    BigInt(String),
    Float(f64),
    Str(String),
    /// A Ruby Symbol used as a value. Encodes as a JSON string; fact bodies record where
    /// Symbols stood (the "symbols" member) so they can be restored on decode.
    Sym(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The member `key` of an Object, the last one when the key repeats (Ruby Hash
    /// semantics); `None` for a missing key or a non-Object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Mutable form of [`Json::get`], same last-wins rule.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Json> {
        match self {
            Json::Object(members) => members
                .iter_mut()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v),
            _ => None,
        }
    }
}
