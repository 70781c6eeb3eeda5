//! Limits on the JSON a peer sends, checked before parsing.
//!
//! serde_json stops at 128 levels of nesting on its own; a resource is never near that, and
//! each level costs stack and time in every layer that walks the value afterwards, so both
//! sides refuse JSON nested deeper than [`MAX_DEPTH`] before parsing it.

/// How deep JSON from a peer may nest (objects and arrays).
pub const MAX_DEPTH: usize = 64;

/// Whether JSON text nests deeper than `limit` levels of objects and arrays. Brackets inside
/// strings do not count; invalid JSON is left to the parser.
pub fn nests_deeper_than(text: &[u8], limit: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &byte in text {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn depth_counts_brackets_outside_strings() {
        assert!(!nests_deeper_than(br#"{"a":[1,{"b":2}]}"#, 3));
        assert!(nests_deeper_than(br#"{"a":[1,{"b":2}]}"#, 2));
        assert!(!nests_deeper_than(br#"{"a":"[[[[\"[[[["}"#, 1));
        assert!(nests_deeper_than(&[b'['; 65], MAX_DEPTH));
        assert!(!nests_deeper_than(&[b'['; 64], MAX_DEPTH));
    }

    fn depth(value: &Value) -> usize {
        match value {
            Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(|n| json!(n)),
            "[\\[\\]{}\"\\\\a-z]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(8, 64, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z\\[{\"]{0,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn the_depth_check_agrees_with_the_parsed_value(value in any_json(), limit in 0usize..10) {
            let text = value.to_string();
            proptest::prop_assert_eq!(nests_deeper_than(text.as_bytes(), limit), depth(&value) > limit);
        }
    }
}
