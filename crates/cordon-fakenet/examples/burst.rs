//! Measures fakenet start, attach and stop times and the capture under a UDP burst.
//!
//! Usage (as root): `cargo run --release -p cordon-fakenet --example burst -- [DATAGRAMS]`
//!
//! It creates a target namespace `cordon-fnbench-<pid>`, sends DATAGRAMS (default 100000)
//! UDP datagrams of 512 bytes to 192.0.2.1:9999 (TEST-NET-1, answered by the fakenet's UDP
//! catch-all) as fast as one thread can, and prints the capture counters.

use std::net::UdpSocket;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use cordon_fakenet::{FakeNet, FakeNetOptions};
use nix::sched::CloneFlags;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let datagrams: usize = std::env::args()
        .nth(1)
        .map(|arg| arg.parse())
        .transpose()?
        .unwrap_or(100_000);
    let out = tempfile::tempdir()?;
    let target = format!("cordon-fnbench-{}", std::process::id());
    let status = Command::new("ip")
        .args(["netns", "add", &target])
        .status()?;
    if !status.success() {
        return Err(format!("ip netns add {target} failed").into());
    }
    let target_path = Path::new("/run/netns").join(&target);

    let started = Instant::now();
    let mut fakenet = FakeNet::start(&FakeNetOptions::new(
        format!("bench{}", std::process::id()),
        out.path(),
    ))?;
    let start_time = started.elapsed();
    let attached = Instant::now();
    fakenet.attach(&target_path)?;
    let attach_time = attached.elapsed();

    let sender_path = target_path.clone();
    let send_time = std::thread::spawn(move || -> Result<_, String> {
        let file = std::fs::File::open(&sender_path).map_err(|e| e.to_string())?;
        nix::sched::setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| e.to_string())?;
        let socket = UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
        let payload = [0x5a_u8; 512];
        let sending = Instant::now();
        for _ in 0..datagrams {
            socket
                .send_to(&payload, ("192.0.2.1", 9999))
                .map_err(|e| e.to_string())?;
        }
        Ok(sending.elapsed())
    })
    .join()
    .map_err(|_| "sender thread panicked")??;

    let stopped = Instant::now();
    let report = fakenet.stop()?;
    let stop_time = stopped.elapsed();
    let _ = Command::new("ip")
        .args(["netns", "delete", &target])
        .status();

    let udp_bytes: u64 = report
        .connections
        .iter()
        .filter(|c| c.original_dst.port() == 9999)
        .map(|c| c.bytes_received)
        .sum();
    println!("start {start_time:?}, attach {attach_time:?}, stop+decode {stop_time:?}");
    println!("sent {datagrams} datagrams of 512 bytes in {send_time:?}");
    println!(
        "captured {} frames ({} bytes), kernel drops {}, truncated {}",
        report.capture.packets,
        report.capture.bytes,
        report.capture.kernel_drops,
        report.capture.truncated
    );
    println!(
        "UDP catch-all received {} datagrams' worth ({} bytes)",
        udp_bytes / 512,
        udp_bytes
    );
    Ok(())
}
