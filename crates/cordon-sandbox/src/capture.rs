//! Keeps the content of files that a runsc target writes or executes and later deletes.
//!
//! gVisor's gofer writes the container's files to the host: the root file system to the
//! overlay2 upper directory and volumes (including the anonymous volume that backs `/tmp`) to
//! their directories under Docker's volume directory. [`TraceFollower`] reads the syscall trace
//! while the target runs and, for every file opened for writing and every exec, opens the host
//! file and keeps the descriptor. A descriptor keeps the file's content after the target
//! deletes it, so at the end the content of every deleted file is read through it.
//!
//! Host paths are opened with `openat2` and `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
//! RESOLVE_NO_XDEV`, so a symbolic link the target planted cannot lead the host side out of the
//! container's directories.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;
use sha2::{Digest, Sha256};

/// Maximum number of files whose descriptors are kept during one run, well below the usual
/// soft limit of 1024 open files per process.
pub const MAX_HELD_FILES: usize = 256;

/// Opens `rel` (a container path) below the host directory `root` for reading, refusing
/// symbolic links, paths that leave `root` and other mounts.
pub fn open_beneath(root: &Path, rel: &str) -> std::io::Result<File> {
    let dir = File::open(root)?;
    let rel = rel.trim_start_matches('/');
    let rel = if rel.is_empty() { "." } else { rel };
    let how = OpenHow::new()
        .flags(OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)
        .mode(Mode::empty())
        .resolve(
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_XDEV,
        );
    let fd = nix::fcntl::openat2(&dir, rel, how).map_err(std::io::Error::from)?;
    Ok(File::from(fd))
}

/// Host directories that hold the container's files.
#[derive(Debug, Clone, Default)]
pub struct HostRoots {
    /// overlay2 upper directory of the root file system.
    pub upper: Option<PathBuf>,
    /// Volume mounts: path in the container and host directory.
    pub volumes: Vec<(String, PathBuf)>,
}

impl HostRoots {
    /// Returns the host directory and the path below it that hold container path `path`.
    pub fn resolve<'a>(&'a self, path: &'a str) -> Option<(&'a Path, &'a str)> {
        let volume = self
            .volumes
            .iter()
            .filter(|(dest, _)| {
                path.strip_prefix(dest.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
            .max_by_key(|(dest, _)| dest.len());
        match volume {
            Some((dest, dir)) => Some((dir.as_path(), &path[dest.len()..])),
            None => self.upper.as_deref().map(|upper| (upper, path)),
        }
    }
}

/// Content of a file that was deleted while the target ran.
#[derive(Debug, Clone, PartialEq)]
pub struct DeletedFile {
    /// Path in the container.
    pub path: String,
    /// Permission bits at the end of the run.
    pub mode: u32,
    /// Content, cut to the size limit.
    pub content: Vec<u8>,
    /// SHA-256 of `content`.
    pub sha256: String,
}

/// Files the follower kept, and whether it reached its limit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FollowerOutput {
    /// Files that were deleted while the target ran, with their content.
    pub deleted: Vec<DeletedFile>,
    /// True when [`MAX_HELD_FILES`] files were held and later files were not kept.
    pub limit_reached: bool,
}

/// Follower of a gVisor debug log while the target runs. [`TraceFollower::stop`] ends it and
/// returns the kept files. Dropping it stops the thread without waiting for it.
pub struct TraceFollower {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<FollowerOutput>>,
}

impl TraceFollower {
    /// Starts following the log that `find_log` returns once it exists.
    pub fn start(
        find_log: impl Fn() -> Option<PathBuf> + Send + 'static,
        roots: HostRoots,
        size_limit: u64,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("cordon-trace-follower".to_string())
            .spawn(move || follow(&find_log, &roots, size_limit, &flag))?;
        Ok(TraceFollower {
            stop,
            handle: Some(handle),
        })
    }

    /// Reads the rest of the log, stops and returns the files that were deleted.
    pub fn stop(mut self) -> FollowerOutput {
        self.stop.store(true, Ordering::SeqCst);
        self.handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for TraceFollower {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn follow(
    find_log: &dyn Fn() -> Option<PathBuf>,
    roots: &HostRoots,
    size_limit: u64,
    stop: &AtomicBool,
) -> FollowerOutput {
    let mut holder = Holder::default();
    let mut log: Option<File> = None;
    let mut pending = String::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut last_search: Option<Instant> = None;
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        if log.is_none() && last_search.is_none_or(|t| t.elapsed() >= Duration::from_millis(5)) {
            last_search = Some(Instant::now());
            log = find_log().and_then(|p| File::open(p).ok());
        }
        let mut read_any = false;
        if let Some(file) = log.as_mut() {
            while let Ok(n) = file.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                read_any = true;
                pending.push_str(&String::from_utf8_lossy(&chunk[..n]));
                while let Some(end) = pending.find('\n') {
                    let line: String = pending.drain(..=end).collect();
                    holder.line(roots, &line);
                }
            }
        }
        if stopping && !read_any {
            break;
        }
        if !read_any {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let limit_reached = holder.count >= MAX_HELD_FILES;
    FollowerOutput {
        deleted: holder.deleted(size_limit),
        limit_reached,
    }
}

/// Descriptors of the host files behind written and executed paths.
#[derive(Default)]
struct Holder {
    held: HashMap<String, Vec<File>>,
    count: usize,
}

impl Holder {
    /// Handles one trace line: opens and keeps the file it writes or executes.
    fn line(&mut self, roots: &HostRoots, line: &str) {
        if self.count >= MAX_HELD_FILES {
            return;
        }
        let Some(path) = crate::runsc_trace::written_or_executed_path(line) else {
            return;
        };
        let Some((root, rel)) = roots.resolve(&path) else {
            return;
        };
        let Ok(file) = open_beneath(root, rel) else {
            return;
        };
        let Ok(meta) = file.metadata() else {
            return;
        };
        if !meta.is_file() {
            return;
        }
        let files = self.held.entry(path).or_default();
        let same = files.iter().any(|f| {
            f.metadata()
                .is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
        });
        if !same {
            files.push(file);
            self.count += 1;
        }
    }

    /// Reads the held files that have no name left, up to `size_limit` bytes each.
    fn deleted(self, size_limit: u64) -> Vec<DeletedFile> {
        let mut deleted = Vec::new();
        for (path, files) in self.held {
            for mut file in files {
                let Ok(meta) = file.metadata() else { continue };
                if meta.nlink() != 0 {
                    continue;
                }
                let mut content = Vec::new();
                if file.seek(SeekFrom::Start(0)).is_err()
                    || file
                        .by_ref()
                        .take(size_limit)
                        .read_to_end(&mut content)
                        .is_err()
                {
                    continue;
                }
                deleted.push(DeletedFile {
                    path: path.clone(),
                    mode: meta.mode() & 0o7777,
                    sha256: hex::encode(Sha256::digest(&content)),
                    content,
                });
            }
        }
        deleted.sort_by(|a, b| a.path.cmp(&b.path).then(a.sha256.cmp(&b.sha256)));
        deleted.dedup_by(|a, b| a.path == b.path && a.sha256 == b.sha256);
        deleted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_paths_resolve_to_their_directory() {
        let roots = HostRoots {
            upper: Some(PathBuf::from("/u")),
            volumes: vec![
                ("/tmp".to_string(), PathBuf::from("/v1")),
                ("/data".to_string(), PathBuf::from("/v2")),
            ],
        };
        assert_eq!(
            roots.resolve("/tmp/x.sh"),
            Some((Path::new("/v1"), "/x.sh"))
        );
        assert_eq!(
            roots.resolve("/tmpfile"),
            Some((Path::new("/u"), "/tmpfile"))
        );
        assert_eq!(roots.resolve("/data"), Some((Path::new("/v2"), "")));
    }

    #[test]
    fn symlink_out_of_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        std::os::unix::fs::symlink("/", dir.path().join("root")).unwrap();
        std::fs::write(dir.path().join("plain"), b"x").unwrap();
        assert!(open_beneath(dir.path(), "/link").is_err());
        assert!(open_beneath(dir.path(), "/root/etc/passwd").is_err());
        assert!(open_beneath(dir.path(), "/../etc/passwd").is_err());
        assert!(open_beneath(dir.path(), "/plain").is_ok());
    }

    #[test]
    fn deleted_file_content_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let upper = dir.path().join("upper");
        std::fs::create_dir_all(upper.join("root")).unwrap();
        std::fs::write(upper.join("root/drop.sh"), b"#!/bin/sh\necho hi\n").unwrap();
        std::fs::write(upper.join("root/kept.sh"), b"#!/bin/sh\n").unwrap();
        let roots = HostRoots {
            upper: Some(upper.clone()),
            volumes: Vec::new(),
        };
        let mut holder = Holder::default();
        holder.line(&roots, "I1204 20:47:33.433074   18441 strace.go:570] [   1:   1] sh X openat(AT_FDCWD /, 0x5eed48 /root/drop.sh, O_WRONLY|O_CREAT|O_TRUNC, 0o666) = 3 (0x3) (5\u{b5}s)\n");
        holder.line(&roots, "I1204 20:47:33.533074   18441 strace.go:567] [   2:   2] sh E execve(0x5eed48 /root/kept.sh, 0x5eed38 [\"/root/kept.sh\"], 0x5eed70 [])\n");
        assert_eq!(holder.count, 2);
        std::fs::remove_file(upper.join("root/drop.sh")).unwrap();
        let deleted = holder.deleted(1 << 20);
        assert_eq!(deleted.len(), 1, "only the deleted file is returned");
        assert_eq!(deleted[0].path, "/root/drop.sh");
        assert_eq!(deleted[0].content, b"#!/bin/sh\necho hi\n");
        assert_eq!(
            deleted[0].sha256,
            hex::encode(Sha256::digest(b"#!/bin/sh\necho hi\n"))
        );
    }
}
