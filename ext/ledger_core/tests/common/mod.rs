//! Helpers shared by the integration tests: fixture paths and self-cleaning temp dirs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use ledger_core::{encode_fact_body, FactRecord, Json};

/// `spec/fixtures/igniter-ledger-0.5.2/<rel>` of the repository.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../spec/fixtures/igniter-ledger-0.5.2")
        .join(rel)
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "ledger_core-{tag}-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A plain fact with the given id/key/time and a small value.
pub fn fact(id: &str, key: &str, tt: f64) -> FactRecord {
    FactRecord {
        id: id.to_string(),
        store: "items".to_string(),
        key: key.to_string(),
        value: Json::Object(vec![("n".to_string(), Json::Int(1))]),
        value_hash: None,
        causation: None,
        transaction_time: tt,
        valid_time: None,
        schema_version: Json::Int(1),
        producer: Json::Null,
        derivation: Json::Null,
    }
}

pub fn body(rec: &FactRecord) -> Vec<u8> {
    let mut out = Vec::new();
    encode_fact_body(rec, &mut out).unwrap();
    out
}

pub fn ids(facts: &[FactRecord]) -> Vec<&str> {
    facts.iter().map(|f| f.id.as_str()).collect()
}
