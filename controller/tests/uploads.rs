//! Package uploads (issue #17): streamed to a temporary file, never held in memory; a declared
//! length over the limit refused at once; few uploads read at once.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Duration;

use common::{Scripted, scripted, zip_of};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Opens a raw connection to the controller and sends a request head.
async fn start_upload(url: &str, length: u64) -> TcpStream {
    let address = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/v1/packages HTTP/1.1\r\nHost: {address}\r\nContent-Length: {length}\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

async fn answer(mut stream: TcpStream) -> String {
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// The resident memory of this process (the controller runs in it), in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A valid package of about `padding` bytes more than the scripted one, in a file.
fn large_package(padding: usize) -> std::fs::File {
    let small = zip_of(&Scripted::model());
    let mut small = zip::ZipArchive::new(std::io::Cursor::new(small)).unwrap();
    let mut file = tempfile::tempfile().unwrap();
    {
        let mut zip = zip::ZipWriter::new(&mut file);
        for index in 0..small.len() {
            zip.raw_copy_file(small.by_index_raw(index).unwrap())
                .unwrap();
        }
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(true);
        zip.start_file("padding.bin", stored).unwrap();
        let megabyte = vec![7u8; 1 << 20];
        for _ in 0..padding >> 20 {
            zip.write_all(&megabyte).unwrap();
        }
        zip.finish().unwrap();
    }
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_length_over_the_limit_is_413_at_once() {
    let (c, _) = scripted().await;
    let stream = start_upload(&c.controller().url(), 1_099_511_627_776).await;
    // No body is sent: the answer comes from the head alone.
    let answer = tokio::time::timeout(Duration::from_secs(10), answer(stream))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""error":"PayloadTooLarge""#), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_past_the_cap_are_503_with_retry_after() {
    let (c, _) = scripted().await;
    let url = c.controller().url();
    // Two uploads that have begun and wait for the rest of their body hold both places.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = start_upload(&url, 1000).await;
        stream.write_all(b"PK").await.unwrap();
        held.push(stream);
    }
    let mut refused = None;
    for _ in 0..1000 {
        let stream = start_upload(&url, 4).await;
        let mut stream = stream;
        stream.write_all(b"PK..").await.unwrap();
        let answer = answer(stream).await;
        if answer.starts_with("HTTP/1.1 503") {
            refused = Some(answer);
            break;
        }
        // The held uploads may not have reached the handler yet, or one came while this one
        // held a place and was refused: then it is opened again.
        for held in &mut held {
            let mut byte = [0u8; 1];
            if !matches!(held.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
            {
                *held = start_upload(&url, 1000).await;
                held.write_all(b"PK").await.unwrap();
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused = refused.expect("a third upload is refused");
    assert!(
        refused.to_ascii_lowercase().contains("retry-after: 1"),
        "{refused}"
    );
    assert!(refused.contains(r#""error":"Busy""#), "{refused}");
    drop(held);
    // Once they are gone, uploads are read again.
    let package = reqwest::Client::new()
        .post(format!("{url}/api/v1/packages"))
        .body(zip_of(&Scripted::model()));
    let mut status = 0;
    for _ in 0..100 {
        status = package
            .try_clone()
            .unwrap()
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if status == 201 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_upload_is_streamed_and_memory_comes_back() {
    let (c, _) = scripted().await;
    let padding = 128 << 20;
    let mut file = large_package(padding);
    let length = file.seek(SeekFrom::End(0)).unwrap();
    file.rewind().unwrap();
    let before = rss_kib();
    let mut stream = start_upload(&c.controller().url(), length).await;
    let mut chunk = vec![0u8; 1 << 20];
    let mut peak = before;
    loop {
        let n = file.read(&mut chunk).unwrap();
        if n == 0 {
            break;
        }
        stream.write_all(&chunk[..n]).await.unwrap();
        peak = peak.max(rss_kib());
    }
    let answer = answer(stream).await;
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["name"], "scripted");
    let after = rss_kib();
    eprintln!(
        "upload of {} MiB: resident {} MiB before, {} MiB at most while sending, {} MiB after",
        length >> 20,
        before >> 10,
        peak >> 10,
        after >> 10
    );
    // Held in memory, the body alone would be 128 MiB.
    assert!(
        peak.saturating_sub(before) < 64 << 10,
        "memory grew by {} MiB while uploading",
        peak.saturating_sub(before) >> 10
    );
    assert!(after.saturating_sub(before) < 32 << 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_past_the_limit_without_a_declared_length_is_413_as_it_arrives() {
    let (c, _) = scripted().await;
    let url = c.controller().url();
    let address = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/v1/packages HTTP/1.1\r\nHost: {address}\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // 257 chunks of 1 MiB: one more than a package may have. The controller may stop reading
    // (and close) as soon as it is past the limit, so a failed write ends the sending.
    let mut chunk = format!("{:x}\r\n", 1 << 20).into_bytes();
    chunk.extend(std::iter::repeat_n(b'x', 1 << 20));
    chunk.extend(b"\r\n");
    for _ in 0..257 {
        if stream.write_all(&chunk).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""error":"PayloadTooLarge""#), "{answer}");
}
