//! OS release detection from `os-release` and distribution release files.

use std::collections::BTreeMap;

use cordon_image::Rootfs;
use cordon_model::Distro;

/// `os-release` locations in lookup order, as os-release(5) specifies.
const OS_RELEASE_PATHS: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];

/// Parses `os-release` text into its variables.
///
/// Values follow the shell-compatible rules of os-release(5): unquoted, double-quoted
/// (where `\` escapes the next character) or single-quoted (literal), and adjacent
/// quoted parts join. Blank lines, comments and lines without `=` are skipped, and bytes
/// that are not valid UTF-8 are replaced with U+FFFD.
pub fn parse_os_release(data: &[u8]) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(data);
    let mut variables = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            continue;
        }
        variables.insert(name.to_string(), unquote(value));
    }
    variables
}

/// Removes shell quoting from one os-release value.
fn unquote(raw: &str) -> String {
    let mut value = String::new();
    let mut chars = raw.trim().chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => value.extend(chars.next()),
                        other => value.push(other),
                    }
                }
            }
            '\'' => value.extend(chars.by_ref().take_while(|&c| c != '\'')),
            '\\' => value.extend(chars.next()),
            other => value.push(other),
        }
    }
    value
}

/// Returns the Debian codename of a major release number (`11` is `bullseye`).
pub fn debian_codename(major: &str) -> Option<&'static str> {
    Some(match major {
        "7" => "wheezy",
        "8" => "jessie",
        "9" => "stretch",
        "10" => "buster",
        "11" => "bullseye",
        "12" => "bookworm",
        "13" => "trixie",
        "14" => "forky",
        _ => return None,
    })
}

/// Detects the OS release of an image.
///
/// Reads `etc/os-release`, else `usr/lib/os-release`, following symlinks inside the
/// image. Debian images without `VERSION_CODENAME` get it from `VERSION_ID` or from
/// `etc/debian_version`. Alpine images without `VERSION_ID` get it from
/// `etc/alpine-release`. Without any `os-release`, those two files alone identify
/// Debian and Alpine.
pub fn detect(rootfs: &Rootfs) -> Option<Distro> {
    let variables = OS_RELEASE_PATHS
        .iter()
        .find_map(|path| rootfs.read(path))
        .map(parse_os_release)
        .unwrap_or_default();
    let mut distro = Distro {
        id: variables
            .get("ID")
            .map(|id| id.trim().to_ascii_lowercase())
            .unwrap_or_default(),
        version_id: nonempty(variables.get("VERSION_ID")),
        codename: nonempty(variables.get("VERSION_CODENAME")),
        pretty_name: nonempty(variables.get("PRETTY_NAME")),
    };

    let debian_version = read_trimmed(rootfs, "etc/debian_version");
    let alpine_release = read_trimmed(rootfs, "etc/alpine-release");
    if distro.id.is_empty() {
        if debian_version.is_some() {
            distro.id = "debian".to_string();
        } else if alpine_release.is_some() {
            distro.id = "alpine".to_string();
        } else {
            return None;
        }
    }

    match distro.id.as_str() {
        "debian" => fill_debian(&mut distro, debian_version.as_deref()),
        "alpine" if distro.version_id.is_none() => distro.version_id = alpine_release,
        _ => {}
    }
    Some(distro)
}

/// Fills a Debian release's missing version and codename.
///
/// `debian_version` holds a point release (`11.11`) on stable releases and a
/// `codename/sid` pair on testing and unstable.
fn fill_debian(distro: &mut Distro, debian_version: Option<&str>) {
    if distro.version_id.is_none() {
        let major = debian_version
            .and_then(|version| version.split('.').next())
            .filter(|major| !major.is_empty() && major.bytes().all(|byte| byte.is_ascii_digit()));
        distro.version_id = major.map(str::to_string);
    }
    if distro.codename.is_some() {
        return;
    }
    let major = distro
        .version_id
        .as_deref()
        .and_then(|version| version.split('.').next());
    distro.codename = major
        .and_then(debian_codename)
        .map(str::to_string)
        .or_else(|| {
            let (codename, _) = debian_version?.split_once('/')?;
            let codename = codename.trim();
            (!codename.is_empty()).then(|| codename.to_string())
        });
}

fn nonempty(value: Option<&String>) -> Option<String> {
    value
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
        .map(str::to_string)
}

fn read_trimmed(rootfs: &Rootfs, path: &str) -> Option<String> {
    let content = rootfs.read(path)?;
    let text = String::from_utf8_lossy(content).trim().to_string();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cordon_image::Node;

    #[test]
    fn quoting_rules_are_applied() {
        let text = br#"
# comment
ID=debian
NAME="Debian \"GNU\"/Linux"
VERSION='11 (bullseye) $HOME'
PRETTY_NAME="a"'b'c
ESCAPED=one\ two
"#;
        let variables = parse_os_release(text);
        assert_eq!(variables["ID"], "debian");
        assert_eq!(variables["NAME"], "Debian \"GNU\"/Linux");
        assert_eq!(variables["VERSION"], "11 (bullseye) $HOME");
        assert_eq!(variables["PRETTY_NAME"], "abc");
        assert_eq!(variables["ESCAPED"], "one two");
    }

    #[test]
    fn debian_codename_from_version_id() {
        let mut fs = Rootfs::new();
        fs.insert(
            "etc/os-release",
            Node::file(0, b"ID=debian\nVERSION_ID=\"10\"\n".to_vec()),
        );
        let distro = detect(&fs).unwrap();
        assert_eq!(distro.codename.as_deref(), Some("buster"));
    }

    #[test]
    fn debian_codename_from_debian_version() {
        let mut fs = Rootfs::new();
        fs.insert("usr/lib/os-release", Node::file(0, b"ID=debian\n".to_vec()));
        fs.insert("etc/debian_version", Node::file(0, b"9.13\n".to_vec()));
        let distro = detect(&fs).unwrap();
        assert_eq!(distro.version_id.as_deref(), Some("9"));
        assert_eq!(distro.codename.as_deref(), Some("stretch"));
    }

    #[test]
    fn debian_testing_codename_from_sid_pair() {
        let mut fs = Rootfs::new();
        fs.insert(
            "etc/os-release",
            Node::file(
                0,
                b"ID=debian\nPRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\n".to_vec(),
            ),
        );
        fs.insert(
            "etc/debian_version",
            Node::file(0, b"trixie/sid\n".to_vec()),
        );
        let distro = detect(&fs).unwrap();
        assert_eq!(distro.version_id, None);
        assert_eq!(distro.codename.as_deref(), Some("trixie"));
    }

    #[test]
    fn alpine_version_from_alpine_release() {
        let mut fs = Rootfs::new();
        fs.insert(
            "etc/os-release",
            Node::file(0, b"ID=alpine\nNAME=\"Alpine Linux\"\n".to_vec()),
        );
        fs.insert("etc/alpine-release", Node::file(0, b"3.11.6\n".to_vec()));
        let distro = detect(&fs).unwrap();
        assert_eq!(distro.id, "alpine");
        assert_eq!(distro.version_id.as_deref(), Some("3.11.6"));
    }

    #[test]
    fn release_file_alone_identifies_alpine() {
        let mut fs = Rootfs::new();
        fs.insert("etc/alpine-release", Node::file(0, b"3.18.4\n".to_vec()));
        let distro = detect(&fs).unwrap();
        assert_eq!(distro.id, "alpine");
        assert_eq!(distro.version_id.as_deref(), Some("3.18.4"));
    }

    #[test]
    fn empty_image_has_no_distro() {
        assert_eq!(detect(&Rootfs::new()), None);
    }
}
