//! A writer that hands its bytes to a thread of its own: formatting the rows and the
//! system calls that write them (hundreds of megabytes for a million log lines) then
//! run side by side instead of one after the other.

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Bytes gathered before they are handed to the writing thread.
const CHUNK: usize = 1024 * 1024;
/// Chunks on their way at most: memory stays at a few megabytes.
const IN_FLIGHT: usize = 4;

enum Message {
    Bytes(Vec<u8>),
    /// Flush, then say so (or say what went wrong).
    Flush(SyncSender<io::Result<()>>),
}

/// Writes to `inner` on a thread of its own. A write error ends the thread and is
/// returned by the writer's next hand-over or `flush`; dropping the writer without
/// `flush` still writes every byte but can no longer report an error.
pub struct BackgroundWriter {
    buffer: Vec<u8>,
    to_thread: Option<SyncSender<Message>>,
    /// Buffers written by the thread, to be filled again.
    spare: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl BackgroundWriter {
    pub fn new<W: Write + Send + 'static>(mut inner: W) -> BackgroundWriter {
        let (to_thread, from_writer) = sync_channel::<Message>(IN_FLIGHT);
        let (give_back, spare) = sync_channel::<Vec<u8>>(IN_FLIGHT + 1);
        // The first write error ends the thread: the writer's next send fails and
        // returns it, so a full disk stops the output at once.
        let thread = std::thread::spawn(move || -> io::Result<()> {
            for message in from_writer {
                match message {
                    Message::Bytes(mut bytes) => {
                        inner.write_all(&bytes)?;
                        bytes.clear();
                        let _ = give_back.try_send(bytes);
                    }
                    Message::Flush(done) => {
                        let flushed = inner.flush();
                        let failed = flushed
                            .as_ref()
                            .err()
                            .map(|e| io::Error::new(e.kind(), e.to_string()));
                        let _ = done.send(flushed);
                        if let Some(e) = failed {
                            return Err(e);
                        }
                    }
                }
            }
            inner.flush()
        });
        BackgroundWriter {
            buffer: Vec::with_capacity(CHUNK),
            to_thread: Some(to_thread),
            spare,
            thread: Some(thread),
        }
    }

    fn send(&mut self, message: Message) -> io::Result<()> {
        let gone = || io::Error::other("the output's writing thread stopped");
        self.to_thread
            .as_ref()
            .ok_or_else(gone)?
            .send(message)
            .map_err(|_| self.thread_error().unwrap_or_else(gone))
    }

    /// Why the thread stopped, when it did.
    fn thread_error(&mut self) -> Option<io::Error> {
        self.to_thread = None;
        match self.thread.take()?.join() {
            Ok(Err(e)) => Some(e),
            Ok(Ok(())) => None,
            Err(_) => Some(io::Error::other("the output's writing thread panicked")),
        }
    }

    fn hand_over(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        let full = std::mem::replace(&mut self.buffer, next);
        self.send(Message::Bytes(full))
    }
}

impl Write for BackgroundWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.hand_over()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.hand_over()?;
        let (done, wait) = sync_channel(1);
        self.send(Message::Flush(done))?;
        match wait.recv() {
            Ok(flushed) => flushed,
            // The thread ended before the flush: say why.
            Err(_) => Err(self
                .thread_error()
                .unwrap_or_else(|| io::Error::other("the output's writing thread stopped"))),
        }
    }
}

impl Drop for BackgroundWriter {
    fn drop(&mut self) {
        let _ = self.hand_over();
        self.to_thread = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    struct Failing;

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_byte_arrives_in_order() {
        let sink = Shared::default();
        let mut writer = BackgroundWriter::new(sink.clone());
        let mut expected = Vec::new();
        for i in 0..200_000u32 {
            let line = format!("row {i}\n");
            writer.write_all(line.as_bytes()).unwrap();
            expected.extend_from_slice(line.as_bytes());
        }
        writer.flush().unwrap();
        assert_eq!(*sink.0.lock().unwrap(), expected);
        writer.write_all(b"after the flush").unwrap();
        drop(writer);
        assert!(sink.0.lock().unwrap().ends_with(b"after the flush"));
    }

    #[test]
    fn a_write_error_reaches_the_writer() {
        let mut writer = BackgroundWriter::new(Failing);
        let mut result = Ok(());
        for _ in 0..20 {
            result = writer.write_all(&[b'x'; CHUNK]);
            if result.is_err() {
                break;
            }
        }
        let error = result.and_then(|()| writer.flush()).unwrap_err();
        assert!(error.to_string().contains("disk full"), "{error}");
    }
}
