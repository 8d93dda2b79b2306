//! The web client, embedded at build time from `web/` and served with content types and ETags.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::OnceLock;

mod files {
    include!(concat!(env!("OUT_DIR"), "/web_files.rs"));
}

struct Asset {
    bytes: &'static [u8],
    gzipped: &'static [u8],
    content_type: &'static str,
    etag: HeaderValue,
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("webmanifest") => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

fn assets() -> &'static HashMap<&'static str, Asset> {
    static ASSETS: OnceLock<HashMap<&'static str, Asset>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        files::FILES
            .iter()
            .map(|(path, bytes, gzipped)| {
                let hash = blake3::hash(bytes).to_hex();
                let etag = HeaderValue::from_str(&format!("\"{}\"", &hash[..16]))
                    .expect("hex is a valid header");
                (
                    *path,
                    Asset {
                        bytes,
                        gzipped,
                        content_type: content_type(path),
                        etag,
                    },
                )
            })
            .collect()
    })
}

/// Serves the file at `path` under `web/`, or 404: gzipped when the browser accepts it (and it
/// is smaller), 304 when the ETag matches.
pub fn serve(path: &str, request: &HeaderMap) -> Response {
    let Some(asset) = assets().get(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, asset.etag.clone()),
        (header::VARY, HeaderValue::from_static("accept-encoding")),
    ];
    if request.get(header::IF_NONE_MATCH) == Some(&asset.etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let accepts_gzip = request
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|e| e.split(';').next().is_some_and(|e| e.trim() == "gzip"))
        });
    if accepts_gzip && asset.gzipped.len() < asset.bytes.len() {
        let encoding = [(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))];
        return (headers, encoding, asset.gzipped).into_response();
    }
    (headers, asset.bytes).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn get(path: &str, encoding: Option<&str>) -> Response {
        let mut headers = HeaderMap::new();
        if let Some(e) = encoding {
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(e).unwrap());
        }
        serve(path, &headers)
    }

    #[test]
    fn serves_gzip_only_to_browsers_that_accept_it() {
        let plain = get("index.html", None);
        assert_eq!(plain.status(), StatusCode::OK);
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        let gz = get("app.js", Some("br, gzip;q=0.9"));
        assert_eq!(gz.headers().get(header::CONTENT_ENCODING).unwrap(), "gzip");
        assert_eq!(
            get("app.js", Some("gzipx"))
                .headers()
                .get(header::CONTENT_ENCODING),
            None
        );
        assert_eq!(get("nope.js", None).status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn every_embedded_file_unzips_to_itself() {
        for (path, bytes, gzipped) in files::FILES {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(*gzipped)
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(&out, bytes, "{path}");
        }
    }
}
