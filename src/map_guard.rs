//! Makes reading a memory-mapped file safe when another process truncates
//! it: without this, touching a page past the new end raises SIGBUS and
//! ends the whole process, with no report for any file.
//!
//! A mapping is registered here for as long as it is searched. A SIGBUS
//! whose address lies in a registered mapping is answered by mapping
//! anonymous zero pages over the rest of that mapping (`MAP_FIXED`) and
//! marking it [`Guard::faulted`]; the faulting read is retried by the CPU
//! and sees zeros, which hold no code and no LF, and the caller reports the
//! file as changed during the scan. A SIGBUS anywhere else gets the
//! disposition that was there before (Rust's own handler, or the default),
//! so real faults still end the process.
//!
//! Costs: nothing on the read path; one handler per process, installed on
//! first use; a fixed table of [`SLOTS`] mappings searched at the same time
//! (a caller that finds it full reads the file instead of mapping it).
//! The handler only does async-signal-safe work: atomic loads and stores,
//! `mmap` and `sigaction` (system calls).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};

/// Mappings that can be guarded at the same time (one per scan worker).
pub const SLOTS: usize = 128;

struct Slot {
    claimed: AtomicBool,
    /// Start address of the mapping; 0 while the slot is not published.
    start: AtomicUsize,
    len: AtomicUsize,
    faulted: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    claimed: AtomicBool::new(false),
    start: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    faulted: AtomicBool::new(false),
};

static TABLE: [Slot; SLOTS] = [EMPTY; SLOTS];
static PAGE: AtomicUsize = AtomicUsize::new(4096);
static INSTALL: Once = Once::new();
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// The SIGBUS disposition before ours, restored for faults not ours. Set
/// once, before the handler is installed; the handler only reads it (an
/// atomic load of the cell's state, async-signal-safe).
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

/// A registered mapping; unregisters on drop (drop it before unmapping).
pub struct Guard {
    slot: &'static Slot,
}

impl Guard {
    /// Registers `[start, start + len)` (a page-aligned, read-only private
    /// or shared file mapping). `None` when the table is full or the
    /// handler could not be installed: then do not rely on a mapping.
    pub fn register(start: *const u8, len: usize) -> Option<Guard> {
        install();
        if !INSTALLED.load(Ordering::Acquire) || len == 0 {
            return None;
        }
        let slot = TABLE.iter().find(|s| {
            s.claimed
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        })?;
        slot.faulted.store(false, Ordering::Relaxed);
        slot.len.store(len, Ordering::Relaxed);
        slot.start.store(start as usize, Ordering::Release);
        Some(Guard { slot })
    }

    /// Whether part of the mapping vanished (the file shrank) while it was
    /// read: the bytes from the first lost page on were read as zeros.
    pub fn faulted(&self) -> bool {
        self.slot.faulted.load(Ordering::Acquire)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.slot.start.store(0, Ordering::Release);
        self.slot.len.store(0, Ordering::Relaxed);
        self.slot.claimed.store(false, Ordering::Release);
    }
}

fn install() {
    INSTALL.call_once(|| {
        // SAFETY: sysconf and sigaction with valid arguments; a zeroed
        // `sigaction` is a valid value to be overwritten. The previous
        // disposition is read and kept before ours is installed, so the
        // handler always finds it.
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE);
            if page > 0 {
                PAGE.store(page as usize, Ordering::Relaxed);
            }
            let mut previous: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut previous) != 0 {
                return;
            }
            PREVIOUS.get_or_init(|| previous);
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()) == 0 {
                INSTALLED.store(true, Ordering::Release);
            }
        }
    });
}

extern "C" fn on_sigbus(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    let page = PAGE.load(Ordering::Relaxed);
    for slot in &TABLE {
        let start = slot.start.load(Ordering::Acquire);
        let len = slot.len.load(Ordering::Relaxed);
        if start == 0 || addr < start || addr >= start + len {
            continue;
        }
        let from = addr & !(page - 1);
        // SAFETY: [from, start + len) lies inside a live mapping that its
        // owner only reads; zero pages replace the file pages that are gone.
        let zeros = unsafe {
            libc::mmap(
                from as *mut libc::c_void,
                start + len - from,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if zeros != libc::MAP_FAILED {
            slot.faulted.store(true, Ordering::Release);
            return;
        }
        break;
    }
    // Not ours (or no way to fix it): the previous disposition takes the
    // fault when the instruction repeats.
    // SAFETY: sigaction with a valid disposition: the one read before ours
    // was installed (always set by then), else the default.
    unsafe {
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        let previous = PREVIOUS.get().unwrap_or(&default);
        libc::sigaction(libc::SIGBUS, previous, std::ptr::null_mut());
    }
}
