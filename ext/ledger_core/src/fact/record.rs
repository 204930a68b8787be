//! One fact as stored in a WAL or snapshot frame body (doc/format.md "WAL").

use crate::json::Json;

/// The persisted members of a fact, in body order. `producer`/`derivation` use
/// `Json::Null` for nil; `schema_version` is a `Json::Int`, or a `Json::BigInt` for an
/// Integer beyond 64 bits (Ruby keeps any Integer, so the ledger does too).
#[derive(Debug, Clone, PartialEq)]
pub struct FactRecord {
    pub id: String,
    pub store: String,
    pub key: String,
    pub value: Json,
    pub value_hash: Option<String>,
    pub causation: Option<String>,
    pub transaction_time: f64,
    pub valid_time: Option<f64>,
    pub schema_version: Json,
    pub producer: Json,
    pub derivation: Json,
}
