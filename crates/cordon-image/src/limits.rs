//! Resource limits for reading untrusted images, and the readers that enforce them.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sha2::{Digest as _, Sha256};

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

/// Caps on what one image read may consume. Exceeding a byte or entry cap stops the read
/// with [`ImageError::LimitExceeded`](crate::ImageError::LimitExceeded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Maximum decompressed size of one layer. Default 10 GiB.
    pub max_layer_bytes: u64,
    /// Maximum decompressed size of all layers together. Default 10 GiB.
    pub max_total_bytes: u64,
    /// Maximum ratio of decompressed to compressed bytes of one layer, checked once
    /// the layer is past [`Limits::ratio_grace_bytes`]. Default 100.
    pub max_ratio: u64,
    /// Decompressed bytes of a layer read before the ratio is checked, so that small
    /// layers of zero-filled files pass. Default 8 MiB.
    pub ratio_grace_bytes: u64,
    /// Maximum number of tar entries over all layers. Default 1,000,000.
    pub max_entries: u64,
    /// Largest file whose content is kept when the retain predicate selects it.
    /// Default 64 MiB.
    pub max_file_bytes_retained: u64,
    /// Maximum size of a JSON document (index, manifest, config). Default 16 MiB.
    pub max_json_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_layer_bytes: 10 * GIB,
            max_total_bytes: 10 * GIB,
            max_ratio: 100,
            ratio_grace_bytes: 8 * MIB,
            max_entries: 1_000_000,
            max_file_bytes_retained: 64 * MIB,
            max_json_bytes: 16 * MIB,
        }
    }
}

/// Counters shared by all layers of one read.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub(crate) bytes: AtomicU64,
    pub(crate) entries: AtomicU64,
}

/// Reader that counts the bytes passing through it and, when asked to, hashes them.
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Option<Sha256>,
    count: Arc<AtomicU64>,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`, counting into `count` and hashing only when `hash` is true.
    pub(crate) fn new(inner: R, count: Arc<AtomicU64>, hash: bool) -> Self {
        HashingReader {
            inner,
            hasher: hash.then(Sha256::new),
            count,
        }
    }

    /// Returns `sha256:<hex>` of everything read so far, or `None` when not hashing.
    pub(crate) fn digest(self) -> Option<String> {
        self.hasher
            .map(|hasher| format!("sha256:{}", hex::encode(hasher.finalize())))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&buf[..n]);
        }
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reader over a decompressed layer stream that stops with an error once a byte or ratio
/// cap is passed.
///
/// The violated limit is stored in `violation`, because the tar reader wraps the I/O
/// error it gets and the original error cannot be recovered from it reliably. Once a
/// limit is passed every later read fails too.
pub(crate) struct LimitReader<'a, R> {
    inner: R,
    read: u64,
    compressed: Arc<AtomicU64>,
    limits: &'a Limits,
    totals: &'a Totals,
    pub(crate) violation: Option<String>,
}

impl<'a, R: Read> LimitReader<'a, R> {
    pub(crate) fn new(
        inner: R,
        compressed: Arc<AtomicU64>,
        limits: &'a Limits,
        totals: &'a Totals,
    ) -> Self {
        LimitReader {
            inner,
            read: 0,
            compressed,
            limits,
            totals,
            violation: None,
        }
    }

    pub(crate) fn into_inner(self) -> R {
        self.inner
    }

    fn check(&self, added: u64) -> Option<String> {
        let limits = self.limits;
        if self.read > limits.max_layer_bytes {
            return Some(format!(
                "decompressed size over {} bytes",
                limits.max_layer_bytes
            ));
        }
        let total = self.totals.bytes.fetch_add(added, Ordering::Relaxed) + added;
        if total > limits.max_total_bytes {
            return Some(format!(
                "decompressed size of all layers over {} bytes",
                limits.max_total_bytes
            ));
        }
        if self.read > limits.ratio_grace_bytes {
            let compressed = self.compressed.load(Ordering::Relaxed).max(1);
            if self.read / compressed > limits.max_ratio {
                return Some(format!(
                    "compression ratio over {}:1 ({} bytes from {} compressed)",
                    limits.max_ratio, self.read, compressed
                ));
            }
        }
        None
    }
}

impl<R: Read> Read for LimitReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(limit) = &self.violation {
            return Err(io::Error::other(limit.clone()));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if let Some(limit) = self.check(n as u64) {
            self.violation = Some(limit.clone());
            return Err(io::Error::other(limit));
        }
        Ok(n)
    }
}
