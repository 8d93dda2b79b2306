//! Small file systems for the disk tests: a size-limited tmpfs, and an ext4 image on a loop
//! device whose files can turn read-only and which can stall. Mounting needs root: without it
//! a test says so loudly and passes, except under `CI=true`, where it fails.

use anyhow::{Context, Result, bail};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

/// A size-limited tmpfs, unmounted when dropped.
pub struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`6m`) at `at`; `None` where it cannot (said loudly).
    pub fn mount(at: &Path, size: &str) -> Result<Option<Self>> {
        let ok = Process::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(Some(Self(at.to_owned())));
        }
        cannot("cannot mount a tmpfs (needs root)")?;
        Ok(None)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Process::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Says loudly that a test could not run, or fails it under CI.
pub fn cannot(what: &str) -> Result<()> {
    if std::env::var_os("CI").is_some() {
        bail!("{what}; CI must run the disk tests");
    }
    eprintln!("\n*** SKIPPED: {what}: the disk test did not run ***\n");
    Ok(())
}

fn run(program: &str, args: &[&str], at: &Path) -> bool {
    Process::new(program)
        .args(args)
        .arg(at)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A small ext4 file system in an image file, mounted through a loop device; thawed,
/// unmounted and removed when dropped. (A tmpfs does not stop writes to a file that turned
/// immutable, and cannot be frozen.)
pub struct Ext4 {
    at: PathBuf,
    _image: tempfile::NamedTempFile,
}

impl Ext4 {
    /// Mounts a 64 MiB ext4 file system at `at`; `None` where it cannot (said loudly).
    pub fn mount(at: &Path) -> Result<Option<Self>> {
        let image = tempfile::NamedTempFile::new()?;
        image.as_file().set_len(64 << 20)?;
        let made = run("mkfs.ext4", &["-q", "-F"], image.path())
            && Process::new("mount")
                .args(["-o", "loop"])
                .arg(image.path())
                .arg(at)
                .status()
                .is_ok_and(|s| s.success());
        if !made {
            cannot("cannot make an ext4 file system on a loop device (needs root)")?;
            return Ok(None);
        }
        Ok(Some(Self {
            at: at.to_owned(),
            _image: image,
        }))
    }

    /// Makes a file read-only for everyone, including those who have it open (`chattr +i`),
    /// or writable again.
    pub fn immutable(&self, file: &Path, on: bool) -> Result<()> {
        let flag = if on { "+i" } else { "-i" };
        anyhow::ensure!(run("chattr", &[flag], file), "chattr {flag} failed");
        Ok(())
    }

    /// Stalls every write to the file system (`fsfreeze`), or lets them through again.
    pub fn freeze(&self, on: bool) -> Result<()> {
        let flag = if on { "--freeze" } else { "--unfreeze" };
        anyhow::ensure!(run("fsfreeze", &[flag], &self.at), "fsfreeze {flag} failed");
        Ok(())
    }
}

impl Drop for Ext4 {
    fn drop(&mut self) {
        let _ = self.freeze(false);
        let db = self.at.join("tafel.redb");
        let _ = self.immutable(&db, false);
        let _ = Process::new("umount").arg("-l").arg(&self.at).status();
    }
}

/// Writes `path` until the file system is full.
pub fn fill(path: &Path) -> Result<()> {
    let mut file = std::fs::File::create(path)?;
    let chunk = vec![0x5au8; 16 * 1024];
    loop {
        match file.write_all(&chunk) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => return Err(e).context("filling the disk"),
        }
    }
    // The last bytes, one at a time, so not a page is left.
    while file.write_all(&[0]).is_ok() {}
    let _ = file.sync_all();
    Ok(())
}
