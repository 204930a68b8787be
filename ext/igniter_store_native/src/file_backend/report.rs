//! `FileBackend#recovery`: the recovery report as a frozen Ruby Hash.

use std::path::Path;

use ledger_core::{wal::fs_util::lexical_absolute, Recovery};
use magnus::{prelude::*, Error, RHash, RString, Ruby};

use crate::convert::frozen_str;

fn absolute(ruby: &Ruby, p: &Path) -> RString {
    frozen_str(ruby, &lexical_absolute(p).to_string_lossy())
}

/// The report as both paths return it (doc/format.md "Recovery report"): a frozen
/// Hash with Symbol keys, its spans frozen too.
pub fn hash(ruby: &Ruby, r: &Recovery) -> Result<RHash, Error> {
    let sym = |name: &str| ruby.to_symbol(name);
    let h = ruby.hash_new();
    h.aset(sym("original_bytes"), r.original_len)?;
    h.aset(sym("valid_bytes"), r.valid_len)?;
    h.aset(sym("truncated_bytes"), r.truncated_bytes)?;
    h.aset(sym("tail"), sym(r.tail.map_or("clean", |t| t.name())))?;
    h.aset(sym("mode"), sym(r.mode.name()))?;
    let spans = ruby.ary_new_capa(r.quarantined.len());
    for span in &r.quarantined {
        let s = ruby.hash_new();
        s.aset(sym("file"), absolute(ruby, &span.file))?;
        s.aset(sym("offset"), span.offset)?;
        s.aset(sym("length"), span.length)?;
        s.aset(sym("reason"), sym(span.reason.name()))?;
        s.aset(
            sym("quarantine_path"),
            span.quarantine_path.as_deref().map(|p| absolute(ruby, p)),
        )?;
        s.freeze();
        spans.push(s)?;
    }
    spans.freeze();
    h.aset(sym("quarantined"), spans)?;
    h.aset(sym("salvaged_frames"), r.salvaged_frames)?;
    h.aset(sym("damaged_spans"), r.damaged_spans)?;
    h.aset(sym("read_only"), r.read_only)?;
    h.freeze();
    Ok(h)
}
