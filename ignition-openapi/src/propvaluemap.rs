//! [`PropValueMap`]: the `properties` and `systemProperties` of a create request.
//!
//! LM sends each property either as a plain value (`"name": "x"`) or as a typed object
//! (`"name": {"type": "string", "value": "x"}`); a key pair comes as
//! `{"type": "key", "privateKey": "...", "publicKey": "...", "keyName": "..."}`. The map
//! keeps every value in the shape it arrived in, so serialising it gives back the same
//! JSON, and never shows a private key in `Debug` output.

use std::borrow::Cow;
use std::fmt;

use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What `Debug` prints instead of a private key.
const HIDDEN: &str = "****";

/// The `type` of a key property.
const KEY_TYPE: &str = "key";

/// One property value, in the shape it has on the wire.
#[derive(Clone, PartialEq)]
pub enum PropValue {
    /// A plain JSON value that is not an object (`"x"`, `3`, `true`, `[...]`, `null`).
    Plain(Value),
    /// A typed value: `{"type": value_type, "value": value, ...extra}`.
    Typed {
        /// The `type` field (`string`, `integer`, `map`, ...; never `key`).
        value_type: String,
        /// The `value` field; `None` when the object has none.
        value: Option<Value>,
        /// Any other fields of the object, kept for the round trip.
        extra: Map<String, Value>,
    },
    /// A key pair: `{"type": "key", "privateKey": ..., "publicKey"?: ..., "keyName"?: ...}`.
    Key {
        /// The `privateKey` field. `Debug` shows it as `****`.
        private_key: String,
        /// The `publicKey` field, if any.
        public_key: Option<String>,
        /// The `keyName` field, if any.
        key_name: Option<String>,
        /// Any other fields of the object, kept for the round trip.
        extra: Map<String, Value>,
    },
}

impl PropValue {
    /// A typed value `{"type": value_type, "value": value}`.
    ///
    /// A `value_type` of `"key"` still gives a [`PropValue::Typed`]; use
    /// [`PropValue::key`] for keys.
    pub fn typed(value_type: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::Typed {
            value_type: value_type.into(),
            value: Some(value.into()),
            extra: Map::new(),
        }
    }

    /// A key `{"type": "key", "privateKey": ..., "publicKey": ..., "keyName": ...}`.
    pub fn key(
        private_key: impl Into<String>,
        public_key: Option<String>,
        key_name: Option<String>,
    ) -> Self {
        Self::Key {
            private_key: private_key.into(),
            public_key,
            key_name,
            extra: Map::new(),
        }
    }

    /// The property's type: `string` for a plain string, the `type` field of a typed
    /// value, `key` for a key; for other plain values the LM type of the JSON value
    /// (`integer`, `float`, `boolean`, `list`, `null`).
    pub fn value_type(&self) -> &str {
        match self {
            Self::Plain(value) => match value {
                Value::String(_) => "string",
                Value::Number(n) if n.is_f64() => "float",
                Value::Number(_) => "integer",
                Value::Bool(_) => "boolean",
                Value::Array(_) => "list",
                Value::Object(_) => "map",
                Value::Null => "null",
            },
            Self::Typed { value_type, .. } => value_type,
            Self::Key { .. } => KEY_TYPE,
        }
    }

    /// The value as text: a string as it is, other JSON as JSON text, a key as its
    /// private key (followed by `"\n---\n"` and the public key when there is one).
    /// `None` for a typed value without a `value`, and for `null`.
    pub fn as_str(&self) -> Option<Cow<'_, str>> {
        match self {
            Self::Plain(value)
            | Self::Typed {
                value: Some(value), ..
            } => json_text(value),
            Self::Typed { value: None, .. } => None,
            Self::Key {
                private_key,
                public_key: None,
                ..
            } => Some(Cow::Borrowed(private_key)),
            Self::Key {
                private_key,
                public_key: Some(public_key),
                ..
            } => Some(Cow::Owned(format!("{private_key}\n---\n{public_key}"))),
        }
    }

    /// The JSON of this value, exactly as it is sent.
    pub fn to_json(&self) -> Value {
        let (value_type, fields, extra) = match self {
            Self::Plain(value) => return value.clone(),
            Self::Typed {
                value_type,
                value,
                extra,
            } => (value_type.as_str(), vec![("value", value.clone())], extra),
            Self::Key {
                private_key,
                public_key,
                key_name,
                extra,
            } => (
                KEY_TYPE,
                vec![
                    ("privateKey", Some(Value::from(private_key.as_str()))),
                    ("publicKey", public_key.as_deref().map(Value::from)),
                    ("keyName", key_name.as_deref().map(Value::from)),
                ],
                extra,
            ),
        };
        let mut object = Map::new();
        object.insert("type".into(), value_type.into());
        for (name, value) in fields {
            if let Some(value) = value {
                object.insert(name.into(), value);
            }
        }
        for (name, value) in extra {
            object.entry(name.as_str()).or_insert_with(|| value.clone());
        }
        Value::Object(object)
    }
}

/// A JSON value as text: strings as they are, `null` as nothing, the rest as JSON.
fn json_text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Null => None,
        other => Some(Cow::Owned(other.to_string())),
    }
}

impl From<&str> for PropValue {
    fn from(value: &str) -> Self {
        Self::Plain(value.into())
    }
}

impl From<String> for PropValue {
    fn from(value: String) -> Self {
        Self::Plain(value.into())
    }
}

/// Reads a value as it comes on the wire. An object must have a string `type`; a key
/// (`type` `key`) must have a string `privateKey`.
impl TryFrom<Value> for PropValue {
    type Error = String;

    fn try_from(value: Value) -> Result<Self, String> {
        let Value::Object(mut object) = value else {
            return Ok(Self::Plain(value));
        };
        let value_type = match object.remove("type") {
            Some(Value::String(t)) => t,
            Some(other) => return Err(format!("`type` must be a string, not {other}")),
            None => return Err("a typed property value needs a `type`".into()),
        };
        if value_type != KEY_TYPE {
            let value = object.remove("value");
            return Ok(Self::Typed {
                value_type,
                value,
                extra: object,
            });
        }
        let mut text = |name: &str| match object.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!("`{name}` of a key must be a string, not {other}")),
        };
        let private_key = text("privateKey")?.ok_or("a key property value needs a `privateKey`")?;
        let public_key = text("publicKey")?;
        let key_name = text("keyName")?;
        Ok(Self::Key {
            private_key,
            public_key,
            key_name,
            extra: object,
        })
    }
}

impl fmt::Debug for PropValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain(value) => f.debug_tuple("Plain").field(value).finish(),
            Self::Typed {
                value_type,
                value,
                extra,
            } => f
                .debug_struct("Typed")
                .field("value_type", value_type)
                .field("value", value)
                .field("extra", extra)
                .finish(),
            Self::Key {
                public_key,
                key_name,
                extra,
                ..
            } => f
                .debug_struct("Key")
                .field("private_key", &format_args!("{HIDDEN}"))
                .field("public_key", public_key)
                .field("key_name", key_name)
                .field("extra", extra)
                .finish(),
        }
    }
}

impl Serialize for PropValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PropValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::try_from(Value::deserialize(deserializer)?).map_err(de::Error::custom)
    }
}

/// Named property values, in the order they were inserted (or arrived in).
///
/// On the wire a property is a plain string or `{"type": ..., "value": ...}`; a key is
/// `{"type": "key", "privateKey": ..., "publicKey": ..., "keyName": ...}`. `get` gives a
/// value as text (a key: its private key, then `"\n---\n"` and the public key when there
/// is one); `Debug` never shows a private key.
///
/// ```
/// # use ignition_openapi::PropValueMap;
/// let props: PropValueMap = serde_json::from_value(serde_json::json!({
///     "flavour": "m1.small",
///     "replicas": {"type": "integer", "value": 3},
///     "sshKey": {"type": "key", "privateKey": "-----BEGIN PRIVATE KEY-----...", "publicKey": "ssh-ed25519 AAA"},
/// }))
/// .unwrap();
/// assert_eq!(props.get("flavour").as_deref(), Some("m1.small"));
/// assert_eq!(props.get("replicas").as_deref(), Some("3"));
/// assert_eq!(props.get_type("replicas"), Some("integer"));
/// assert!(props.get("sshKey").unwrap().ends_with("\n---\nssh-ed25519 AAA"));
/// assert!(!format!("{props:?}").contains("BEGIN PRIVATE KEY"), "Debug hides private keys");
/// assert_eq!(props.len(), 3);
/// ```
#[derive(Clone, Default)]
pub struct PropValueMap {
    /// Insertion-ordered, with lookups and inserts in constant time: a body with many
    /// properties is read in linear time (a list searched on every insert took 49 s for
    /// 40 000 properties, a 0.5 MB body, in a debug build).
    entries: IndexMap<String, PropValue>,
}

impl PropValueMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a property; replacing a value keeps the property's position.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<PropValue>) {
        self.entries.insert(name.into(), value.into());
    }

    /// The property as text (see [`PropValue::as_str`]): a string as it is, other JSON as
    /// JSON text, a key as its private key plus `"\n---\n"` and the public key when
    /// present.
    pub fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        self.get_value(name)?.as_str()
    }

    /// The property's type (see [`PropValue::value_type`]): `string` for a plain string,
    /// the `type` field otherwise.
    pub fn get_type(&self, name: &str) -> Option<&str> {
        self.get_value(name).map(PropValue::value_type)
    }

    /// The property as it is on the wire.
    pub fn get_value(&self, name: &str) -> Option<&PropValue> {
        self.entries.get(name)
    }

    /// The properties, in insertion order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &PropValue)> + '_ {
        self.entries.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// How many properties there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no properties.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Two maps are equal when they hold the same properties, in any order.
impl PartialEq for PropValueMap {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(name, value)| other.get_value(name) == Some(value))
    }
}

impl<K: Into<String>, V: Into<PropValue>> FromIterator<(K, V)> for PropValueMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = Self::new();
        map.extend(iter);
        map
    }
}

impl<K: Into<String>, V: Into<PropValue>> Extend<(K, V)> for PropValueMap {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (name, value) in iter {
            self.insert(name, value);
        }
    }
}

/// Shows every value, with private keys as `****`.
impl fmt::Debug for PropValueMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for PropValueMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (name, value) in self.iter() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for PropValueMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PropValueMapVisitor)
    }
}

/// Reads a JSON object of property values; anything else is an error.
struct PropValueMapVisitor;

impl<'de> Visitor<'de> for PropValueMapVisitor {
    type Value = PropValueMap;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of properties (name: \"value\" or {\"type\": ..., \"value\": ...})")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<PropValueMap, A::Error> {
        let mut map = PropValueMap::new();
        while let Some(name) = access.next_key::<String>()? {
            let value = access.next_value::<Value>()?;
            let value = PropValue::try_from(value)
                .map_err(|e| de::Error::custom(format!("property `{name}`: {e}")))?;
            map.insert(name, value);
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Found by the `prop_value_map` fuzz target: without serde_json's `float_roundtrip`
    /// a long mantissa is read 1 ulp off the correctly rounded value, and the JSON written
    /// back reads as another number.
    #[test]
    fn floats_round_trip_exactly() {
        let text = "1844674814741910323348802.5e3";
        let body = format!("{{\"flavour\": \t\t\t\t{text}}}\n");
        let map: PropValueMap = serde_json::from_str(&body).unwrap();
        let exact: f64 = text.parse().unwrap();
        let read = match map.get_value("flavour") {
            Some(PropValue::Plain(Value::Number(n))) => n.as_f64().unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(read, exact, "correctly rounded");
        let again: PropValueMap =
            serde_json::from_str(&serde_json::to_string(&map).unwrap()).unwrap();
        assert_eq!(again, map);
    }

    fn parse(value: Value) -> Result<PropValueMap, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    fn sample() -> Value {
        json!({
            "plain": "a",
            "typed": {"type": "string", "value": "b"},
            "number": {"type": "integer", "value": 3},
            "map": {"type": "map", "value": {"x": 1}},
            "keyOnly": {"type": "key", "privateKey": "PRIVATE-ONE"},
            "keyPair": {"type": "key", "privateKey": "PRIVATE-TWO", "publicKey": "PUB", "keyName": "k"},
            "count": 7,
            "flag": true,
            "extra": {"type": "timestamp", "value": "t", "note": "kept"},
        })
    }

    #[test]
    fn plain_and_typed_values() {
        let map = parse(sample()).unwrap();
        assert_eq!(map.get("plain").as_deref(), Some("a"));
        assert_eq!(map.get("typed").as_deref(), Some("b"));
        assert_eq!(map.get("number").as_deref(), Some("3"));
        assert_eq!(map.get("map").as_deref(), Some(r#"{"x":1}"#));
        assert_eq!(map.get("count").as_deref(), Some("7"));
        assert_eq!(map.get("missing"), None);
        assert!(matches!(map.get("plain"), Some(Cow::Borrowed("a"))));
    }

    #[test]
    fn key_values() {
        let map = parse(sample()).unwrap();
        assert_eq!(map.get("keyOnly").as_deref(), Some("PRIVATE-ONE"));
        assert_eq!(map.get("keyPair").as_deref(), Some("PRIVATE-TWO\n---\nPUB"));
        assert_eq!(
            map.get_value("keyPair"),
            Some(&PropValue::key(
                "PRIVATE-TWO",
                Some("PUB".into()),
                Some("k".into())
            ))
        );
    }

    #[test]
    fn types() {
        let map = parse(sample()).unwrap();
        let types: Vec<_> = map.iter().map(|(n, _)| map.get_type(n).unwrap()).collect();
        assert_eq!(
            types,
            [
                "string",
                "string",
                "integer",
                "map",
                "key",
                "key",
                "integer",
                "boolean",
                "timestamp"
            ]
        );
        assert_eq!(map.get_type("missing"), None);
    }

    #[test]
    fn iteration_keeps_insertion_order() {
        let mut map = PropValueMap::new();
        map.insert("z", "1");
        map.insert("a", PropValue::typed("integer", 2));
        map.insert("m", String::from("3"));
        map.insert("z", "replaced");
        let names: Vec<_> = map.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["z", "a", "m"]);
        assert_eq!(map.get("z").as_deref(), Some("replaced"));
        assert_eq!(map.len(), 3);
        assert!(!map.is_empty());
        assert!(PropValueMap::new().is_empty());

        let parsed = parse(sample()).unwrap();
        let names: Vec<_> = parsed.iter().map(|(n, _)| n).collect();
        let expected: Vec<_> = sample().as_object().unwrap().keys().cloned().collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn json_round_trip() {
        let map = parse(sample()).unwrap();
        assert_eq!(serde_json::to_value(&map).unwrap(), sample());
        let text = serde_json::to_string(&map).unwrap();
        assert_eq!(serde_json::from_str::<PropValueMap>(&text).unwrap(), map);
    }

    #[test]
    fn from_iterator_and_equality_ignore_order() {
        let a: PropValueMap = [("x", "1"), ("y", "2")].into_iter().collect();
        let b: PropValueMap = [("y", "2"), ("x", "1")].into_iter().collect();
        assert_eq!(a, b);
        assert_ne!(a, [("x", "1")].into_iter().collect());
    }

    #[test]
    fn debug_hides_private_keys() {
        let map = parse(sample()).unwrap();
        let debug = format!("{map:?}");
        assert!(!debug.contains("PRIVATE"), "{debug}");
        assert!(debug.contains(HIDDEN), "{debug}");
        assert!(debug.contains("PUB"), "{debug}");
        let pretty = format!("{:#?}", map.get_value("keyOnly").unwrap());
        assert!(
            !pretty.contains("PRIVATE") && pretty.contains(HIDDEN),
            "{pretty}"
        );
    }

    #[test]
    fn bad_inputs_are_errors() {
        let cases = [
            (json!(3), "an object of properties"),
            (json!(null), "an object of properties"),
            (json!(["a"]), "an object of properties"),
            (
                json!({"p": {"value": "x"}}),
                "property `p`: a typed property value needs a `type`",
            ),
            (
                json!({"p": {"type": 1}}),
                "property `p`: `type` must be a string",
            ),
            (
                json!({"p": {"type": "key", "publicKey": "x"}}),
                "property `p`: a key property value needs a `privateKey`",
            ),
            (
                json!({"p": {"type": "key", "privateKey": 5}}),
                "`privateKey` of a key must be a string",
            ),
        ];
        for (input, expected) in cases {
            let err = parse(input.clone()).unwrap_err();
            assert!(err.contains(expected), "{input}: {err}");
        }
    }

    #[test]
    fn typed_value_without_value() {
        let map = parse(json!({"p": {"type": "string"}})).unwrap();
        assert_eq!(map.get("p"), None);
        assert_eq!(map.get_type("p"), Some("string"));
        assert_eq!(
            serde_json::to_value(&map).unwrap(),
            json!({"p": {"type": "string"}})
        );
    }
}
