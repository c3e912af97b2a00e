//! Go binaries: the build information the Go linker embeds in every executable.
//!
//! The linker writes a 32-byte header starting with `\xff Go buildinf:` at a 16-byte
//! aligned offset, in the `.go.buildinfo` section or, for binaries without one, near the
//! start of the first writable data segment (the layout `debug/buildinfo` reads in Go's
//! standard library). Byte 14 is the pointer size and byte 15 contains flags: bit 0 marks a
//! big-endian binary, and bit 1 (Go 1.18 and later) marks inline strings. Inline, the
//! Go version and the module information follow the header as two strings each prefixed
//! with its length as an unsigned varint. Before Go 1.18 the header instead contains two
//! pointers to Go string headers (data pointer and length), which are resolved through
//! the ELF segments.
//!
//! The module information is text, one record per line: `path`, `mod` (main module),
//! `dep` (dependency), `=>` (replacement of the line before) and `build` settings.
//! A package is reported for the main module, each dependency (its replacement when
//! there is one) and the standard library as `stdlib` at the Go version.
//!
//! `go.mod` and `go.sum` are not read: they list what a build may use, not what a binary
//! contains, so the binaries are the only inventory.

use cordon_image::NodeKind;
use cordon_model::{Ecosystem, Package};
use object::{Object, ObjectSection, ObjectSegment, SegmentFlags};
use thiserror::Error;

use crate::{purl, Context};

/// Start of the build information header.
pub const BUILD_INFO_MAGIC: &[u8] = b"\xff Go buildinf:";

/// Size of the build information header; inline strings start right after it.
const HEADER_SIZE: usize = 32;

/// Alignment of the header within the section.
const HEADER_ALIGN: usize = 16;

/// Bytes searched for the header from the start of the section or data segment, as Go's
/// `debug/buildinfo` does.
const SEARCH_BYTES: u64 = 64 * 1024;

/// Maximum length of a version or module information string read through a pointer.
const MAX_STRING_BYTES: u64 = 16 << 20;

/// Error reading Go build information.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BuildInfoError {
    /// The file is not an ELF file.
    #[error("not an ELF file")]
    NotElf,
    /// The ELF headers could not be parsed.
    #[error("invalid ELF file: {0}")]
    InvalidElf(String),
    /// No build information header was found: the file is not a Go binary.
    #[error("no Go build information")]
    NotGo,
    /// The header was found but its contents are malformed.
    #[error("invalid Go build information: {0}")]
    Invalid(&'static str),
}

/// A module recorded in the build information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Module path, for example `golang.org/x/net`.
    pub path: String,
    /// Module version, for example `v0.7.0`, or `(devel)` for a main module built from a
    /// working tree.
    pub version: String,
    /// `h1:` checksum from `go.sum`, when recorded.
    pub sum: Option<String>,
    /// The module that replaced this one, when a `replace` directive applied.
    pub replace: Option<Box<Module>>,
}

impl Module {
    /// Returns the module actually linked: the replacement when it has a version, else
    /// this module. A replacement by a local directory has no version, so the original
    /// path stays the best name for it.
    pub fn effective(&self) -> &Module {
        match &self.replace {
            Some(replacement) if !replacement.version.is_empty() => replacement,
            _ => self,
        }
    }
}

/// Build information of one Go binary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// Go toolchain version, for example `go1.19.8`.
    pub go_version: String,
    /// Import path of the main package (`path` line).
    pub path: Option<String>,
    /// Main module (`mod` line); absent for binaries built in GOPATH mode.
    pub main: Option<Module>,
    /// Dependencies (`dep` lines) with their replacements.
    pub deps: Vec<Module>,
    /// Build settings (`build` lines) as key and value.
    pub settings: Vec<(String, String)>,
}

/// Returns true when `data` starts with the ELF magic number.
pub fn is_elf(data: &[u8]) -> bool {
    data.starts_with(b"\x7fELF")
}

/// Returns true for a path that may be a Go binary, so that the image reader keeps its
/// content for [`crate::catalog`].
///
/// The reader decides from the path alone, so this accepts files whose name has no
/// extension, except under trees that hold data rather than programs.
// NOTE: a Go binary whose file name has an extension (`app.bin`, a `.so` built with
// `-buildmode=c-shared`) or that is larger than the reader's retention limit is missed.
pub fn is_candidate_path(path: &str) -> bool {
    const DATA_TREES: [&str; 9] = [
        "usr/share/",
        "usr/include/",
        "usr/src/",
        "etc/",
        "var/lib/",
        "var/cache/",
        "var/log/",
        "proc/",
        "sys/",
    ];
    let name = path.rsplit('/').next().unwrap_or(path);
    !name.is_empty()
        && !name.contains('.')
        && !DATA_TREES.iter().any(|tree| path.starts_with(tree))
        && !path.contains("/node_modules/")
        && !path.contains("-packages/")
        && !path.contains("/__pycache__/")
        // `LICENSE`, `README`, `RECORD`, `WHEEL` and similar text files.
        && !name.bytes().all(|byte| byte.is_ascii_uppercase() || byte == b'_' || byte == b'-')
}

/// Reads the build information of the ELF file `data`.
pub fn read_build_info(data: &[u8]) -> Result<BuildInfo, BuildInfoError> {
    if !is_elf(data) {
        return Err(BuildInfoError::NotElf);
    }
    let file =
        object::File::parse(data).map_err(|error| BuildInfoError::InvalidElf(error.to_string()))?;
    let region = build_info_region(&file).ok_or(BuildInfoError::NotGo)?;
    let header = find_header(region).ok_or(BuildInfoError::NotGo)?;

    let pointer_size = usize::from(header[14]);
    let flags = header[15];
    let (version, modinfo) = if flags & 2 != 0 {
        let rest = &header[HEADER_SIZE..];
        let (version, rest) =
            read_varint_string(rest).ok_or(BuildInfoError::Invalid("truncated Go version"))?;
        let (modinfo, _) = read_varint_string(rest)
            .ok_or(BuildInfoError::Invalid("truncated module information"))?;
        (version.to_vec(), modinfo.to_vec())
    } else {
        if pointer_size != 4 && pointer_size != 8 {
            return Err(BuildInfoError::Invalid("pointer size is neither 4 nor 8"));
        }
        let big_endian = flags & 1 != 0;
        let pointers = &header[16..];
        let version_address = read_pointer(pointers, pointer_size, big_endian)
            .ok_or(BuildInfoError::Invalid("truncated header"))?;
        let modinfo_address = read_pointer(&pointers[pointer_size..], pointer_size, big_endian)
            .ok_or(BuildInfoError::Invalid("truncated header"))?;
        let version = read_go_string(&file, version_address, pointer_size, big_endian).ok_or(
            BuildInfoError::Invalid("Go version pointer outside the file"),
        )?;
        let modinfo =
            read_go_string(&file, modinfo_address, pointer_size, big_endian).unwrap_or_default();
        (version, modinfo)
    };

    let go_version = String::from_utf8_lossy(&version).into_owned();
    if go_version.is_empty() {
        return Err(BuildInfoError::NotGo);
    }
    let mut info = parse_modinfo(&strip_modinfo_framing(&modinfo));
    info.go_version = go_version;
    Ok(info)
}

/// Returns the bytes searched for the header: the `.go.buildinfo` section, else the
/// first writable, non-executable segment, at most [`SEARCH_BYTES`] of either.
fn build_info_region<'data>(file: &object::File<'data>) -> Option<&'data [u8]> {
    if let Some(section) = file.section_by_name(".go.buildinfo") {
        let data = section.data().ok()?;
        return Some(&data[..data.len().min(SEARCH_BYTES as usize)]);
    }
    let segment = file.segments().find(|segment| {
        matches!(segment.flags(), SegmentFlags::Elf { p_flags } if p_flags & 0b11 == 0b10)
    })?;
    let data = segment.data().ok()?;
    Some(&data[..data.len().min(SEARCH_BYTES as usize)])
}

/// Finds the 16-byte aligned header in `region` and returns the bytes from it onwards.
fn find_header(region: &[u8]) -> Option<&[u8]> {
    let mut offset = 0;
    while offset + HEADER_SIZE <= region.len() {
        if region[offset..].starts_with(BUILD_INFO_MAGIC) {
            return Some(&region[offset..]);
        }
        offset += HEADER_ALIGN;
    }
    None
}

/// Decodes an unsigned LEB128 varint, as Go's `encoding/binary.Uvarint` writes it.
fn read_uvarint(data: &[u8]) -> Option<(u64, &[u8])> {
    let mut value: u64 = 0;
    for (index, byte) in data.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Some((value, &data[index + 1..]));
        }
    }
    None
}

/// Reads a string prefixed with its length as a varint.
fn read_varint_string(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (length, rest) = read_uvarint(data)?;
    let length = usize::try_from(length).ok()?;
    (length <= rest.len()).then(|| rest.split_at(length))
}

fn read_pointer(data: &[u8], size: usize, big_endian: bool) -> Option<u64> {
    let bytes = data.get(..size)?;
    let mut buffer = [0u8; 8];
    if big_endian {
        buffer[8 - size..].copy_from_slice(bytes);
        Some(u64::from_be_bytes(buffer))
    } else {
        buffer[..size].copy_from_slice(bytes);
        Some(u64::from_le_bytes(buffer))
    }
}

/// Reads a Go string header (data pointer, length) at `address` and the bytes it points to.
fn read_go_string(
    file: &object::File<'_>,
    address: u64,
    pointer_size: usize,
    big_endian: bool,
) -> Option<Vec<u8>> {
    let header = read_memory(file, address, 2 * pointer_size as u64)?;
    let data_address = read_pointer(header, pointer_size, big_endian)?;
    let length = read_pointer(&header[pointer_size..], pointer_size, big_endian)?;
    if length > MAX_STRING_BYTES {
        return None;
    }
    read_memory(file, data_address, length).map(<[u8]>::to_vec)
}

/// Returns `size` bytes at virtual `address`, from whichever segment maps them.
fn read_memory<'data>(file: &object::File<'data>, address: u64, size: u64) -> Option<&'data [u8]> {
    file.segments()
        .find_map(|segment| segment.data_range(address, size).ok().flatten())
}

/// Removes the 16-byte sentinels around the module information, or returns nothing when
/// they are absent, as `debug/buildinfo` does.
fn strip_modinfo_framing(modinfo: &[u8]) -> Vec<u8> {
    if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        modinfo[16..modinfo.len() - 16].to_vec()
    } else {
        Vec::new()
    }
}

/// Parses module information text (`path`, `mod`, `dep`, `=>` and `build` lines).
///
/// Unknown and malformed lines are skipped. The Go version is left empty.
pub fn parse_modinfo(data: &[u8]) -> BuildInfo {
    let text = String::from_utf8_lossy(data);
    let mut info = BuildInfo::default();
    // Which module the next `=>` line replaces: the main module or the last dependency.
    let mut last_is_main = false;
    for line in text.lines() {
        let mut fields = line.split('\t');
        let kind = fields.next().unwrap_or_default();
        match kind {
            "path" => info.path = fields.next().map(str::to_string),
            "mod" | "dep" | "=>" => {
                let Some(module) = module_from_fields(fields) else {
                    continue;
                };
                match kind {
                    "mod" => {
                        info.main = Some(module);
                        last_is_main = true;
                    }
                    "dep" => {
                        info.deps.push(module);
                        last_is_main = false;
                    }
                    _ => {
                        let target = if last_is_main {
                            info.main.as_mut()
                        } else {
                            info.deps.last_mut()
                        };
                        if let Some(target) = target {
                            target.replace = Some(Box::new(module));
                        }
                    }
                }
            }
            "build" => {
                if let Some((key, value)) =
                    fields.next().and_then(|setting| setting.split_once('='))
                {
                    info.settings.push((key.to_string(), value.to_string()));
                }
            }
            _ => {}
        }
    }
    info
}

fn module_from_fields<'a>(mut fields: impl Iterator<Item = &'a str>) -> Option<Module> {
    let path = fields.next().filter(|path| !path.is_empty())?;
    let version = fields.next().unwrap_or_default();
    let sum = fields.next().filter(|sum| !sum.is_empty());
    Some(Module {
        path: path.to_string(),
        version: version.to_string(),
        sum: sum.map(str::to_string),
        replace: None,
    })
}

/// Converts a Go release tag to the semver form Go's OSV records use for `stdlib`:
/// `go1.19.8` → `1.19.8`, `go1.21` → `1.21.0`, `go1.20rc1` → `1.20.0-rc.1`.
///
/// Anything after a space (`go1.22.0 X:boringcrypto`) is ignored. Returns `None` for
/// development builds (`devel ...`) and other shapes.
pub fn stdlib_version(go_version: &str) -> Option<String> {
    let tag = go_version.split_whitespace().next()?.strip_prefix("go")?;
    let (release, pre) = match tag.find(|c: char| c.is_ascii_alphabetic()) {
        Some(index) => (&tag[..index], Some(&tag[index..])),
        None => (tag, None),
    };
    let parts: Vec<&str> = release.split('.').collect();
    let numeric = |part: &&str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    if parts.is_empty() || parts.len() > 3 || !parts.iter().all(numeric) {
        return None;
    }
    let mut version = format!(
        "{}.{}.{}",
        parts[0],
        parts.get(1).unwrap_or(&"0"),
        parts.get(2).unwrap_or(&"0")
    );
    if let Some(pre) = pre {
        let digits = pre.find(|c: char| c.is_ascii_digit())?;
        let (label, number) = pre.split_at(digits);
        if !matches!(label, "rc" | "beta" | "alpha") || !number.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        version.push_str(&format!("-{label}.{number}"));
    }
    Some(version)
}

/// Catalogs the modules of every Go binary in the image.
pub(crate) fn catalog(context: &Context<'_>, warnings: &mut Vec<String>) -> Vec<Package> {
    let mut packages = Vec::new();
    for (path, node) in context.rootfs.iter() {
        if node.kind != NodeKind::File {
            continue;
        }
        let Some(content) = node.content.as_deref().filter(|content| is_elf(content)) else {
            continue;
        };
        let info = match read_build_info(content) {
            Ok(info) => info,
            Err(BuildInfoError::NotGo | BuildInfoError::NotElf) => continue,
            Err(error) => {
                warnings.push(format!("{path}: {error}"));
                continue;
            }
        };
        let layer = context.layer(node.layer);
        let mut push = |name: &str, version: &str| {
            packages.push(Package {
                name: name.to_string(),
                version: version.to_string(),
                source_name: None,
                source_version: None,
                ecosystem: Ecosystem::Go,
                purl: module_purl(name, version),
                arch: None,
                layer: Some(layer.clone()),
                location: path.to_string(),
                dev: false,
                direct: None,
                licenses: Vec::new(),
            });
        };

        if let Some(main) = &info.main {
            let main = main.effective();
            push(&main.path, &main.version);
        } else if let Some(main_path) = info.path.as_deref().filter(|path| is_named_package(path)) {
            // GOPATH-mode builds record no module, only the main package's import path.
            push(main_path, DEVEL_VERSION);
        }
        for dep in &info.deps {
            let dep = dep.effective();
            if dep.version.is_empty() {
                continue;
            }
            push(&dep.path, &dep.version);
        }
        match stdlib_version(&info.go_version) {
            Some(version) => push("stdlib", &version),
            None => tracing::debug!(
                file.path = path,
                go.version = info.go_version,
                "Go version is not a release; stdlib not cataloged"
            ),
        }
    }
    packages
}

/// Version Go records for a main module built from a working tree.
const DEVEL_VERSION: &str = "(devel)";

/// Returns false for the placeholder import path of `go build file.go`.
fn is_named_package(path: &str) -> bool {
    !path.is_empty() && path != "command-line-arguments"
}

/// Builds `pkg:golang/<module path>@<version>`: the last path element is the purl name and
/// the rest its namespace.
fn module_purl(path: &str, version: &str) -> String {
    let (namespace, name) = match path.rsplit_once('/') {
        Some((namespace, name)) => (Some(namespace), name),
        None => (None, path),
    };
    purl::build(Ecosystem::Go.purl_type(), namespace, name, version, &[])
}

#[cfg(test)]
mod tests;
