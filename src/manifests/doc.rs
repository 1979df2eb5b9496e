//! One YAML document straight into its typed resource.
//!
//! `apiVersion` and `kind` are read first; the rest of the mapping then feeds
//! the resource's own `Deserialize`, with no tree in between. Building a
//! `serde_json::Value` per document and converting it was half of
//! `evaluate`'s time at 100,000 tickets. Keys that come before `apiVersion`
//! and `kind` (rare) are buffered and replayed.
//!
//! On any error the caller parses the stream again the slow way (into
//! `serde_json::Value`, then typed) for a message that names the object and
//! the field: errors are rare, and that path is the one tested for wording.

use std::fmt;

use serde::de::value::StringDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, IntoDeserializer, MapAccess,
    SeqAccess, Visitor,
};
use serde_json::Value;

use crate::api::{API_VERSION, Publisher, SlaPolicy, SupportTier, Ticket, Workspace};

/// A document of a manifest stream.
pub enum Doc {
    Policy(Box<SlaPolicy>),
    Tier(Box<SupportTier>),
    Workspace(Box<Workspace>),
    Ticket(Box<Ticket>),
    Publisher(Box<Publisher>),
    /// `kind: List`, `apiVersion: v1`.
    List(Vec<Doc>),
    /// An object of another API group (a Namespace, a ConfigMap, ...):
    /// skipped and counted, or refused under `--strict-kinds`.
    Foreign {
        api_version: String,
        kind: String,
        /// `namespace/name` or `name`.
        name: String,
    },
    /// Read whole, but refused (not a mapping, no kind, a kind or version
    /// of our group that does not exist): the caller takes the slow path
    /// for the message; the slow path leaves it in place of a refused one.
    Refused,
}

impl<'de> de::Deserialize<'de> for Doc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DocVisitor)
    }
}

struct DocVisitor;

macro_rules! scalar_is_not_a_mapping {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method<E: de::Error>(self, _: $ty) -> Result<Doc, E> {
            Ok(Doc::Refused)
        })*
    };
}

impl<'de> Visitor<'de> for DocVisitor {
    type Value = Doc;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object (a mapping with apiVersion and kind)")
    }

    scalar_is_not_a_mapping!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64,
        visit_str: &str, visit_bytes: &[u8]);

    fn visit_unit<E: de::Error>(self) -> Result<Doc, E> {
        Ok(Doc::List(Vec::new()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Doc, E> {
        Ok(Doc::List(Vec::new()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Doc, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Doc::Refused)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Doc, A::Error> {
        let mut api_version: Option<String> = None;
        let mut kind: Option<String> = None;
        let mut buffered: Vec<(String, Value)> = Vec::new();
        let mut first: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "apiVersion" if api_version.is_none() => {
                    api_version = Some(map.next_value::<Option<String>>()?.unwrap_or_default())
                }
                "kind" if kind.is_none() => {
                    kind = Some(map.next_value::<Option<String>>()?.unwrap_or_default())
                }
                _ if api_version.is_some() && kind.is_some() => {
                    first = Some(key);
                    break;
                }
                _ => {
                    let value = map.next_value::<Value>()?;
                    buffered.push((key, value));
                }
            }
        }
        let api_version = api_version.unwrap_or_default();
        let kind = kind.unwrap_or_default();
        let rest = Rest {
            buffered: buffered.into_iter(),
            done: first.is_none(),
            first,
            inner: map,
            pending: None,
        };
        if kind == "List" && api_version == "v1" {
            let list: ListBody = typed(rest)?;
            return Ok(Doc::List(list.items.unwrap_or_default()));
        }
        if kind.is_empty() || api_version.is_empty() {
            rest.drain()?;
            return Ok(Doc::Refused);
        }
        if api_version.split_once('/').map_or("", |(g, _)| g) != super::GROUP {
            let body: ForeignBody = typed(rest)?;
            let name = body.metadata.map_or(String::new(), |m| match m.namespace {
                Some(ns) if !ns.is_empty() => format!("{ns}/{}", m.name.unwrap_or_default()),
                _ => m.name.unwrap_or_default(),
            });
            return Ok(Doc::Foreign {
                api_version,
                kind,
                name,
            });
        }
        if api_version != API_VERSION {
            rest.drain()?;
            return Ok(Doc::Refused);
        }
        Ok(match kind.as_str() {
            "SlaPolicy" => known(rest)?.map_or(Doc::Refused, Doc::Policy),
            "SupportTier" => known(rest)?.map_or(Doc::Refused, Doc::Tier),
            "Workspace" => known(rest)?.map_or(Doc::Refused, Doc::Workspace),
            "Ticket" => known(rest)?.map_or(Doc::Refused, Doc::Ticket),
            "Publisher" => known(rest)?.map_or(Doc::Refused, Doc::Publisher),
            _ => {
                rest.drain()?;
                Doc::Refused
            }
        })
    }
}

/// What is read of a foreign object: its name, for `--strict-kinds`.
#[derive(serde::Deserialize)]
struct ForeignBody {
    metadata: Option<ForeignMeta>,
}

#[derive(serde::Deserialize)]
struct ForeignMeta {
    name: Option<String>,
    namespace: Option<String>,
}

#[derive(serde::Deserialize)]
struct ListBody {
    items: Option<Vec<Doc>>,
}

/// The remaining mapping entries, buffered ones first.
struct Rest<A> {
    buffered: std::vec::IntoIter<(String, Value)>,
    /// A key already read from `inner` whose value is still there.
    first: Option<String>,
    inner: A,
    pending: Option<Value>,
    done: bool,
}

impl<'de, A: MapAccess<'de>> Rest<A> {
    fn drain(mut self) -> Result<(), A::Error> {
        if self.first.take().is_some() {
            self.inner.next_value::<IgnoredAny>()?;
        }
        if !self.done {
            while self.inner.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        }
        Ok(())
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Rest<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        if let Some((key, value)) = self.buffered.next() {
            self.pending = Some(value);
            let key: StringDeserializer<A::Error> = key.into_deserializer();
            return seed.deserialize(key).map(Some);
        }
        if let Some(key) = self.first.take() {
            let key: StringDeserializer<A::Error> = key.into_deserializer();
            return seed.deserialize(key).map(Some);
        }
        if self.done {
            return Ok(None);
        }
        let key = self.inner.next_key_seed(seed)?;
        self.done = key.is_none();
        Ok(key)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.pending.take() {
            Some(value) => seed.deserialize(value).map_err(de::Error::custom),
            None => self.inner.next_value_seed(seed),
        }
    }
}

fn typed<'de, T: DeserializeOwned, A: MapAccess<'de>>(rest: Rest<A>) -> Result<T, A::Error> {
    T::deserialize(de::value::MapAccessDeserializer::new(rest))
}

/// The resource, or `None` if a field was not one of its own (an unknown
/// field, which the API server refuses under strict field validation: the
/// slow path then says which).
fn known<'de, T: DeserializeOwned, A: MapAccess<'de>>(
    rest: Rest<A>,
) -> Result<Option<Box<T>>, A::Error> {
    let mut unknown = false;
    let value: T = serde_ignored::deserialize(de::value::MapAccessDeserializer::new(rest), |_| {
        unknown = true
    })?;
    Ok((!unknown).then(|| Box::new(value)))
}
