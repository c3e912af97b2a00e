use std::io::Write;

use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

use super::*;

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, content) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn pom(group: &str, artifact: &str, version: &str) -> Vec<u8> {
    format!("#Created by Maven\ngroupId={group}\nartifactId={artifact}\nversion={version}\n")
        .into_bytes()
}

fn identities(artifacts: &[Artifact]) -> Vec<(String, String, String, Evidence)> {
    artifacts
        .iter()
        .map(|artifact| {
            (
                artifact.name(),
                artifact.version.clone(),
                artifact.location.clone(),
                artifact.evidence,
            )
        })
        .collect()
}

#[test]
fn pom_properties_names_artifact() {
    let jar = zip_of(&[(
        "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
        &pom("org.apache.logging.log4j", "log4j-core", "2.14.1"),
    )]);
    let mut warnings = Vec::new();
    let artifacts = read_archive(&jar, "opt/app/lib/backend.jar", &mut warnings).unwrap();
    assert_eq!(
        identities(&artifacts),
        [(
            "org.apache.logging.log4j:log4j-core".to_string(),
            "2.14.1".to_string(),
            "opt/app/lib/backend.jar".to_string(),
            Evidence::PomProperties
        )]
    );
    assert!(warnings.is_empty());
}

#[test]
fn shaded_jar_reports_every_pom() {
    let jar = zip_of(&[
        (
            "META-INF/maven/com.example/app/pom.properties",
            &pom("com.example", "app", "1.0"),
        ),
        (
            "META-INF/maven/com.google.guava/guava/pom.properties",
            &pom("com.google.guava", "guava", "31.1-jre"),
        ),
        (
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\nImplementation-Title: other\nImplementation-Version: 9\n",
        ),
    ]);
    let artifacts = read_archive(&jar, "app.jar", &mut Vec::new()).unwrap();
    let names: Vec<String> = artifacts.iter().map(Artifact::name).collect();
    assert_eq!(names, ["com.example:app", "com.google.guava:guava"]);
}

#[test]
fn nested_jars_carry_bang_locations() {
    let inner = zip_of(&[(
        "META-INF/maven/org.apache.logging.log4j/log4j-api/pom.properties",
        &pom("org.apache.logging.log4j", "log4j-api", "2.14.1"),
    )]);
    let middle = zip_of(&[("WEB-INF/lib/log4j-api-2.14.1.jar", &inner)]);
    let outer = zip_of(&[
        (
            "META-INF/maven/com.example/web/pom.properties",
            &pom("com.example", "web", "2.0"),
        ),
        ("lib/inner.war", &middle),
    ]);
    let artifacts = read_archive(&outer, "srv/app.ear", &mut Vec::new()).unwrap();
    let locations: Vec<(String, String)> = artifacts
        .iter()
        .map(|artifact| (artifact.name(), artifact.location.clone()))
        .collect();
    assert_eq!(
        locations,
        [
            ("com.example:web".to_string(), "srv/app.ear".to_string()),
            (
                "org.apache.logging.log4j:log4j-api".to_string(),
                "srv/app.ear!lib/inner.war!WEB-INF/lib/log4j-api-2.14.1.jar".to_string()
            ),
        ]
    );
}

#[test]
fn nesting_stops_at_maximum_depth() {
    let mut archive = zip_of(&[(
        "META-INF/maven/g/deepest/pom.properties",
        &pom("g", "deepest", "1"),
    )]);
    for level in 0..=MAX_NESTING {
        archive = zip_of(&[(&format!("level{level}.jar"), &archive)]);
    }
    let artifacts = read_archive(&archive, "top.jar", &mut Vec::new()).unwrap();
    assert!(artifacts
        .iter()
        .all(|artifact| artifact.name() != "g:deepest"));
}

#[test]
fn manifest_identifies_jar_without_pom() {
    let jar = zip_of(&[(
        "META-INF/MANIFEST.MF",
        b"Manifest-Version: 1.0\r\nBundle-SymbolicName: org.apache.flink.json;singleton:=true\r\nBundle-Version: 1.14.0\r\nImplementation-Vendor-Id: org.apache.fl\r\n ink\r\n",
    )]);
    let artifacts = read_archive(&jar, "flink.jar", &mut Vec::new()).unwrap();
    assert_eq!(
        identities(&artifacts),
        [(
            "org.apache.flink:json".to_string(),
            "1.14.0".to_string(),
            "flink.jar".to_string(),
            Evidence::Manifest
        )]
    );
}

#[test]
fn file_name_is_last_resort() {
    let jar = zip_of(&[("com/example/A.class", b"\xca\xfe\xba\xbe")]);
    let artifacts = read_archive(
        &jar,
        "lib/flink-shaded-zookeeper-3.4.14.jar",
        &mut Vec::new(),
    )
    .unwrap();
    assert_eq!(
        identities(&artifacts),
        [(
            "flink-shaded-zookeeper".to_string(),
            "3.4.14".to_string(),
            "lib/flink-shaded-zookeeper-3.4.14.jar".to_string(),
            Evidence::FileName
        )]
    );
}

#[test]
fn unversioned_jar_without_metadata_is_skipped() {
    let jar = zip_of(&[("A.class", b"\xca\xfe\xba\xbe")]);
    assert!(read_archive(&jar, "lib/app.jar", &mut Vec::new())
        .unwrap()
        .is_empty());
}

#[test]
fn corrupt_nested_jar_becomes_warning() {
    let outer = zip_of(&[
        ("META-INF/maven/g/a/pom.properties", &pom("g", "a", "1")),
        ("BOOT-INF/lib/broken.jar", b"not a zip"),
    ]);
    let mut warnings = Vec::new();
    let artifacts = read_archive(&outer, "app.jar", &mut warnings).unwrap();
    assert_eq!(artifacts.len(), 1);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].starts_with("app.jar!BOOT-INF/lib/broken.jar: invalid zip archive"));
}

#[test]
fn non_zip_outer_archive_is_error() {
    assert!(matches!(
        read_archive(b"PK\x03\x04garbage", "x.jar", &mut Vec::new()),
        Err(ArchiveError::Zip(_))
    ));
}

#[test]
fn pom_properties_needs_all_coordinates() {
    assert_eq!(parse_pom_properties(b"groupId=g\nartifactId=a\n"), None);
    assert_eq!(
        parse_pom_properties(b"! comment\nversion : 1.0\ngroupId=g\nartifactId=a"),
        Some(("g".to_string(), "a".to_string(), "1.0".to_string()))
    );
}

#[test]
fn archive_extensions_are_recognized() {
    for path in [
        "a.jar",
        "b/c.WAR",
        "d.ear",
        "plugins/git.jpi",
        "plugins/x.hpi",
    ] {
        assert!(is_archive_path(path), "{path}");
    }
    for path in [".jar", "a.jar.sha1", "jar", "lib/a.zip"] {
        assert!(!is_archive_path(path), "{path}");
    }
}

#[test]
fn file_name_version_split() {
    assert_eq!(
        identity_from_file_name("log4j-1.2-1.2.17.jar"),
        Some(("log4j".to_string(), "1.2-1.2.17".to_string()))
    );
    assert_eq!(
        identity_from_file_name("commons-logging-1.2.jar"),
        Some(("commons-logging".to_string(), "1.2".to_string()))
    );
    assert_eq!(identity_from_file_name("logging-backend.jar"), None);
}
