//! The holder image: one static busybox in a docker-archive built in memory.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::SandboxError;

/// Path of Debian's `busybox-static` binary on the host.
pub const BUSYBOX_PATH: &str = "/bin/busybox";

/// Writes a docker-archive holding `busybox` as `/bin/busybox`, tagged `tag`.
pub fn write_holder_archive(busybox: &Path, tag: &str, out: &Path) -> Result<(), SandboxError> {
    write_busybox_archive(busybox, tag, out, &[])
}

/// Writes a docker-archive with `/bin/busybox` and a symlink `/bin/NAME` to it for each applet
/// in `applets`, tagged `tag`, whose entrypoint sleeps.
pub fn write_busybox_archive(
    busybox: &Path,
    tag: &str,
    out: &Path,
    applets: &[&str],
) -> Result<(), SandboxError> {
    write_busybox_archive_with(busybox, tag, out, applets, &ImageExtras::default())
}

/// Additions to the busybox image of [`write_busybox_archive_with`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageExtras {
    /// `USER` of the image config.
    pub user: Option<String>,
    /// Declared VOLUMEs; each becomes a directory with mode 0777.
    pub volumes: Vec<String>,
    /// Regular files: absolute path, mode and content. Their parent directories must be
    /// `/bin`, `/tmp`, a volume or listed in `dirs`.
    pub files: Vec<(String, u32, Vec<u8>)>,
    /// Extra directories (absolute paths, mode 0755).
    pub dirs: Vec<String>,
}

/// Writes the image of [`write_busybox_archive`] with a user, volumes and files added.
pub fn write_busybox_archive_with(
    busybox: &Path,
    tag: &str,
    out: &Path,
    applets: &[&str],
    extras: &ImageExtras,
) -> Result<(), SandboxError> {
    let binary = std::fs::read(busybox).map_err(|e| SandboxError::io(busybox, e))?;
    if !binary.starts_with(b"\x7fELF") {
        return Err(SandboxError::Invalid {
            what: "busybox binary",
            value: busybox.display().to_string(),
            reason: "not an ELF file; install busybox-static".to_string(),
        });
    }
    let io = |e: std::io::Error| SandboxError::io(out, e);

    let mut layer = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o755);
    dir.set_size(0);
    dir.set_cksum();
    layer
        .append_data(&mut dir, "bin/", std::io::empty())
        .map_err(io)?;
    let mut file = tar::Header::new_gnu();
    file.set_mode(0o755);
    file.set_size(binary.len() as u64);
    file.set_cksum();
    layer
        .append_data(&mut file, "bin/busybox", binary.as_slice())
        .map_err(io)?;
    for applet in applets {
        let mut link = tar::Header::new_gnu();
        link.set_entry_type(tar::EntryType::Symlink);
        link.set_mode(0o777);
        link.set_size(0);
        layer
            .append_link(&mut link, format!("bin/{applet}"), "busybox")
            .map_err(io)?;
    }
    let mut tmp = tar::Header::new_gnu();
    tmp.set_entry_type(tar::EntryType::Directory);
    tmp.set_mode(0o1777);
    tmp.set_size(0);
    tmp.set_cksum();
    layer
        .append_data(&mut tmp, "tmp/", std::io::empty())
        .map_err(io)?;
    let dirs = extras
        .dirs
        .iter()
        .map(|d| (d, 0o755))
        .chain(extras.volumes.iter().map(|v| (v, 0o777)));
    for (path, mode) in dirs {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(mode);
        header.set_size(0);
        header.set_cksum();
        let name = format!("{}/", path.trim_matches('/'));
        layer
            .append_data(&mut header, name, std::io::empty())
            .map_err(io)?;
    }
    for (path, mode, content) in &extras.files {
        let mut header = tar::Header::new_gnu();
        header.set_mode(*mode);
        header.set_size(content.len() as u64);
        header.set_cksum();
        layer
            .append_data(
                &mut header,
                path.trim_start_matches('/'),
                content.as_slice(),
            )
            .map_err(io)?;
    }
    let layer = layer.into_inner().map_err(io)?;
    let diff_id = format!("sha256:{}", hex::encode(Sha256::digest(&layer)));

    let mut image_config = serde_json::json!({
        "Entrypoint": ["/bin/busybox", "sleep", "2147483647"],
        "Labels": {"io.cordon.sandbox.image": "holder"},
    });
    if let Some(user) = &extras.user {
        image_config["User"] = serde_json::json!(user);
    }
    if !extras.volumes.is_empty() {
        let volumes: serde_json::Map<String, serde_json::Value> = extras
            .volumes
            .iter()
            .map(|v| (v.clone(), serde_json::json!({})))
            .collect();
        image_config["Volumes"] = serde_json::Value::Object(volumes);
    }
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": image_config,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    });
    let config = serde_json::to_vec(&config)?;
    let config_name = format!("{}.json", hex::encode(Sha256::digest(&config)));
    let manifest = serde_json::to_vec(&serde_json::json!([
        {"Config": config_name, "RepoTags": [tag], "Layers": ["layer.tar"]}
    ]))?;

    let file = std::fs::File::create(out).map_err(io)?;
    let mut archive = tar::Builder::new(file);
    for (name, data) in [
        (config_name.as_str(), &config),
        ("layer.tar", &layer),
        ("manifest.json", &manifest),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        header.set_size(data.len() as u64);
        header.set_cksum();
        archive
            .append_data(&mut header, name, data.as_slice())
            .map_err(io)?;
    }
    archive.finish().map_err(io)?;
    Ok(())
}
