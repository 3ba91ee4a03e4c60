//! The bytes of the index files.
//!
//! Why every file is a script: Chromium blocks `fetch()` on `file://`, but a
//! `<script>` tag still loads. So each file is one line,
//! `__sb_search_load("NAME","BASE64");`, where BASE64 is raw-deflate data. The
//! browser loads every file the same way (a script tag) whether the site is
//! served or opened from disk, and decompresses it itself, so a host that does
//! not gzip still sends compressed bytes. `docs/search.md` describes each
//! payload; `theme/search.js` reads them.

use std::io::Write;

use flate2::write::DeflateEncoder;
use flate2::Compression;

/// Appends `v` as a LEB128 varint.
pub fn varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 varint written by [`varint`] at `*i`, advancing `*i` past it.
pub fn read_varint(b: &[u8], i: &mut usize) -> u32 {
    let (mut v, mut shift) = (0u32, 0);
    loop {
        let byte = b[*i];
        *i += 1;
        v |= ((byte & 0x7f) as u32) << shift;
        if byte < 0x80 {
            return v;
        }
        shift += 7;
    }
}

/// Raw deflate (no zlib or gzip header), best compression. Deterministic for a
/// given flate2 backend.
pub fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut enc = DeflateEncoder::new(Vec::with_capacity(bytes.len() / 3), Compression::best());
    enc.write_all(bytes)
        .expect("deflate into memory cannot fail");
    enc.finish().expect("deflate into memory cannot fail")
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        s.push(A[(n >> 18) as usize & 63] as char);
        s.push(A[(n >> 12) as usize & 63] as char);
        s.push(if c.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        s.push(if c.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    s
}

/// Compresses `payload` and wraps it as a loadable script named `name`.
pub fn wrap(name: &str, payload: &[u8]) -> Vec<u8> {
    debug_assert!(name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'/'));
    format!(
        "__sb_search_load(\"{name}\",\"{}\");\n",
        base64(&deflate(payload))
    )
    .into_bytes()
}

/// FNV-1a, 64 bits: a content hash for file names, not for security.
pub fn fnv1a(h: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(h, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn varint_is_leb128() {
        let mut v = Vec::new();
        for n in [0, 127, 128, 300, u32::MAX] {
            varint(&mut v, n);
        }
        assert_eq!(v, [0, 127, 0x80, 1, 0xac, 2, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (i, o) in cases {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn deflate_round_trips() {
        let data = b"checkout-api checkout-api checkout-api".repeat(20);
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(&deflate(&data)[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
    }
}
