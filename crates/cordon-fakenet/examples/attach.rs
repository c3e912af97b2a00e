//! Serves a fake internet to an existing network namespace for a while, then prints the
//! DNS queries, flows and service records.
//!
//! Usage (as root):
//! `cargo run -p cordon-fakenet --example attach -- NETNS_PATH SECONDS OUT_DIR`
//!
//! NETNS_PATH is for example `/proc/<pid>/ns/net` of a container started with
//! `--network none`. Start the analysed program after the line `attached` is printed.

use std::path::PathBuf;
use std::time::Duration;

use cordon_fakenet::{FakeNet, FakeNetOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: attach NETNS_PATH SECONDS OUT_DIR";
    let netns = PathBuf::from(args.next().ok_or(usage)?);
    let seconds: u64 = args.next().ok_or(usage)?.parse()?;
    let out_dir = PathBuf::from(args.next().ok_or(usage)?);

    let run_id = format!("attach{}", std::process::id());
    let mut fakenet = FakeNet::start(&FakeNetOptions::new(run_id, &out_dir))?;
    fakenet.attach(&netns)?;
    println!("attached");
    std::thread::sleep(Duration::from_secs(seconds));
    let report = fakenet.stop()?;

    for event in &report.dns {
        println!(
            "dns {} {} {} -> {:?} (server {})",
            event.time, event.qtype, event.name, event.answers, event.server
        );
    }
    for flow in &report.flows {
        println!(
            "flow {:?} {}:{} name={:?} packets={} bytes={} app={:?} sni={:?} host={:?} path={:?}",
            flow.protocol,
            flow.dst_ip,
            flow.dst_port,
            flow.dst_name,
            flow.packets,
            flow.bytes,
            flow.app_protocol,
            flow.sni,
            flow.http_host,
            flow.http_path
        );
    }
    for connection in &report.connections {
        println!(
            "service {:?} {} name={:?} {:?} {}",
            connection.transport,
            connection.original_dst,
            connection.dst_name,
            connection.protocol,
            serde_json::to_string(&connection.details)?
        );
    }
    println!(
        "capture: {} frames, {} kernel drops, file {}",
        report.capture.packets,
        report.capture.kernel_drops,
        report.pcap_path.display()
    );
    Ok(())
}
