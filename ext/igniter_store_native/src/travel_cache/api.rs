//! The methods Ruby calls on `Igniter::Store::TravelCache`, each under
//! [`crate::guard::run`], and their registration.

use magnus::{prelude::*, typed_data::Obj, Error, Ruby, Value};

use super::TravelCache;
use crate::guard::run;

pub fn new(ruby: &Ruby, cap: Value) -> Result<Obj<TravelCache>, Error> {
    run(ruby, || TravelCache::new(ruby, cap))
}
pub fn get(ruby: &Ruby, c: &TravelCache, args: &[Value]) -> Result<Value, Error> {
    run(ruby, || TravelCache::get(ruby, c, args))
}
pub fn put(ruby: &Ruby, c: &TravelCache, args: &[Value]) -> Result<(), Error> {
    run(ruby, || TravelCache::put(ruby, c, args))
}
pub fn fetch_point(ruby: &Ruby, c: &TravelCache, args: &[Value]) -> Result<Value, Error> {
    run(ruby, || TravelCache::fetch_point(ruby, c, args))
}
pub fn drop(ruby: &Ruby, c: &TravelCache, store: Value, key: Value) -> Result<Value, Error> {
    run(ruby, || TravelCache::drop_entries(ruby, c, store, key))
}
pub fn clear(ruby: &Ruby, c: &TravelCache) -> Result<(), Error> {
    run(ruby, || TravelCache::clear(ruby, c))
}
pub fn size(ruby: &Ruby, c: &TravelCache) -> Result<usize, Error> {
    run(ruby, || Ok(TravelCache::size(ruby, c)))
}
pub fn cap(ruby: &Ruby, c: &TravelCache) -> Result<usize, Error> {
    run(ruby, || Ok(TravelCache::cap(ruby, c)))
}

pub fn define(ruby: &Ruby) -> Result<(), Error> {
    let store = ruby.define_module("Igniter")?.define_module("Store")?;
    let class = store.define_class("TravelCache", ruby.class_object())?;
    class.undef_default_alloc_func();
    class.define_singleton_method("new", magnus::function!(new, 1))?;
    class.define_method("get", magnus::method!(get, -1))?;
    class.define_method("put", magnus::method!(put, -1))?;
    class.define_method("fetch_point", magnus::method!(fetch_point, -1))?;
    class.define_method("drop", magnus::method!(drop, 2))?;
    class.define_method("clear", magnus::method!(clear, 0))?;
    class.define_method("size", magnus::method!(size, 0))?;
    class.define_method("cap", magnus::method!(cap, 0))?;
    Ok(())
}
