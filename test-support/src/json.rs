//! Arbitrary JSON for property tests: any shape, a few levels deep, with the keys a test cares
//! about mixed among random ones.

use proptest::prelude::*;
use serde_json::{Value, json};

/// JSON values of any shape, nested up to four levels, whose object keys come from `keys`.
pub fn json_with_keys(
    keys: impl Strategy<Value = String> + Clone + 'static,
) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// JSON values of any shape with random keys.
pub fn any_json() -> impl Strategy<Value = Value> {
    json_with_keys(".{0,8}")
}

/// Random keys, and now and then one of `known`.
pub fn keys_among(known: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        prop::sample::select(known).prop_map(str::to_owned),
        ".{0,8}",
    ]
}
