//! NVD JSON 2.0 importer: keeps one CVSS vector and base score per CVE.
//!
//! The input is one of NVD's yearly data feeds (`nvdcve-2.0-<YEAR>.json.gz`, gzip or
//! plain), a directory of them, or a CVE API 2.0 response page, which has the same shape:
//! `{"format": "NVD_CVE", "version": "2.0", "vulnerabilities": [{"cve": {...}}]}`. A
//! yearly feed is a few hundred MB of JSON once decompressed, so it is parsed as a stream,
//! one CVE at a time.
//!
//! Within a CVE the newest CVSS version wins (4.0, then 3.1, 3.0 and 2.0), and within a
//! version NVD's own `Primary` assessment wins over a CNA's `Secondary` one.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use flate2::read::GzDecoder;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::{null_as_default, Import};
use crate::record::CvssRecord;
use crate::store::Writer;
use crate::DbError;

#[derive(Deserialize)]
struct Item {
    cve: Cve,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cve {
    id: String,
    #[serde(default)]
    last_modified: Option<String>,
    #[serde(default)]
    metrics: Option<Metrics>,
}

#[derive(Deserialize)]
struct Metrics {
    #[serde(
        default,
        rename = "cvssMetricV40",
        deserialize_with = "null_as_default"
    )]
    v4_0: Vec<Metric>,
    #[serde(
        default,
        rename = "cvssMetricV31",
        deserialize_with = "null_as_default"
    )]
    v3_1: Vec<Metric>,
    #[serde(
        default,
        rename = "cvssMetricV30",
        deserialize_with = "null_as_default"
    )]
    v3_0: Vec<Metric>,
    #[serde(default, rename = "cvssMetricV2", deserialize_with = "null_as_default")]
    v2: Vec<Metric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metric {
    /// `Primary` for NVD's own assessment, `Secondary` for a CNA's.
    #[serde(default, rename = "type")]
    kind: Option<String>,
    cvss_data: CvssData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CvssData {
    vector_string: String,
    #[serde(default)]
    base_score: Option<f64>,
}

/// Imports the CVSS data of `path`: a feed file (gzip or plain JSON) or a directory of
/// `*.json` and `*.json.gz` feed files, read in name order.
pub(crate) fn import(
    path: &Path,
    import: &mut Import<'_>,
    writer: &mut Writer<'_>,
) -> Result<(), DbError> {
    if !path.is_dir() {
        return import_file(path, import.location.to_owned(), import, writer);
    }
    let walker = walkdir::WalkDir::new(path)
        .follow_links(true)
        .sort_by_file_name();
    for entry in walker {
        let entry = entry.map_err(|error| {
            let at = error.path().unwrap_or(path).display().to_string();
            DbError::io(at, error.into())
        })?;
        let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
        if !entry.file_type().is_file() || !(name.ends_with(".json") || name.ends_with(".json.gz"))
        {
            continue;
        }
        let location = format!("{} in {}", name, import.location);
        import_file(entry.path(), location, import, writer)?;
    }
    Ok(())
}

fn import_file(
    path: &Path,
    location: String,
    import: &mut Import<'_>,
    writer: &mut Writer<'_>,
) -> Result<(), DbError> {
    let io_error = |error| DbError::io(path.display(), error);
    let mut file = File::open(path).map_err(io_error)?;
    let mut magic = [0u8; 2];
    let gzip = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    file.rewind().map_err(io_error)?;
    let reader: Box<dyn Read> = if gzip {
        Box::new(GzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(file)
    };
    let limit = import.limits.max_total_bytes;
    let reader = BufReader::new(reader.take(limit + 1));

    let mut state = State {
        import,
        writer,
        storage_error: None,
        in_feed: false,
    };
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let result = Feed(&mut state)
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    if let Some(error) = state.storage_error {
        return Err(error);
    }
    let in_feed = state.in_feed;
    result.map_err(|error| {
        let reason = if error.is_eof() && in_feed {
            format!("{error} (cut, or larger than {limit} bytes once decompressed)")
        } else {
            error.to_string()
        };
        DbError::InvalidInput {
            what: "NVD JSON 2.0 feed".to_owned(),
            location,
            reason,
        }
    })
}

struct State<'a, 'b, 'w> {
    import: &'a mut Import<'b>,
    writer: &'a mut Writer<'w>,
    /// A storage error that aborted the parse; it takes precedence over the parse error.
    storage_error: Option<DbError>,
    /// Whether the `vulnerabilities` list was reached.
    in_feed: bool,
}

/// Visits the top-level object, streaming its `vulnerabilities` list.
struct Feed<'s, 'a, 'b, 'w>(&'s mut State<'a, 'b, 'w>);

impl<'de> DeserializeSeed<'de> for Feed<'_, '_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Feed<'_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an NVD JSON 2.0 object with a `vulnerabilities` list")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "vulnerabilities" {
                self.0.in_feed = true;
                map.next_value_seed(Vulnerabilities(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct Vulnerabilities<'s, 'a, 'b, 'w>(&'s mut State<'a, 'b, 'w>);

impl<'de> DeserializeSeed<'de> for Vulnerabilities<'_, '_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Vulnerabilities<'_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a list of `{\"cve\": {...}}` items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<Item>()? {
            if let Err(error) = store(self.0, item.cve) {
                self.0.storage_error = Some(error);
                return Err(serde::de::Error::custom("storage failed"));
            }
        }
        Ok(())
    }
}

fn store(state: &mut State<'_, '_, '_>, cve: Cve) -> Result<(), DbError> {
    state.import.saw_update_time(cve.last_modified.as_deref());
    let Some(metric) = cve.metrics.as_ref().and_then(preferred_metric) else {
        state.import.without_data += 1;
        return Ok(());
    };
    state.writer.insert_cvss(&CvssRecord {
        id: cve.id,
        vector: metric.cvss_data.vector_string.clone(),
        score: metric.cvss_data.base_score,
        source: state.import.name.to_owned(),
    })?;
    state.import.records += 1;
    Ok(())
}

/// Returns the metric of the newest CVSS version, NVD's `Primary` one when present.
fn preferred_metric(metrics: &Metrics) -> Option<&Metric> {
    [&metrics.v4_0, &metrics.v3_1, &metrics.v3_0, &metrics.v2]
        .into_iter()
        .find(|list| !list.is_empty())
        .and_then(|list| {
            list.iter()
                .find(|metric| metric.kind.as_deref() == Some("Primary"))
                .or_else(|| list.first())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(kind: &str, vector: &str) -> Metric {
        Metric {
            kind: Some(kind.to_owned()),
            cvss_data: CvssData {
                vector_string: vector.to_owned(),
                base_score: None,
            },
        }
    }

    #[test]
    fn newest_version_then_primary_wins() {
        let metrics = Metrics {
            v4_0: Vec::new(),
            v3_1: vec![
                metric("Secondary", "CVSS:3.1/cna"),
                metric("Primary", "CVSS:3.1/nvd"),
            ],
            v3_0: Vec::new(),
            v2: vec![metric("Primary", "AV:N")],
        };
        let chosen = preferred_metric(&metrics).unwrap();
        assert_eq!(chosen.cvss_data.vector_string, "CVSS:3.1/nvd");
    }

    #[test]
    fn secondary_used_without_primary() {
        let metrics = Metrics {
            v4_0: vec![metric("Secondary", "CVSS:4.0/cna")],
            v3_1: vec![metric("Primary", "CVSS:3.1/nvd")],
            v3_0: Vec::new(),
            v2: Vec::new(),
        };
        let chosen = preferred_metric(&metrics).unwrap();
        assert_eq!(chosen.cvss_data.vector_string, "CVSS:4.0/cna");
    }
}
