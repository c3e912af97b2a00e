//! Debian Security Tracker importer.
//!
//! The input is the JSON document that security-tracker.debian.org publishes at
//! `/tracker/data/json`: `{source: {CVE: {description, scope, releases: {codename:
//! {status, repositories, fixed_version, urgency, nodsa, nodsa_reason}}}}}`. The document
//! is about 70 MB, so it is parsed with a visitor that turns one CVE entry at a time into
//! records and never builds the whole tree in memory.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::Import;
use crate::input::read_limited;
use crate::store::{DebianEntry, DebianGroup, Writer};
use crate::DbError;

#[derive(Deserialize)]
struct TrackerEntry {
    #[serde(default)]
    description: Option<String>,
    /// The tracker writes an entry without releases as `[]` instead of `{}`.
    #[serde(default, deserialize_with = "map_or_empty_list")]
    releases: BTreeMap<String, TrackerRelease>,
}

#[derive(Deserialize)]
struct TrackerRelease {
    status: String,
    #[serde(default)]
    fixed_version: Option<String>,
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    nodsa: Option<String>,
    #[serde(default)]
    nodsa_reason: Option<String>,
}

/// Deserialises a map, or a list as an empty map when the list is empty.
fn map_or_empty_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, TrackerRelease>, D::Error> {
    struct MapOrEmptyList;

    impl<'de> Visitor<'de> for MapOrEmptyList {
        type Value = BTreeMap<String, TrackerRelease>;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("an object mapping release names to their status, or []")
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            if seq.next_element::<IgnoredAny>()?.is_some() {
                return Err(serde::de::Error::custom(
                    "expected an object or an empty list of releases",
                ));
            }
            Ok(BTreeMap::new())
        }
    }

    deserializer.deserialize_any(MapOrEmptyList)
}

/// Parse state shared by the nested visitors.
struct State<'a, 'b, 'w> {
    import: &'a mut Import<'b>,
    writer: &'a mut Writer<'w>,
    /// Source package and CVE being parsed, for error messages.
    position: (String, String),
    /// A storage error that aborted the parse; it takes precedence over the parse error.
    storage_error: Option<DbError>,
}

/// Imports the tracker JSON document at `path`.
pub(crate) fn import(
    path: &Path,
    import: &mut Import<'_>,
    writer: &mut Writer<'_>,
) -> Result<(), DbError> {
    if path.is_dir() {
        return Err(DbError::InvalidInput {
            what: "Debian tracker JSON".to_owned(),
            location: import.location.to_owned(),
            reason: "expected a file, found a directory".to_owned(),
        });
    }
    // Parsing from memory is several times faster than from a reader; the document is
    // the largest single input, bounded by `max_document_bytes`.
    let bytes = read_limited(path, import.limits.max_document_bytes)?;
    let location = import.location.to_owned();
    let mut state = State {
        import,
        writer,
        position: Default::default(),
        storage_error: None,
    };

    let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
    let result = TopLevel(&mut state)
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    if let Some(error) = state.storage_error {
        return Err(error);
    }
    result.map_err(|error| {
        let (source, cve) = &state.position;
        let at = match (source.is_empty(), cve.is_empty()) {
            (true, _) => String::new(),
            (false, true) => format!(" at `{source}`"),
            (false, false) => format!(" at `{source}`.`{cve}`"),
        };
        DbError::InvalidInput {
            what: "Debian tracker JSON".to_owned(),
            location,
            reason: format!("{error}{at}"),
        }
    })
}

/// Visits `{source: {...}}`.
struct TopLevel<'s, 'a, 'b, 'w>(&'s mut State<'a, 'b, 'w>);

impl<'de> DeserializeSeed<'de> for TopLevel<'_, '_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an object mapping source package names to CVE entries")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(source) = map.next_key::<String>()? {
            self.0.position = (source, String::new());
            map.next_value_seed(SourcePackage(&mut *self.0))?;
        }
        Ok(())
    }
}

/// Visits `{CVE: {description, releases}}` of one source package.
struct SourcePackage<'s, 'a, 'b, 'w>(&'s mut State<'a, 'b, 'w>);

impl<'de> DeserializeSeed<'de> for SourcePackage<'_, '_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SourcePackage<'_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an object mapping CVE ids to tracker entries")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let state = self.0;
        let mut releases: BTreeMap<String, Vec<DebianEntry>> = BTreeMap::new();
        while let Some(cve) = map.next_key::<String>()? {
            state.position.1 = cve;
            let entry: TrackerEntry = map.next_value()?;
            if let Err(error) = collect_entry(state, entry, &mut releases) {
                state.storage_error = Some(error);
                return Err(serde::de::Error::custom("storage failed"));
            }
        }
        state.position.1.clear();

        let package = &state.position.0;
        let source = state.import.name.to_owned();
        for (release, entries) in releases {
            let group = DebianGroup {
                source: source.clone(),
                entries,
            };
            if let Err(error) = state.writer.insert_debian_group(&release, package, &group) {
                state.storage_error = Some(error);
                return Err(serde::de::Error::custom("storage failed"));
            }
        }
        Ok(())
    }
}

/// Stores the description of a CVE entry and adds one entry per release to `releases`.
fn collect_entry(
    state: &mut State<'_, '_, '_>,
    entry: TrackerEntry,
    releases: &mut BTreeMap<String, Vec<DebianEntry>>,
) -> Result<(), DbError> {
    let (package, cve) = &state.position;
    if let Some(description) = entry.description.filter(|text| !text.is_empty()) {
        state
            .writer
            .insert_debian_description(package, cve, &description)?;
    }
    for (release, info) in entry.releases {
        releases.entry(release).or_default().push(DebianEntry {
            id: cve.clone(),
            status: info.status,
            fixed_version: info.fixed_version,
            urgency: info.urgency,
            nodsa: info.nodsa,
            nodsa_reason: info.nodsa_reason,
        });
        state.import.records += 1;
    }
    Ok(())
}
