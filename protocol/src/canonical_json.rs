//! The canonical JSON of relay signatures and text results: keys sorted at every level (by code
//! point, which is UTF-8 byte order), no whitespace, UTF-8 with non-ASCII characters unescaped.
//! Strings are escaped as Python's `json.dumps(..., ensure_ascii=False)` escapes them (quote,
//! backslash, the short escapes and `\u00xx` for other control characters), which is also what
//! serde_json writes, so a third party can reproduce the bytes with Python's standard library.

use serde_json::Value;

/// The canonical serialization of `value`.
pub fn to_canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::String(s) => write_string(out, s),
        // null, booleans and numbers have one compact form already.
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).expect("serializing a str cannot fail"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_at_every_level_without_whitespace() {
        let v = json!({"b": {"z": 1, "a": [3, 2, {"y": null, "x": true}]}, "a": "x"});
        assert_eq!(
            to_canonical_json(&v),
            r#"{"a":"x","b":{"a":[3,2,{"x":true,"y":null}],"z":1}}"#
        );
    }

    #[test]
    fn escapes_like_python_json_dumps_without_ensure_ascii() {
        let v = json!({"s": "caf\u{e9} \"q\" \\ \n\t\u{1}\u{7f} \u{2713}"});
        assert_eq!(
            to_canonical_json(&v),
            "{\"s\":\"caf\u{e9} \\\"q\\\" \\\\ \\n\\t\\u0001\u{7f} \u{2713}\"}"
        );
    }

    #[test]
    fn orders_keys_by_code_point() {
        let v = json!({"\u{e9}": 1, "z": 2, "Z": 3, "_": 4});
        assert_eq!(
            to_canonical_json(&v),
            "{\"Z\":3,\"_\":4,\"z\":2,\"\u{e9}\":1}"
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            ".{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map(".{0,6}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// The canonical text parses back to the same value and is its own canonical form.
        #[test]
        fn canonical_text_round_trips(value in json_value()) {
            let text = to_canonical_json(&value);
            let parsed: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(&parsed, &value);
            prop_assert_eq!(to_canonical_json(&parsed), text.clone());
        }
    }
}
