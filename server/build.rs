//! Embeds the web client (`../web`) in the binary: generates a table of (path, bytes, gzipped
//! bytes). Compressing here, once, means no compression work per request.

use flate2::{Compression, write::GzEncoder};
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "node_modules" {
            continue;
        }
        if path.is_dir() {
            walk(&path, base, out);
        } else {
            let rel = path
                .strip_prefix(base)
                .expect("inside web/")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, path.canonicalize().expect("readable file")));
        }
    }
}

fn main() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
    println!("cargo:rerun-if-changed={}", web.display());
    let mut files = Vec::new();
    walk(&web, &web, &mut files);
    files.sort();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut code = String::from(
        "/// The web client's files: (path under web/, contents, gzipped contents).\n\
         pub static FILES: &[(&str, &[u8], &[u8])] = &[\n",
    );
    for (i, (rel, abs)) in files.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", abs.display());
        let bytes = std::fs::read(abs).expect("readable file");
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(&bytes).expect("compress");
        let gz_path = out_dir.join(format!("web-{i}.gz"));
        std::fs::write(&gz_path, gz.finish().expect("compress")).expect("write gzip");
        code.push_str(&format!(
            "    ({rel:?}, include_bytes!({:?}), include_bytes!({:?})),\n",
            abs.display().to_string(),
            gz_path.display().to_string()
        ));
    }
    code.push_str("];\n");
    std::fs::write(out_dir.join("web_files.rs"), code).expect("write generated file");
}
