//! The decompressed stream of one layer, read in large chunks and hashed for its diff_id,
//! on a helper thread for large layers, while the tar parser works through the same
//! chunks.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::{Scope, ScopedJoinHandle};

use sha2::{Digest as _, Sha256};

/// Bytes read from the decompressor at a time. Large reads keep the per-call cost of the
/// read system call, the decompressor and the channel small next to hashing.
const CHUNK_BYTES: usize = 1 << 20;
/// Chunks queued for the hashing thread. With the chunk being parsed and the one being
/// hashed, this bounds a layer's stream buffers to about 6 MiB.
const QUEUED_CHUNKS: usize = 4;
/// Layers whose blob is smaller than this are hashed on the reading thread, because
/// starting a thread costs more than it saves.
pub(crate) const THREADED_HASH_MIN_BYTES: u64 = 4 << 20;

/// A filled buffer, whose stream bytes are `data[..len]`.
struct Chunk {
    data: Vec<u8>,
    len: usize,
}

/// The place the stream's bytes are hashed: inline or on a hashing thread.
enum Hasher<'scope> {
    Inline(Sha256),
    Thread {
        sender: SyncSender<Arc<Chunk>>,
        recycled: Receiver<Vec<u8>>,
        handle: ScopedJoinHandle<'scope, Sha256>,
    },
}

/// Reader over a decompressed layer that computes its SHA-256 (the diff_id) as a side
/// effect, whether the bytes are read or skipped.
///
/// It implements [`Seek`] for forward relative moves only (`SeekFrom::Current` with a
/// non-negative offset), which is all the tar parser uses to skip file content. A skip
/// hashes the bytes without copying them out.
pub(crate) struct LayerStream<'scope, R> {
    inner: R,
    chunk: Arc<Chunk>,
    pos: usize,
    /// Stream offset of `chunk`'s first byte.
    chunk_start: u64,
    spare: Vec<Vec<u8>>,
    hasher: Hasher<'scope>,
}

impl<'scope, R: Read> LayerStream<'scope, R> {
    /// Wraps `inner`, hashing on a thread of `scope` when `threaded` is true.
    pub(crate) fn new<'env>(
        inner: R,
        scope: &'scope Scope<'scope, 'env>,
        threaded: bool,
    ) -> LayerStream<'scope, R> {
        let hasher = if threaded {
            let (sender, chunks) = mpsc::sync_channel::<Arc<Chunk>>(QUEUED_CHUNKS);
            let (recycle, recycled) = mpsc::channel::<Vec<u8>>();
            let handle = scope.spawn(move || {
                let mut hasher = Sha256::new();
                for chunk in chunks {
                    hasher.update(&chunk.data[..chunk.len]);
                    if let Some(chunk) = Arc::into_inner(chunk) {
                        // The reader may be gone already, and then the buffer is freed.
                        let _ = recycle.send(chunk.data);
                    }
                }
                hasher
            });
            Hasher::Thread {
                sender,
                recycled,
                handle,
            }
        } else {
            Hasher::Inline(Sha256::new())
        };
        LayerStream {
            inner,
            chunk: Arc::new(Chunk {
                data: Vec::new(),
                len: 0,
            }),
            pos: 0,
            chunk_start: 0,
            spare: Vec::new(),
            hasher,
        }
    }

    /// Returns the wrapped reader without reading further. The hashing thread, if any,
    /// stops because its channel closes.
    pub(crate) fn into_inner(self) -> R {
        self.inner
    }

    /// Reads the rest of the stream and returns the wrapped reader with `sha256:<hex>` of
    /// the whole stream and the number of bytes that were left, or the error that stopped
    /// the reading.
    pub(crate) fn finish(mut self) -> (R, io::Result<(String, u64)>) {
        let position = self.chunk_start + self.pos as u64;
        let drained = self
            .drain()
            .map(|()| self.chunk_start + self.chunk.len as u64 - position);
        let hasher = match self.hasher {
            Hasher::Inline(hasher) => Ok(hasher),
            Hasher::Thread { sender, handle, .. } => {
                drop(sender);
                handle
                    .join()
                    .map_err(|_| io::Error::other("layer hashing thread panicked"))
            }
        };
        let digest = drained.and_then(|left| {
            let hasher = hasher?;
            Ok((format!("sha256:{}", hex::encode(hasher.finalize())), left))
        });
        (self.inner, digest)
    }

    fn drain(&mut self) -> io::Result<()> {
        while self.refill()? {}
        Ok(())
    }

    /// Moves to the next chunk of the stream and hands it to the hasher. Returns false at
    /// the end of the stream.
    fn refill(&mut self) -> io::Result<bool> {
        let mut data = self.spare_buffer();
        let mut len = 0;
        while len < data.len() {
            match self.inner.read(&mut data[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    self.spare.push(data);
                    return Err(error);
                }
            }
        }
        let chunk = Arc::new(Chunk { data, len });
        match &mut self.hasher {
            Hasher::Inline(hasher) => hasher.update(&chunk.data[..len]),
            Hasher::Thread { sender, .. } => {
                if len > 0 && sender.send(Arc::clone(&chunk)).is_err() {
                    return Err(io::Error::other("layer hashing thread stopped"));
                }
            }
        }
        let previous = std::mem::replace(&mut self.chunk, chunk);
        self.chunk_start += previous.len as u64;
        self.pos = 0;
        // A chunk the hashing thread still uses comes back through `recycled` instead.
        if let Some(previous) = Arc::into_inner(previous) {
            if previous.data.len() == CHUNK_BYTES {
                self.spare.push(previous.data);
            }
        }
        Ok(len > 0)
    }

    /// Returns an unused chunk buffer, allocating one only when none has come back.
    fn spare_buffer(&mut self) -> Vec<u8> {
        if let Some(data) = self.spare.pop() {
            return data;
        }
        if let Hasher::Thread { recycled, .. } = &self.hasher {
            if let Ok(data) = recycled.try_recv() {
                return data;
            }
        }
        vec![0; CHUNK_BYTES]
    }

    /// Returns the unread part of the current chunk, refilling it when empty; an empty
    /// slice means the end of the stream.
    fn available(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.chunk.len && !self.refill()? {
            return Ok(&[]);
        }
        Ok(&self.chunk.data[self.pos..self.chunk.len])
    }
}

impl<R: Read> Read for LayerStream<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.available()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.pos += n;
        Ok(n)
    }
}

impl<R: Read> Seek for LayerStream<'_, R> {
    /// Skips forward. Only `SeekFrom::Current` with a non-negative offset is supported.
    fn seek(&mut self, target: SeekFrom) -> io::Result<u64> {
        let mut remaining = match target {
            SeekFrom::Current(offset) => u64::try_from(offset).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::Unsupported,
                    "a layer stream cannot seek backwards",
                )
            })?,
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "a layer stream only seeks relative to the current position",
                ))
            }
        };
        while remaining > 0 {
            let available = self.available()?.len() as u64;
            if available == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "layer stream ended inside a skipped file",
                ));
            }
            let step = available.min(remaining);
            self.pos += step as usize;
            remaining -= step;
        }
        Ok(self.chunk_start + self.pos as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    fn expected_digest(data: &[u8]) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(data)))
    }

    /// Reads `data` through a stream, alternating reads and skips, and returns what was
    /// read and the digest.
    fn read_and_skip(data: &[u8], threaded: bool) -> (Vec<u8>, String) {
        std::thread::scope(|scope| {
            let mut stream = LayerStream::new(data, scope, threaded);
            let mut read = Vec::new();
            let mut buf = [0u8; 700];
            loop {
                let n = stream.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                read.extend_from_slice(&buf[..n]);
                let left = data.len() - read.len();
                let skip = left.min(300_000);
                let position = stream.seek(SeekFrom::Current(skip as i64)).unwrap();
                read.extend_from_slice(&data[read.len()..read.len() + skip]);
                assert_eq!(position, read.len() as u64);
            }
            let (_, digest) = stream.finish();
            (read, digest.unwrap().0)
        })
    }

    #[test]
    fn stream_digest_covers_skipped_bytes() {
        let data = pattern(3 * CHUNK_BYTES + 12345);
        for threaded in [false, true] {
            let (read, digest) = read_and_skip(&data, threaded);
            assert_eq!(read, data);
            assert_eq!(digest, expected_digest(&data));
        }
    }

    #[test]
    fn stream_digest_includes_unread_tail() {
        let data = pattern(2 * CHUNK_BYTES + 7);
        for threaded in [false, true] {
            let digest = std::thread::scope(|scope| {
                let mut stream = LayerStream::new(&data[..], scope, threaded);
                let mut head = [0u8; 512];
                stream.read_exact(&mut head).unwrap();
                let (digest, left) = stream.finish().1.unwrap();
                assert_eq!(left, data.len() as u64 - 512);
                digest
            });
            assert_eq!(digest, expected_digest(&data));
        }
    }

    #[test]
    fn stream_rejects_backward_seek() {
        let data = pattern(1000);
        std::thread::scope(|scope| {
            let mut stream = LayerStream::new(&data[..], scope, false);
            assert!(stream.seek(SeekFrom::Current(-1)).is_err());
            assert!(stream.seek(SeekFrom::Start(0)).is_err());
        });
    }

    #[test]
    fn stream_skip_past_end_fails() {
        let data = pattern(1000);
        std::thread::scope(|scope| {
            let mut stream = LayerStream::new(&data[..], scope, true);
            let error = stream.seek(SeekFrom::Current(2000)).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        });
    }
}
