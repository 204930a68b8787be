//! The Ruby methods of `Igniter::Store::Fact`. Each body runs under
//! [`guard::run`](crate::guard::run), so no panic can cross into Ruby.

use super::*;
use crate::guard::run;

pub fn build(ruby: &Ruby, args: &[Value]) -> Result<Obj<Fact>, Error> {
    run(ruby, || Fact::build(ruby, args))
}
pub fn from_h(ruby: &Ruby, hash: RHash) -> Result<Obj<Fact>, Error> {
    run(ruby, || Fact::from_h(ruby, hash))
}
pub fn new(ruby: &Ruby, args: &[Value]) -> Result<Obj<Fact>, Error> {
    run(ruby, || Fact::new(ruby, args))
}
pub fn load(ruby: &Ruby, body: RString) -> Result<Obj<Fact>, Error> {
    run(ruby, || Fact::load(ruby, body))
}
pub fn members_of_class(ruby: &Ruby) -> Result<RArray, Error> {
    run(ruby, || {
        Ok(ruby.ary_from_iter(MEMBERS.iter().map(|m| convert::symbol(ruby, m))))
    })
}
pub fn keyword_init(ruby: &Ruby) -> Result<bool, Error> {
    run(ruby, || Ok(true))
}
pub fn dump(ruby: &Ruby, rb_self: Obj<Fact>, level: Value) -> Result<RString, Error> {
    run(ruby, || Fact::dump(ruby, rb_self, level))
}
pub fn unstamped_body(ruby: &Ruby, rb_self: Obj<Fact>, id: RString) -> Result<RString, Error> {
    run(ruby, || Fact::unstamped_body(ruby, rb_self, id))
}
pub fn stamped(
    ruby: &Ruby,
    rb_self: Obj<Fact>,
    id: Value,
    causation: Value,
    time: Value,
) -> Result<Obj<Fact>, Error> {
    run(ruby, || Fact::stamped(ruby, rb_self, id, causation, time))
}

macro_rules! reader {
    ($name:ident, |$ruby:ident, $f:ident| $body:expr) => {
        pub fn $name($ruby: &Ruby, $f: &Fact) -> Result<Value, Error> {
            run($ruby, || Ok($body))
        }
    };
}
/// `id`: built from the UUID bits on first read, then the same String.
pub fn id(ruby: &Ruby, f: Obj<Fact>) -> Result<Value, Error> {
    run(ruby, || Fact::id_in(f, ruby))
}
/// `causation`: likewise.
pub fn causation(ruby: &Ruby, f: Obj<Fact>) -> Result<Value, Error> {
    run(ruby, || Fact::causation_in(f, ruby))
}
reader!(store, |ruby, f| ruby.get_inner(f.store).as_value());
reader!(key, |ruby, f| ruby.get_inner(f.key).as_value());
/// `value`: built from the packed form on first read, then the same object.
pub fn value(ruby: &Ruby, f: Obj<Fact>) -> Result<Value, Error> {
    run(ruby, || Fact::value_in(f, ruby))
}
/// `value_hash`: computed from the packed value on first read, then kept.
pub fn value_hash(ruby: &Ruby, f: Obj<Fact>) -> Result<Value, Error> {
    run(ruby, || Fact::value_hash_in(f, ruby))
}
reader!(transaction_time, |ruby, f| ruby
    .float_from_f64(f.transaction_time)
    .as_value());
reader!(valid_time, |ruby, f| f.valid_time.map_or_else(
    || ruby.qnil().as_value(),
    |t| ruby.float_from_f64(t).as_value()
));
reader!(schema_version, |ruby, f| ruby.get_inner(f.schema_version));
reader!(producer, |ruby, f| ruby.get_inner(f.producer));
reader!(derivation, |ruby, f| ruby.get_inner(f.derivation));

/// `to_a` / `deconstruct` / `values`: the member values in order.
pub fn to_a(ruby: &Ruby, f: Obj<Fact>) -> Result<RArray, Error> {
    run(ruby, || {
        Ok(ruby.ary_from_iter(Fact::members(f, ruby)?.into_iter().map(|(_, v)| v)))
    })
}
/// `members`: the member names.
pub fn members(ruby: &Ruby, _f: &Fact) -> Result<RArray, Error> {
    members_of_class(ruby)
}
pub fn size(ruby: &Ruby, _f: &Fact) -> Result<usize, Error> {
    run(ruby, || Ok(MEMBERS.len()))
}
/// `to_h` without a block (the Ruby side handles the block form).
pub fn to_h(ruby: &Ruby, f: Obj<Fact>) -> Result<RHash, Error> {
    run(ruby, || {
        let out = ruby.hash_new();
        for (name, v) in Fact::members(f, ruby)? {
            out.aset(convert::symbol(ruby, name), v)?;
        }
        Ok(out)
    })
}
pub fn eq(ruby: &Ruby, f: Obj<Fact>, other: Value) -> Result<bool, Error> {
    run(ruby, || Fact::same(ruby, f, other, false))
}
pub fn eql(ruby: &Ruby, f: Obj<Fact>, other: Value) -> Result<bool, Error> {
    run(ruby, || Fact::same(ruby, f, other, true))
}
pub fn hash(ruby: &Ruby, f: Obj<Fact>) -> Result<Value, Error> {
    run(ruby, || {
        let values = ruby.ary_from_iter(Fact::members(f, ruby)?.into_iter().map(|(_, v)| v));
        values.funcall("hash", ())
    })
}
/// Struct's `inspect`: `#<struct Igniter::Store::Fact id="…", store=:s, …>`,
/// in Struct's encoding too (binary while it is all ASCII, else UTF-8).
pub fn inspect(ruby: &Ruby, f: Obj<Fact>) -> Result<RString, Error> {
    run(ruby, || {
        let parts: Vec<String> = Fact::members(f, ruby)?
            .iter()
            .map(|(name, v)| format!("{name}={}", v.inspect()))
            .collect();
        let text = format!("#<struct Igniter::Store::Fact {}>", parts.join(", "));
        Ok(if text.is_ascii() {
            ruby.str_from_slice(text.as_bytes())
        } else {
            ruby.str_new(&text)
        })
    })
}
pub fn dup(ruby: &Ruby, f: Obj<Fact>) -> Result<Obj<Fact>, Error> {
    run(ruby, || Fact::copy(f, ruby))
}
/// `clone(freeze: nil)`: a fact stays frozen whatever `freeze:` says, as on
/// the pure path (its `initialize_copy` freezes the copy).
pub fn clone(ruby: &Ruby, f: Obj<Fact>, args: &[Value]) -> Result<Obj<Fact>, Error> {
    run(ruby, || {
        let args = scan_args::<(), (), (), (), RHash, ()>(args)?;
        get_kwargs::<_, (), (Option<Value>,), ()>(args.keywords, &[], &["freeze"])?;
        Fact::copy(f, ruby)
    })
}

pub fn define(ruby: &Ruby) -> Result<(), Error> {
    let namespace = ruby.define_module("Igniter")?.define_module("Store")?;
    let class = namespace.define_class("Fact", ruby.class_object())?;
    class.undef_default_alloc_func();
    class.define_singleton_method("build", magnus::function!(build, -1))?;
    class.define_singleton_method("from_h", magnus::function!(from_h, 1))?;
    class.define_singleton_method("new", magnus::function!(new, -1))?;
    class.define_singleton_method("[]", magnus::function!(new, -1))?;
    class.define_singleton_method("_load", magnus::function!(load, 1))?;
    class.define_singleton_method("members", magnus::function!(members_of_class, 0))?;
    class.define_singleton_method("keyword_init?", magnus::function!(keyword_init, 0))?;
    class.define_method("id", magnus::method!(id, 0))?;
    class.define_method("store", magnus::method!(store, 0))?;
    class.define_method("key", magnus::method!(key, 0))?;
    class.define_method("value", magnus::method!(value, 0))?;
    class.define_method("value_hash", magnus::method!(value_hash, 0))?;
    class.define_method("causation", magnus::method!(causation, 0))?;
    class.define_method("transaction_time", magnus::method!(transaction_time, 0))?;
    class.define_method("timestamp", magnus::method!(transaction_time, 0))?;
    class.define_method("valid_time", magnus::method!(valid_time, 0))?;
    class.define_method("term", magnus::method!(valid_time, 0))?;
    class.define_method("schema_version", magnus::method!(schema_version, 0))?;
    class.define_method("producer", magnus::method!(producer, 0))?;
    class.define_method("derivation", magnus::method!(derivation, 0))?;
    class.define_method("to_h", magnus::method!(to_h, 0))?;
    class.define_method("to_a", magnus::method!(to_a, 0))?;
    class.define_method("deconstruct", magnus::method!(to_a, 0))?;
    class.define_method("values", magnus::method!(to_a, 0))?;
    class.define_method("members", magnus::method!(members, 0))?;
    class.define_method("size", magnus::method!(size, 0))?;
    class.define_method("length", magnus::method!(size, 0))?;
    class.define_method("==", magnus::method!(eq, 1))?;
    class.define_method("eql?", magnus::method!(eql, 1))?;
    class.define_method("hash", magnus::method!(hash, 0))?;
    class.define_method("inspect", magnus::method!(inspect, 0))?;
    class.define_method("to_s", magnus::method!(inspect, 0))?;
    class.define_method("dup", magnus::method!(dup, 0))?;
    class.define_method("clone", magnus::method!(clone, -1))?;
    class.define_method("_dump", magnus::method!(dump, 1))?;
    class.define_method("_unstamped_body", magnus::method!(unstamped_body, 1))?;
    class.define_method("_stamped", magnus::method!(stamped, 3))?;
    Ok(())
}
