//! CRC frames (format.md "Frame"): layout, CRC, and how damaged tails are classified.

use ledger_core::{
    crc32, decode_frame_at, encode_frame, scan_frames, Tail, FRAME_CRC_SIZE, FRAME_HEADER_SIZE,
    MAX_FRAME_LEN,
};

fn frames(bodies: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for b in bodies {
        encode_frame(b, &mut out);
    }
    out
}

#[test]
fn crc32_is_zlib_ieee() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
}

#[test]
fn frame_of_hello_with_accent_is_14_bytes_length_body_crc() {
    let body = "héllo".as_bytes();
    let mut out = Vec::new();
    encode_frame(body, &mut out);
    assert_eq!(out.len(), 14);
    assert_eq!(&out[..4], &[0, 0, 0, 6]);
    assert_eq!(&out[4..10], body);
    assert_eq!(&out[10..], &crc32(body).to_be_bytes());
    assert_eq!(FRAME_HEADER_SIZE + FRAME_CRC_SIZE, 8);
}

#[test]
fn empty_body_is_a_legal_frame_with_crc_zero() {
    let buf = frames(&[b""]);
    assert_eq!(buf, vec![0; 8]);
    assert_eq!(decode_frame_at(&buf, 0), Some((4..4, 8)));
}

#[test]
fn clean_sequence_scans_every_body() {
    let buf = frames(&[b"one", b"", b"three"]);
    let scan = scan_frames(&buf);
    assert_eq!(scan.tail, Tail::Clean);
    assert_eq!(scan.valid_len, buf.len());
    let bodies: Vec<&[u8]> = scan.bodies.iter().map(|r| &buf[r.clone()]).collect();
    assert_eq!(bodies, vec![&b"one"[..], b"", b"three"]);
    assert_eq!(scan_frames(b"").tail, Tail::Clean);
}

#[test]
fn torn_tails_stop_the_scan_at_the_last_good_frame() {
    let good = frames(&[b"one", b"two"]);
    let full = frames(&[b"one", b"two", b"three"]);
    // Cut inside the header, the body and the CRC of the third frame.
    for cut in [good.len() + 2, good.len() + 6, full.len() - 1] {
        let scan = scan_frames(&full[..cut]);
        assert_eq!(scan.tail, Tail::Torn, "cut at {cut}");
        assert_eq!(scan.valid_len, good.len());
        assert_eq!(scan.bodies.len(), 2);
        assert_eq!(decode_frame_at(&full[..cut], good.len()), None);
    }
}

#[test]
fn a_crc_mismatch_ends_the_scan_even_if_good_frames_follow() {
    let mut buf = frames(&[b"one", b"two", b"three"]);
    let second_body = 11 + 4; // frame one is header(4) + "one"(3) + crc(4); skip header two
    buf[second_body] ^= 0xff;
    let scan = scan_frames(&buf);
    assert_eq!(scan.tail, Tail::BadCrc);
    assert_eq!(scan.valid_len, 11);
    assert_eq!(scan.bodies, vec![4..7]);
    assert_eq!(decode_frame_at(&buf, 11), None);
}

#[test]
fn lengths_above_the_cap_are_oversized_and_past_the_end_are_torn() {
    let mut buf = frames(&[b"ok"]);
    let good = buf.len();
    buf.extend_from_slice(&((MAX_FRAME_LEN as u32) + 1).to_be_bytes());
    buf.extend_from_slice(&[0; 16]);
    let scan = scan_frames(&buf);
    assert_eq!(scan.tail, Tail::Oversized);
    assert_eq!(scan.valid_len, good);

    // "GARBAGE" reads as a ~1.19 GB length: refused without allocating.
    assert_eq!(scan_frames(b"GARBAGE").tail, Tail::Oversized);

    let mut past_end = frames(&[b"ok"]);
    past_end.extend_from_slice(&1000u32.to_be_bytes());
    past_end.extend_from_slice(b"short");
    assert_eq!(scan_frames(&past_end).tail, Tail::Torn);
}

#[test]
fn decode_frame_at_walks_frame_by_frame_and_tolerates_any_offset() {
    let buf = frames(&[b"a", b"bc"]);
    let (r1, next) = decode_frame_at(&buf, 0).unwrap();
    assert_eq!(&buf[r1], b"a");
    let (r2, end) = decode_frame_at(&buf, next).unwrap();
    assert_eq!(&buf[r2], b"bc");
    assert_eq!(end, buf.len());
    assert_eq!(decode_frame_at(&buf, end), None);
    assert_eq!(decode_frame_at(&buf, usize::MAX), None);
    assert_eq!(decode_frame_at(&buf, usize::MAX - 2), None);
}
