//! Opening a CSV file: gzip by magic bytes, BOM, delimiter from the header line, then records
//! one at a time with their physical line numbers.
//!
//! Nothing here holds more than a buffer of the file: the largest shared file (M5 FOODS_3,
//! 1.6 M rows) streams through in constant memory.

use ::csv::{ByteRecord, Reader, ReaderBuilder};
use flate2::read::MultiGzDecoder;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::rc::Rc;

/// Bytes read while looking for the header line before giving up on finding its end.
const MAX_HEADER_BYTES: u64 = 64 * 1024;
/// Blank lines tolerated before the header.
const MAX_LEADING_BLANK_LINES: usize = 100;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why a file could not be opened as CSV.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// The file could not be opened.
    Open(io::Error),
    /// The first bytes could not be read (a broken gzip header, for example).
    Io(io::Error),
    /// No header line.
    Empty,
}

impl From<io::Error> for OpenError {
    fn from(e: io::Error) -> Self {
        OpenError::Io(e)
    }
}

/// An open CSV file positioned after its header.
pub(crate) struct CsvSource {
    reader: Reader<NewlineIndex<Box<dyn Read>>>,
    bytes_read: Rc<Cell<u64>>,
    newlines: Rc<RefCell<VecDeque<u64>>>,
    total_bytes: u64,
    compressed: bool,
    delimiter: u8,
    header: Vec<String>,
}

impl std::fmt::Debug for CsvSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvSource")
            .field("total_bytes", &self.total_bytes)
            .field("compressed", &self.compressed)
            .field("delimiter", &char::from(self.delimiter))
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

impl CsvSource {
    /// Opens `path`, decompressing it if it starts with the gzip magic bytes.
    pub(crate) fn open(path: &Path) -> Result<Self, OpenError> {
        let mut file = File::open(path).map_err(OpenError::Open)?;
        let total_bytes = file.metadata().map_err(OpenError::Open)?.len();
        let mut magic = [0u8; 2];
        let mut filled = 0;
        while filled < magic.len() {
            match file.read(&mut magic[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        file.seek(SeekFrom::Start(0))?;
        let compressed = filled == magic.len() && magic == GZIP_MAGIC;
        Self::from_reader(file, total_bytes, compressed)
    }

    fn from_reader(file: impl Read + 'static, total_bytes: u64, compressed: bool) -> Result<Self, OpenError> {
        let bytes_read = Rc::new(Cell::new(0));
        let counted = CountingReader { inner: file, count: Rc::clone(&bytes_read) };
        let decoded: Box<dyn Read> =
            if compressed { Box::new(MultiGzDecoder::new(counted)) } else { Box::new(counted) };
        let mut buffered = BufReader::with_capacity(256 * 1024, decoded);

        // Read up to the end of the first non-blank line to detect the delimiter, then hand those
        // bytes back in front of the rest so the CSV reader sees the file whole (and counts lines).
        let mut head = Vec::new();
        for _ in 0..MAX_LEADING_BLANK_LINES {
            let start = head.len();
            let n = (&mut buffered).take(MAX_HEADER_BYTES).read_until(b'\n', &mut head)?;
            if n == 0 || head[start..].iter().any(|b| !b.is_ascii_whitespace()) {
                break;
            }
        }
        if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
            let reason = "the file is UTF-16 encoded; save it as CSV UTF-8";
            return Err(OpenError::Io(io::Error::new(io::ErrorKind::InvalidData, reason)));
        }
        if head.starts_with(UTF8_BOM) {
            head.drain(..UTF8_BOM.len());
        }
        let delimiter = detect_delimiter(&head);
        let chained: Box<dyn Read> = Box::new(io::Cursor::new(head).chain(buffered));
        let newlines = Rc::new(RefCell::new(VecDeque::new()));
        let indexed = NewlineIndex { inner: chained, offset: 0, newlines: Rc::clone(&newlines) };
        let mut reader = ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(true)
            .buffer_capacity(64 * 1024)
            .from_reader(indexed);
        let header: Vec<String> = reader
            .byte_headers()
            .map_err(csv_to_io)?
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_owned())
            .collect();
        if header.iter().all(String::is_empty) {
            return Err(OpenError::Empty);
        }
        Ok(Self { reader, bytes_read, newlines, total_bytes, compressed, delimiter, header })
    }

    /// The header's column names (lossily decoded, trimmed).
    pub(crate) fn header(&self) -> &[String] {
        &self.header
    }

    /// Whether the file is gzip'd.
    pub(crate) fn compressed(&self) -> bool {
        self.compressed
    }

    /// The delimiter found on the header line.
    pub(crate) fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// The file's size on disk (compressed size for gzip).
    pub(crate) fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Bytes read from disk so far.
    pub(crate) fn bytes_read(&self) -> u64 {
        self.bytes_read.get()
    }

    /// Reads the next record into `record` and returns the physical line (1-based, the header
    /// being line 1) where it starts; `Ok(None)` at the end. The error carries the line where
    /// reading stopped.
    ///
    /// The CSV reader's own record positions count the blank lines it skips and, in CRLF files,
    /// the previous line's `\n` as part of the next record, so the line is worked out from where
    /// the record ends instead: the reader's line count there, less the record's final `\n` if it
    /// consumed one, less the line breaks inside quoted fields.
    pub(crate) fn read(&mut self, record: &mut ByteRecord) -> Result<Option<u64>, (u64, io::Error)> {
        match self.reader.read_byte_record(record) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let end = self.reader.position().byte();
                let lines_so_far = self.reader.position().line();
                let mut newlines = self.newlines.borrow_mut();
                while newlines.front().is_some_and(|&at| at + 1 < end) {
                    newlines.pop_front();
                }
                let ends_with_newline = end > 0 && newlines.front() == Some(&(end - 1));
                let inside = record.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
                Ok(Some(lines_so_far.saturating_sub(u64::from(ends_with_newline) + inside).max(1)))
            }
            Err(e) => Err((self.reader.position().line(), csv_to_io(e))),
        }
    }
}

/// The most frequent of `,`, `;` and tab outside quotes on the header line; `,` when none occurs.
pub(crate) fn detect_delimiter(line: &[u8]) -> u8 {
    let candidates = [b',', b';', b'\t'];
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(i) = candidates.iter().position(|&c| c == b) {
            counts[i] += 1;
        }
    }
    let mut best = 0;
    for i in 1..candidates.len() {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    candidates[best]
}

/// With byte records and flexible lengths the only error the CSV reader can give is an I/O one.
fn csv_to_io(e: ::csv::Error) -> io::Error {
    match e.into_kind() {
        ::csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Remembers the offsets of the `\n` bytes not yet consumed by the CSV reader (at most a
/// buffer's worth), so that [`CsvSource::read`] can tell whether a record ended with one.
struct NewlineIndex<R> {
    inner: R,
    offset: u64,
    newlines: Rc<RefCell<VecDeque<u64>>>,
}

impl<R: Read> Read for NewlineIndex<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut newlines = self.newlines.borrow_mut();
        for (i, _) in buf[..n].iter().enumerate().filter(|(_, b)| **b == b'\n') {
            newlines.push_back(self.offset + i as u64);
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// Counts the bytes read from the file, for progress.
struct CountingReader<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

#[cfg(test)]
impl CsvSource {
    /// Opens in-memory bytes, for tests.
    pub(crate) fn from_bytes(bytes: Vec<u8>) -> Result<Self, OpenError> {
        let total = bytes.len() as u64;
        let compressed = bytes.starts_with(&GZIP_MAGIC);
        Self::from_reader(io::Cursor::new(bytes), total, compressed)
    }
}
