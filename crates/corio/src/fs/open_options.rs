//! [`OpenOptions`]: how to open a [`File`](super::File) (`std::fs::OpenOptions`,
//! opened on the blocking pool).

use std::io;
use std::path::Path;
use std::sync::Arc;

use super::hop::with_path;
use super::File;

/// Options for opening a [`File`]: which access, whether to create, truncate
/// or append (`std::fs::OpenOptions`; tokio's `fs::OpenOptions`).
///
/// ```
/// use corio::io::AsyncWriteExt;
///
/// corio::run(async {
///     let path = std::env::temp_dir().join(format!("corio-options-doc-{}", std::process::id()));
///     let options = corio::fs::OpenOptions::new().append(true).create(true).clone();
///     for word in ["a", "b"] {
///         let mut file = options.open(&path).await?;
///         file.write_all(word.as_bytes()).await?;
///         file.flush().await?;
///     }
///     assert_eq!(corio::fs::read_to_string(&path).await?, "ab");
///     corio::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// All options off: set at least one access mode before opening.
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Read access.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Write access.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Every write goes to the end of the file (implies write access).
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Truncates the file to 0 bytes when opened (needs write access).
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Creates the file if it does not exist (needs write or append access).
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Creates the file, failing with `AlreadyExists` if it exists (atomically).
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// The permission bits a created file gets, before the umask (`0o666` by default).
    #[cfg(unix)]
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::mode(&mut self.0, mode);
        self
    }

    /// Extra `open(2)` flags (`O_NOFOLLOW`, `O_DIRECT`, ...).
    #[cfg(unix)]
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut self.0, flags);
        self
    }

    /// Opens `path` with these options, on the blocking pool. An error names
    /// the path: `corio::fs::open(/x): Permission denied (os error 13)`.
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path: Arc<Path> = Arc::from(path.as_ref());
        let options = self.0.clone();
        let std = with_path("open", &path, move |p| options.open(p)).await?;
        Ok(File::new(std, Some(path)))
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(options: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions(options)
    }
}
