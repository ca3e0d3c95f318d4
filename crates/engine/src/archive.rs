//! Lists a tar as it streams in (the answer of `GET
//! /containers/{id}/archive`), skipping file contents as they pass, so a
//! folder can be browsed without holding its files. Headers are decoded by
//! the `tar` crate; long names come from GNU `L` and PAX `x` records, as Go's
//! archive/tar (the engine's) writes them.

use tar::{EntryType, Header};

use crate::buffer::Pending;

const BLOCK: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// As in the archive: relative, starting with the requested item's name.
    pub path: String,
    pub kind: EntryKind,
    pub size: u64,
    pub mode: u32,
    /// Seconds since the epoch.
    pub mtime: u64,
    pub link: String,
}

/// Feed it bytes with [`TarLister::push`]; take entries with
/// [`TarLister::next_entry`] until it returns `None`.
#[derive(Debug, Default)]
pub struct TarLister {
    pending: Pending,
    /// Content bytes of the current entry still to pass over.
    skip: u64,
    long_name: Option<String>,
    long_link: Option<String>,
}

fn padded(size: u64) -> u64 {
    size.div_ceil(BLOCK as u64) * BLOCK as u64
}

/// The `path` and `linkpath` records of a PAX header.
fn pax(records: &[u8]) -> (Option<String>, Option<String>) {
    let (mut path, mut link) = (None, None);
    let mut rest = records;
    while let Some(space) = rest.iter().position(|&b| b == b' ') {
        let len: usize = match std::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|l| l.parse().ok())
        {
            Some(l) if l > space && l <= rest.len() => l,
            _ => break,
        };
        let record = &rest[space + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(v) = record.strip_prefix(b"path=") {
            path = Some(String::from_utf8_lossy(v).into_owned());
        } else if let Some(v) = record.strip_prefix(b"linkpath=") {
            link = Some(String::from_utf8_lossy(v).into_owned());
        }
        rest = &rest[len..];
    }
    (path, link)
}

impl TarLister {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.pending.push(chunk);
    }

    pub fn next_entry(&mut self) -> Option<Result<Entry, String>> {
        loop {
            if self.skip > 0 {
                let n = (self.pending.unread().len() as u64).min(self.skip);
                self.pending.consume(n as usize);
                self.skip -= n;
                if self.skip > 0 {
                    return None;
                }
            }
            let rest = self.pending.unread();
            if rest.len() < BLOCK {
                return None;
            }
            if rest[..BLOCK].iter().all(|&b| b == 0) {
                self.pending.consume(BLOCK);
                continue;
            }
            let header = Header::from_byte_slice(&rest[..BLOCK]);
            let size = match header.entry_size() {
                Ok(s) => s,
                Err(e) => return Some(Err(format!("not a tar archive: {e}"))),
            };
            let kind = header.entry_type();
            if matches!(
                kind,
                EntryType::GNULongName
                    | EntryType::GNULongLink
                    | EntryType::XHeader
                    | EntryType::XGlobalHeader
            ) {
                // Metadata for the next entry: wait for all of it.
                let total = BLOCK + padded(size) as usize;
                if size > 1 << 20 {
                    return Some(Err("a tar metadata record over 1 MiB".into()));
                }
                if rest.len() < total {
                    return None;
                }
                let data = &rest[BLOCK..BLOCK + size as usize];
                match kind {
                    EntryType::GNULongName => {
                        self.long_name = Some(
                            String::from_utf8_lossy(data)
                                .trim_end_matches('\0')
                                .to_owned(),
                        );
                    }
                    EntryType::GNULongLink => {
                        self.long_link = Some(
                            String::from_utf8_lossy(data)
                                .trim_end_matches('\0')
                                .to_owned(),
                        );
                    }
                    EntryType::XHeader => {
                        let (p, l) = pax(data);
                        self.long_name = p.or(self.long_name.take());
                        self.long_link = l.or(self.long_link.take());
                    }
                    _ => {}
                }
                self.pending.consume(total);
                continue;
            }
            let path = self
                .long_name
                .take()
                .unwrap_or_else(|| String::from_utf8_lossy(&header.path_bytes()).into_owned());
            let link = self.long_link.take().unwrap_or_else(|| {
                header
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned())
                    .unwrap_or_default()
            });
            let entry = Entry {
                path,
                kind: match kind {
                    EntryType::Regular | EntryType::Continuous | EntryType::Link => EntryKind::File,
                    EntryType::Directory => EntryKind::Dir,
                    EntryType::Symlink => EntryKind::Symlink,
                    _ => EntryKind::Other,
                },
                size: if kind == EntryType::Directory {
                    0
                } else {
                    size
                },
                mode: header.mode().unwrap_or(0),
                mtime: header.mtime().unwrap_or(0),
                link,
            };
            self.pending.consume(BLOCK);
            self.skip = padded(size);
            return Some(Ok(entry));
        }
    }
}

/// Builds the tar of one file for an upload: the header, then (sent by the
/// caller, from disk) `size` bytes of content, then [`upload_trailer`].
pub fn upload_header(name: &str, size: u64, mtime: u64) -> Result<Vec<u8>, String> {
    let mut header = Header::new_gnu();
    header
        .set_path(name)
        .map_err(|e| format!("cannot upload {name:?}: {e}"))?;
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(mtime);
    header.set_entry_type(EntryType::Regular);
    header.set_cksum();
    Ok(header.as_bytes().to_vec())
}

/// Padding after `size` bytes of content, and the end-of-archive blocks.
pub fn upload_trailer(size: u64) -> Vec<u8> {
    vec![0; (padded(size) - size) as usize + 2 * BLOCK]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_at_every_split_with_long_names_and_no_contents_kept() {
        let mut b = tar::Builder::new(Vec::new());
        let mut dir = Header::new_gnu();
        dir.set_entry_type(EntryType::Directory);
        dir.set_size(0);
        dir.set_mode(0o755);
        b.append_data(&mut dir, "etc/", &[][..]).unwrap();
        let mut file = Header::new_gnu();
        file.set_size(700);
        file.set_mode(0o644);
        file.set_mtime(1_700_000_000);
        b.append_data(&mut file, "etc/hosts", &[b'x'; 700][..])
            .unwrap();
        let long = format!("etc/{}", "n".repeat(150));
        b.append_data(&mut file, &long, &[b'y'; 700][..]).unwrap();
        let mut link = Header::new_gnu();
        link.set_entry_type(EntryType::Symlink);
        link.set_size(0);
        b.append_link(&mut link, "etc/mtab", "/proc/mounts")
            .unwrap();
        let tar = b.into_inner().unwrap();
        // A PAX-named entry, as Go writes long names.
        let mut pax_tar = tar::Builder::new(Vec::new());
        pax_tar
            .append_pax_extensions([("path", format!("etc/{}", "p".repeat(120)).as_bytes())])
            .unwrap();
        pax_tar
            .append_data(&mut file, "short", &[b'z'; 700][..])
            .unwrap();
        let mut wire = tar[..tar.len() - 1024].to_vec();
        wire.extend(pax_tar.into_inner().unwrap());

        for split in (0..wire.len()).step_by(97) {
            let mut l = TarLister::new();
            let mut got = vec![];
            for part in [&wire[..split], &wire[split..]] {
                l.push(part);
                while let Some(e) = l.next_entry() {
                    got.push(e.unwrap());
                }
            }
            let names: Vec<_> = got.iter().map(|e| (e.path.as_str(), e.kind)).collect();
            let pax_name = format!("etc/{}", "p".repeat(120));
            assert_eq!(
                names,
                [
                    ("etc/", EntryKind::Dir),
                    ("etc/hosts", EntryKind::File),
                    (long.as_str(), EntryKind::File),
                    ("etc/mtab", EntryKind::Symlink),
                    (pax_name.as_str(), EntryKind::File),
                ],
                "split at {split}"
            );
            assert_eq!(
                (got[1].size, got[1].mode, got[1].mtime),
                (700, 0o644, 1_700_000_000)
            );
            assert_eq!(got[3].link, "/proc/mounts");
        }
    }

    #[test]
    fn an_upload_is_a_tar_others_read() {
        let mut tar = upload_header("notes.txt", 5, 1_700_000_000).unwrap();
        tar.extend_from_slice(b"hello");
        tar.extend(upload_trailer(5));
        assert_eq!(tar.len() % BLOCK, 0);
        let mut a = tar::Archive::new(&tar[..]);
        let mut entries = a.entries().unwrap();
        let mut e = entries.next().unwrap().unwrap();
        assert_eq!(e.path().unwrap().to_str(), Some("notes.txt"));
        let mut s = String::new();
        std::io::Read::read_to_string(&mut e, &mut s).unwrap();
        assert_eq!(s, "hello");
        assert!(entries.next().is_none());
    }
}
