//! CVE JSON 5 importer: keeps one CVSS vector and base score per CVE.
//!
//! The CNA container's metrics win over ADP containers (CISA ADP adds CVSS to CVEs whose
//! CNA published none). Within a container the newest CVSS version wins: 4.0, then 3.1,
//! 3.0 and 2.0.

use std::path::Path;

use serde::Deserialize;

use super::{null_as_default, Import};
use crate::input::{for_each_document, Document};
use crate::record::CvssRecord;
use crate::store::Writer;
use crate::DbError;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CveRecord {
    cve_metadata: CveMetadata,
    #[serde(default)]
    containers: Option<Containers>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CveMetadata {
    cve_id: String,
    #[serde(default)]
    date_updated: Option<String>,
}

#[derive(Deserialize)]
struct Containers {
    #[serde(default)]
    cna: Option<Container>,
    #[serde(default, deserialize_with = "null_as_default")]
    adp: Vec<Container>,
}

#[derive(Deserialize)]
struct Container {
    #[serde(default, deserialize_with = "null_as_default")]
    metrics: Vec<Metric>,
}

#[derive(Deserialize)]
struct Metric {
    #[serde(default, rename = "cvssV4_0")]
    v4_0: Option<Cvss>,
    #[serde(default, rename = "cvssV3_1")]
    v3_1: Option<Cvss>,
    #[serde(default, rename = "cvssV3_0")]
    v3_0: Option<Cvss>,
    #[serde(default, rename = "cvssV2_0")]
    v2_0: Option<Cvss>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Cvss {
    vector_string: String,
    #[serde(default)]
    base_score: Option<f64>,
}

/// Imports the CVSS data of every CVE record of `path` (a zip, a directory or one file).
pub(crate) fn import(
    path: &Path,
    import: &mut Import<'_>,
    writer: &mut Writer<'_>,
) -> Result<(), DbError> {
    let limits = *import.limits;
    for_each_document(path, &[".json"], &limits, |document| {
        import_document(&document, import, writer)
    })
}

fn import_document(
    document: &Document<'_>,
    import: &mut Import<'_>,
    writer: &mut Writer<'_>,
) -> Result<(), DbError> {
    let record: CveRecord = match serde_json::from_slice(document.bytes) {
        Ok(record) => record,
        Err(error) => {
            return import.skip(DbError::InvalidInput {
                what: format!("CVE record {}", document.member),
                location: import.location.to_owned(),
                reason: error.to_string(),
            })
        }
    };
    import.saw_update_time(record.cve_metadata.date_updated.as_deref());

    let Some(containers) = record.containers else {
        import.without_data += 1;
        return Ok(());
    };
    let from_cna = containers.cna.as_ref().and_then(newest_cvss);
    let Some(cvss) = from_cna.or_else(|| {
        containers
            .adp
            .iter()
            .filter_map(newest_cvss)
            .max_by_key(|(rank, _)| *rank)
    }) else {
        import.without_data += 1;
        return Ok(());
    };

    let (_, cvss) = cvss;
    writer.insert_cvss(&CvssRecord {
        id: record.cve_metadata.cve_id,
        vector: cvss.vector_string,
        score: cvss.base_score,
        source: import.name.to_owned(),
    })?;
    import.records += 1;
    Ok(())
}

/// Returns the newest-version CVSS of a container with its rank (4 for v4.0 down to 1).
fn newest_cvss(container: &Container) -> Option<(u8, Cvss)> {
    container
        .metrics
        .iter()
        .flat_map(|metric| {
            [
                (4, &metric.v4_0),
                (3, &metric.v3_1),
                (2, &metric.v3_0),
                (1, &metric.v2_0),
            ]
        })
        .filter_map(|(rank, cvss)| Some((rank, cvss.as_ref()?.clone())))
        .max_by_key(|(rank, _)| *rank)
}
