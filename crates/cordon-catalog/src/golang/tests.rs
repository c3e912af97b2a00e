use super::*;

const BASE: u64 = 0x40_0000;
const PAYLOAD: usize = 128;
const SENTINEL_START: &[u8; 16] = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6";
const SENTINEL_END: &[u8; 16] = b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2";

const MODINFO: &str = "path\texample.com/tool\n\
mod\texample.com/tool\t(devel)\t\n\
dep\tgolang.org/x/net\tv0.7.0\th1:abc=\n\
dep\tgithub.com/old/lib\tv1.0.0\th1:def=\n\
=>\tgithub.com/fork/lib\tv1.0.1\th1:ghi=\n\
dep\texample.com/local\tv0.0.0\t\n\
=>\t../local\t\t\n\
build\t-trimpath=true\n\
build\tGOOS=linux\n";

fn framed(modinfo: &str) -> Vec<u8> {
    let mut framed = SENTINEL_START.to_vec();
    framed.extend_from_slice(modinfo.as_bytes());
    framed.extend_from_slice(SENTINEL_END);
    framed
}

fn uvarint(mut value: usize, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Builds a little-endian ELF64 executable with one read-write PT_LOAD segment mapping the
/// whole file at `BASE`, `payload` at file offset `PAYLOAD`, and, when `section` is true,
/// section headers naming the payload `.go.buildinfo`.
fn elf(payload: &[u8], section: bool) -> Vec<u8> {
    let mut file = vec![0u8; PAYLOAD];
    file.extend_from_slice(payload);
    let mut section_headers = Vec::new();
    let mut shoff = 0u64;
    let mut shnum = 0u16;
    if section {
        let names = b"\0.go.buildinfo\0.shstrtab\0";
        let names_offset = file.len();
        file.extend_from_slice(names);
        while !file.len().is_multiple_of(8) {
            file.push(0);
        }
        shoff = file.len() as u64;
        shnum = 3;
        section_headers.extend_from_slice(&[0u8; 64]);
        for (name, kind, flags, addr, offset, size) in [
            (
                1u32,
                1u32,
                3u64,
                BASE + PAYLOAD as u64,
                PAYLOAD as u64,
                payload.len() as u64,
            ),
            (15, 3, 0, 0, names_offset as u64, names.len() as u64),
        ] {
            section_headers.extend_from_slice(&name.to_le_bytes());
            section_headers.extend_from_slice(&kind.to_le_bytes());
            section_headers.extend_from_slice(&flags.to_le_bytes());
            section_headers.extend_from_slice(&addr.to_le_bytes());
            section_headers.extend_from_slice(&offset.to_le_bytes());
            section_headers.extend_from_slice(&size.to_le_bytes());
            section_headers.extend_from_slice(&0u32.to_le_bytes());
            section_headers.extend_from_slice(&0u32.to_le_bytes());
            section_headers.extend_from_slice(&1u64.to_le_bytes());
            section_headers.extend_from_slice(&0u64.to_le_bytes());
        }
        file.extend_from_slice(&section_headers);
    }
    let length = file.len() as u64;

    let mut header = Vec::new();
    header.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    header.extend_from_slice(&2u16.to_le_bytes());
    header.extend_from_slice(&62u16.to_le_bytes());
    header.extend_from_slice(&1u32.to_le_bytes());
    header.extend_from_slice(&0u64.to_le_bytes());
    header.extend_from_slice(&64u64.to_le_bytes());
    header.extend_from_slice(&shoff.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    header.extend_from_slice(&64u16.to_le_bytes());
    header.extend_from_slice(&56u16.to_le_bytes());
    header.extend_from_slice(&1u16.to_le_bytes());
    header.extend_from_slice(&64u16.to_le_bytes());
    header.extend_from_slice(&shnum.to_le_bytes());
    header.extend_from_slice(&(if section { 2u16 } else { 0 }).to_le_bytes());
    // PT_LOAD, PF_R | PF_W, offset 0, mapping the whole file.
    header.extend_from_slice(&1u32.to_le_bytes());
    header.extend_from_slice(&6u32.to_le_bytes());
    header.extend_from_slice(&0u64.to_le_bytes());
    header.extend_from_slice(&BASE.to_le_bytes());
    header.extend_from_slice(&BASE.to_le_bytes());
    header.extend_from_slice(&length.to_le_bytes());
    header.extend_from_slice(&length.to_le_bytes());
    header.extend_from_slice(&0x1000u64.to_le_bytes());
    file[..header.len()].copy_from_slice(&header);
    file
}

/// Builds the Go 1.18+ layout: a header with flag 2, then varint-prefixed strings.
fn inline_payload(version: &str, modinfo: &[u8]) -> Vec<u8> {
    let mut payload = BUILD_INFO_MAGIC.to_vec();
    payload.push(8);
    payload.push(2);
    payload.resize(HEADER_SIZE, 0);
    uvarint(version.len(), &mut payload);
    payload.extend_from_slice(version.as_bytes());
    uvarint(modinfo.len(), &mut payload);
    payload.extend_from_slice(modinfo);
    payload
}

/// Builds the layout before Go 1.18: a header with two pointers to Go string headers.
fn pointer_payload(version: &str, modinfo: &[u8]) -> Vec<u8> {
    let address = |offset: usize| BASE + (PAYLOAD + offset) as u64;
    let strings_at = HEADER_SIZE;
    let data_at = strings_at + 32;
    let mut payload = BUILD_INFO_MAGIC.to_vec();
    payload.push(8);
    payload.push(0);
    payload.extend_from_slice(&address(strings_at).to_le_bytes());
    payload.extend_from_slice(&address(strings_at + 16).to_le_bytes());
    payload.extend_from_slice(&address(data_at).to_le_bytes());
    payload.extend_from_slice(&(version.len() as u64).to_le_bytes());
    payload.extend_from_slice(&address(data_at + version.len()).to_le_bytes());
    payload.extend_from_slice(&(modinfo.len() as u64).to_le_bytes());
    payload.extend_from_slice(version.as_bytes());
    payload.extend_from_slice(modinfo);
    payload
}

fn assert_corpus_like(info: &BuildInfo) {
    assert_eq!(info.go_version, "go1.19.8");
    assert_eq!(info.path.as_deref(), Some("example.com/tool"));
    let main = info.main.as_ref().unwrap();
    assert_eq!(main.path, "example.com/tool");
    assert_eq!(main.version, "(devel)");
    assert_eq!(info.deps.len(), 3);
    assert_eq!(info.deps[0].path, "golang.org/x/net");
    assert_eq!(info.deps[0].version, "v0.7.0");
    assert_eq!(info.deps[0].sum.as_deref(), Some("h1:abc="));
    assert_eq!(info.deps[1].effective().path, "github.com/fork/lib");
    assert_eq!(info.deps[1].effective().version, "v1.0.1");
    assert_eq!(info.deps[2].effective().path, "example.com/local");
    assert_eq!(
        info.settings,
        [
            ("-trimpath".to_string(), "true".to_string()),
            ("GOOS".to_string(), "linux".to_string())
        ]
    );
}

#[test]
fn inline_build_info_in_section() {
    let file = elf(&inline_payload("go1.19.8", &framed(MODINFO)), true);
    assert_corpus_like(&read_build_info(&file).unwrap());
}

#[test]
fn inline_build_info_in_data_segment() {
    let file = elf(&inline_payload("go1.19.8", &framed(MODINFO)), false);
    assert_corpus_like(&read_build_info(&file).unwrap());
}

#[test]
fn pointer_build_info_resolved_through_segments() {
    let file = elf(&pointer_payload("go1.19.8", &framed(MODINFO)), true);
    assert_corpus_like(&read_build_info(&file).unwrap());
}

#[test]
fn unaligned_magic_is_ignored() {
    let mut payload = vec![0u8; 8];
    payload.extend_from_slice(&inline_payload("go1.19.8", &framed(MODINFO)));
    let file = elf(&payload, true);
    assert_eq!(read_build_info(&file), Err(BuildInfoError::NotGo));
}

#[test]
fn unframed_modinfo_gives_version_only() {
    let file = elf(&inline_payload("go1.16.3", MODINFO.as_bytes()), true);
    let info = read_build_info(&file).unwrap();
    assert_eq!(info.go_version, "go1.16.3");
    assert!(info.main.is_none());
    assert!(info.deps.is_empty());
}

#[test]
fn elf_without_build_info_is_not_go() {
    let file = elf(&[0u8; 64], false);
    assert_eq!(read_build_info(&file), Err(BuildInfoError::NotGo));
}

#[test]
fn non_elf_is_rejected() {
    assert_eq!(read_build_info(b"#!/bin/sh\n"), Err(BuildInfoError::NotElf));
}

#[test]
fn truncated_inline_strings_are_invalid() {
    let mut payload = inline_payload("go1.19.8", &framed(MODINFO));
    payload.truncate(HEADER_SIZE + 4);
    payload.resize(HEADER_SIZE + 16, 0);
    payload[HEADER_SIZE] = 0x7f;
    let file = elf(&payload, true);
    assert!(matches!(
        read_build_info(&file),
        Err(BuildInfoError::Invalid(_))
    ));
}

#[test]
fn stdlib_versions_follow_go_osv_form() {
    assert_eq!(stdlib_version("go1.19.8").as_deref(), Some("1.19.8"));
    assert_eq!(stdlib_version("go1.21").as_deref(), Some("1.21.0"));
    assert_eq!(stdlib_version("go1.20rc1").as_deref(), Some("1.20.0-rc.1"));
    assert_eq!(
        stdlib_version("go1.9beta2").as_deref(),
        Some("1.9.0-beta.2")
    );
    assert_eq!(
        stdlib_version("go1.22.0 X:boringcrypto").as_deref(),
        Some("1.22.0")
    );
    assert_eq!(stdlib_version("devel go1.23-abc"), None);
    assert_eq!(stdlib_version("go1.x"), None);
}

#[test]
fn candidate_paths_skip_data_trees() {
    assert!(is_candidate_path("usr/local/bin/gotool"));
    assert!(is_candidate_path("app"));
    assert!(is_candidate_path("opt/tool/bin/server"));
    assert!(!is_candidate_path("usr/share/zoneinfo/UTC"));
    assert!(!is_candidate_path("etc/passwd"));
    assert!(!is_candidate_path("usr/lib/x86_64-linux-gnu/libc.so.6"));
    assert!(!is_candidate_path("srv/app/node_modules/x/LICENSE"));
    assert!(!is_candidate_path("opt/tool/LICENSE"));
    assert!(!is_candidate_path(
        "usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD"
    ));
}

#[test]
fn module_purl_splits_namespace() {
    assert_eq!(
        module_purl("golang.org/x/net", "v0.7.0"),
        "pkg:golang/golang.org/x/net@v0.7.0"
    );
    assert_eq!(module_purl("stdlib", "1.19.8"), "pkg:golang/stdlib@1.19.8");
}
