//! Packet capture with an `AF_PACKET` socket on the fakenet side of the veth pair, written
//! as pcapng.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, IoSliceMut, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::socket::{
    self, sockopt, AddressFamily, ControlMessageOwned, LinkAddr, MsgFlags, SockFlag, SockProtocol,
    SockType,
};
use nix::sys::time::TimeVal;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::interface_statistics::{
    InterfaceStatisticsBlock, InterfaceStatisticsOption,
};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;

use crate::error::{Error, Result};
use crate::report::CaptureStats;
use crate::services::enter_netns;

/// Receive buffer of the capture socket, in bytes.
const RECEIVE_BUFFER: usize = 32 << 20;

/// How often the capture loop checks for stop and flushes the file.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// `sll_pkttype` of frames the namespace sent (`PACKET_OUTGOING` in `linux/if_packet.h`).
const PACKET_OUTGOING: u8 = 4;

/// pcapng `epb_flags` direction bits (pcapng specification, Enhanced Packet Block options):
/// inbound and outbound.
const EPB_INBOUND: u32 = 0b01;
const EPB_OUTBOUND: u32 = 0b10;

/// A running capture.
#[derive(Debug)]
pub(crate) struct Capture {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<CaptureStats>>>,
    path: PathBuf,
}

impl Capture {
    /// Starts capturing on `ifname` inside the namespace at `netns_path`; returns once the
    /// socket is open, so every frame from then on is captured.
    pub(crate) fn start(
        netns_path: &Path,
        ifname: &str,
        path: &Path,
        snaplen: usize,
    ) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<()>>();
        let thread = {
            let stop = stop.clone();
            let netns_path = netns_path.to_path_buf();
            let ifname = ifname.to_string();
            let path = path.to_path_buf();
            std::thread::Builder::new()
                .name("fakenet-capture".into())
                .spawn(move || {
                    let opened = open_capture(&netns_path, &ifname, &path, snaplen);
                    let (socket, ifindex, writer) = match opened {
                        Ok(opened) => opened,
                        Err(err) => {
                            let message = err.to_string();
                            let _ = ready_tx.send(Err(err));
                            return Err(Error::Thread {
                                what: "capture",
                                reason: message,
                            });
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    capture_loop(&socket, ifindex, writer, snaplen, &stop, &path)
                })
                .map_err(|err| Error::sys("failed to spawn the capture thread", err))?
        };
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Capture {
                stop,
                thread: Some(thread),
                path: path.to_path_buf(),
            }),
            Ok(Err(err)) => {
                let _ = thread.join();
                Err(err)
            }
            Err(_) => Err(Error::Thread {
                what: "capture",
                reason: "exited before opening its socket".into(),
            }),
        }
    }

    /// Stops the capture after reading every frame already queued, and returns its counters.
    pub(crate) fn stop(&mut self) -> Result<CaptureStats> {
        self.stop.store(true, Ordering::SeqCst);
        let Some(thread) = self.thread.take() else {
            return Ok(CaptureStats::default());
        };
        match thread.join() {
            Ok(result) => result,
            Err(_) => Err(Error::Thread {
                what: "capture",
                reason: format!("panicked while writing {}", self.path.display()),
            }),
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

type Writer = PcapNgWriter<BufWriter<File>>;

fn open_capture(
    netns_path: &Path,
    ifname: &str,
    path: &Path,
    snaplen: usize,
) -> Result<(OwnedFd, u32, Writer)> {
    enter_netns(netns_path)?;
    let ifindex = nix::net::if_::if_nametoindex(ifname)
        .map_err(|errno| Error::sys(format!("interface {ifname} not found"), errno))?;
    let socket = socket::socket(
        AddressFamily::Packet,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::EthAll,
    )
    .map_err(|errno| Error::sys("failed to open an AF_PACKET socket", errno))?;
    if socket::setsockopt(&socket, sockopt::RcvBufForce, &RECEIVE_BUFFER).is_err() {
        socket::setsockopt(&socket, sockopt::RcvBuf, &RECEIVE_BUFFER)
            .map_err(|errno| Error::sys("failed to set the capture receive buffer", errno))?;
    }
    let set = |result: nix::Result<()>, what: &str| {
        result.map_err(|errno| {
            Error::sys(format!("failed to set {what} on the capture socket"), errno)
        })
    };
    set(
        socket::setsockopt(&socket, sockopt::ReceiveTimestampns, &true),
        "SO_TIMESTAMPNS",
    )?;
    set(
        socket::setsockopt(&socket, sockopt::RxqOvfl, &1),
        "SO_RXQ_OVFL",
    )?;
    set(
        socket::setsockopt(
            &socket,
            sockopt::ReceiveTimeout,
            &TimeVal::new(0, POLL_INTERVAL.as_micros() as _),
        ),
        "SO_RCVTIMEO",
    )?;

    let file = File::create(path).map_err(|err| Error::io(path, err))?;
    let mut writer = PcapNgWriter::new(BufWriter::new(file)).map_err(|err| Error::Pcap {
        path: path.to_path_buf(),
        reason: err.to_string(),
    })?;
    writer
        .write_pcapng_block(InterfaceDescriptionBlock {
            linktype: DataLink::ETHERNET,
            snaplen: snaplen as u32,
            options: vec![
                InterfaceDescriptionOption::IfName(Cow::Owned(ifname.to_string())),
                // Timestamps are in nanoseconds (if_tsresol 9); pcap-file writes them so.
                InterfaceDescriptionOption::IfTsResol(9),
            ],
        })
        .map_err(|err| Error::Pcap {
            path: path.to_path_buf(),
            reason: err.to_string(),
        })?;
    writer
        .get_mut()
        .flush()
        .map_err(|err| Error::io(path, err))?;
    Ok((socket, ifindex, writer))
}

fn capture_loop(
    socket: &OwnedFd,
    ifindex: u32,
    mut writer: Writer,
    snaplen: usize,
    stop: &AtomicBool,
    path: &Path,
) -> Result<CaptureStats> {
    let pcap_error = |err: pcap_file::PcapError| Error::Pcap {
        path: path.to_path_buf(),
        reason: err.to_string(),
    };
    let mut stats = CaptureStats::default();
    let mut buf = vec![0u8; snaplen];
    let mut cmsg = nix::cmsg_space!(nix::libc::timespec, u32);
    let mut last_flush = Instant::now();
    loop {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let received = socket::recvmsg::<LinkAddr>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_TRUNC,
        );
        let message = match received {
            Ok(message) => message,
            Err(Errno::EAGAIN | Errno::EINTR) => {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                writer
                    .get_mut()
                    .flush()
                    .map_err(|err| Error::io(path, err))?;
                last_flush = Instant::now();
                continue;
            }
            Err(errno) => return Err(Error::sys("capture receive failed", errno)),
        };
        let wire_len = message.bytes;
        let Some(address) = message.address else {
            continue;
        };
        let mut timestamp = None;
        if let Ok(controls) = message.cmsgs() {
            for control in controls {
                match control {
                    ControlMessageOwned::ScmTimestampns(ts) => {
                        timestamp = Some(Duration::new(ts.tv_sec() as u64, ts.tv_nsec() as u32));
                    }
                    ControlMessageOwned::RxqOvfl(drops) => {
                        stats.kernel_drops = stats.kernel_drops.max(u64::from(drops));
                    }
                    _ => {}
                }
            }
        }
        if address.ifindex() != ifindex as usize {
            continue;
        }
        let timestamp = timestamp.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
        });
        let captured = wire_len.min(buf.len());
        if captured < wire_len {
            stats.truncated += 1;
        }
        let direction = if address.pkttype() == PACKET_OUTGOING {
            EPB_OUTBOUND
        } else {
            EPB_INBOUND
        };
        writer
            .write_pcapng_block(EnhancedPacketBlock {
                interface_id: 0,
                timestamp,
                original_len: wire_len as u32,
                data: Cow::Borrowed(&buf[..captured]),
                options: vec![EnhancedPacketOption::Flags(direction)],
            })
            .map_err(pcap_error)?;
        stats.packets += 1;
        stats.bytes += wire_len as u64;
        if last_flush.elapsed() >= POLL_INTERVAL {
            writer
                .get_mut()
                .flush()
                .map_err(|err| Error::io(path, err))?;
            last_flush = Instant::now();
        }
    }

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    writer
        .write_pcapng_block(InterfaceStatisticsBlock {
            interface_id: 0,
            timestamp: now.as_nanos() as u64,
            options: vec![
                InterfaceStatisticsOption::IsbOsDrop(stats.kernel_drops),
                InterfaceStatisticsOption::IsbUsrDeliv(stats.packets),
            ],
        })
        .map_err(pcap_error)?;
    writer
        .get_mut()
        .flush()
        .map_err(|err| Error::io(path, err))?;
    tracing::info!(
        packets = stats.packets,
        drops = stats.kernel_drops,
        path = %path.display(),
        "capture stopped"
    );
    Ok(stats)
}
