//! A Kafka broker for benchmarks and manual runs: librdkafka's mock
//! cluster, serving the Kafka protocol (consumer groups and offset commits
//! included) on a loopback port, in memory.
//!
//! `cargo run --release --example kafka_mock -- TOPIC PARTITIONS` prints
//! the bootstrap address on its first line, then serves until its standard
//! input closes (or it is killed).

use rdkafka::mocking::MockCluster;
use std::io::{BufRead, Write};

fn main() {
    let mut args = std::env::args().skip(1);
    let topic = args.next().unwrap_or_else(|| "logs".into());
    let partitions: i32 = args
        .next()
        .map(|p| p.parse().expect("PARTITIONS is a number"))
        .unwrap_or(6);
    let cluster = MockCluster::new(1).expect("the mock cluster starts");
    cluster
        .create_topic(&topic, partitions, 1)
        .expect("the topic is created");
    let mut out = std::io::stdout();
    writeln!(out, "{}", cluster.bootstrap_servers()).unwrap();
    out.flush().unwrap();
    // Serve until stdin closes.
    for line in std::io::stdin().lock().lines() {
        if line.is_err() {
            break;
        }
    }
}
