//! [`CancellationToken`]: a cancel signal that tasks share, with child
//! tokens cancelled along with their parent, [`WaitForCancellation`] (the
//! future of `cancelled()`) and [`DropGuard`]. The shape of tokio-util's
//! `CancellationToken`; asyncio's nearest is cancelling a `TaskGroup` scope.
//!
//! # How it works
//!
//! Each token (and each clone of it) points at one node: a flag, a FIFO
//! [`WaitList`] of the tasks awaiting `cancelled()`, and weak links to its
//! children. Everything but the flag's fast read is under the node's mutex.
//!
//! - A child is linked into its parent under the parent's mutex, and born
//!   cancelled if the parent already is; so a child is either reachable
//!   from its parent when the parent is cancelled, or cancelled from birth.
//! - `cancel()` walks the subtree with an explicit stack (no recursion, so
//!   deep trees do not overflow): under each node's mutex it raises the
//!   flag, takes the waiters' wakers and the child links. It wakes nobody
//!   until the whole subtree is marked, so user code run by a waker (which
//!   may re-enter anything) never sees a cancelled parent with a child not
//!   yet cancelled. Cancelling is idempotent; a node already cancelled is
//!   skipped, and so is its subtree (it was cancelled with it).
//! - A parent links its children weakly, so dropping a child's last token
//!   (and last `cancelled()` future) frees it; dead links are swept when
//!   the list would grow, keeping it at most twice the live children. A
//!   child holds its parent strongly, so a node stays reachable from the
//!   root while any descendant lives, even when every token of the nodes in
//!   between is gone (`root.child_token().child_token()` is still
//!   cancelled by `root`). Links go strong upward and weak downward, so
//!   there is no cycle; `Node`'s `Drop` releases a chain of parents
//!   iteratively, so dropping the leaf of a deep chain does not overflow
//!   the stack.
//! - The flag is also kept in an atomic, written under the mutex, so
//!   `is_cancelled()` is one load.

use std::fmt;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};

use crate::loom::{AtomicUsize, Mutex, Ordering};
use crate::waiters::{self, WaitList, WaiterKey};

struct Node {
    /// 1 once cancelled (written under `state`'s mutex, read without it).
    cancelled: AtomicUsize,
    state: Mutex<State>,
    /// Kept alive while this node lives (so its own parent still reaches
    /// this node's children); never read, taken only by `Drop`.
    parent: Option<Arc<Node>>,
}

struct State {
    cancelled: bool,
    /// Tasks awaiting `cancelled()`; waiters only queue while not cancelled.
    waiters: WaitList<()>,
    /// Child nodes, linked weakly; emptied for good by the cancel.
    children: Vec<Weak<Node>>,
}

impl Node {
    fn new(cancelled: bool, parent: Option<Arc<Node>>) -> Arc<Node> {
        Arc::new(Node {
            cancelled: AtomicUsize::new(usize::from(cancelled)),
            state: Mutex::new(State {
                cancelled,
                waiters: WaitList::new(),
                children: Vec::new(),
            }),
            parent,
        })
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // Release the chain of parents one by one instead of recursively:
        // each parent this was the last owner of is unwrapped here and
        // dropped with its own parent link already taken.
        let mut next = self.parent.take();
        while let Some(parent) = next {
            next = match Arc::try_unwrap(parent) {
                Ok(mut parent) => parent.parent.take(),
                Err(_shared) => None,
            };
        }
    }
}

/// A cancel signal shared by clones, with child tokens that are cancelled
/// along with their parent (but not the other way round).
///
/// Cancelling is cooperative: a task checks [`is_cancelled`](Self::is_cancelled),
/// awaits [`cancelled`](Self::cancelled) (typically as a branch of a
/// `select!`) or runs its work under
/// [`run_until_cancelled`](Self::run_until_cancelled), which drops the work
/// when the token is cancelled (Rust's cancellation: the future is dropped).
///
/// # Examples
///
/// A server that stops its workers and their sub-tasks with one call:
///
/// ```
/// use corio_sync::CancellationToken;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let shutdown = CancellationToken::new();
/// let mut workers = Vec::new();
/// for _ in 0..3 {
///     let token = shutdown.child_token();
///     workers.push(tokio::spawn(async move {
///         token
///             .run_until_cancelled(std::future::pending::<()>())
///             .await
///     }));
/// }
/// shutdown.cancel();
/// for worker in workers {
///     assert_eq!(worker.await.unwrap(), None); // each one stopped
/// }
/// # });
/// ```
#[doc(alias = "CancelScope")]
#[derive(Clone)]
pub struct CancellationToken {
    node: Arc<Node>,
}

impl CancellationToken {
    /// A token that is not cancelled, with no parent.
    pub fn new() -> CancellationToken {
        CancellationToken {
            node: Node::new(false, None),
        }
    }

    /// A new token that is cancelled when this one is (and that can be
    /// cancelled on its own without touching this one). Born cancelled if
    /// this one already is.
    ///
    /// ```
    /// let parent = corio_sync::CancellationToken::new();
    /// let child = parent.child_token();
    /// child.cancel();
    /// assert!(!parent.is_cancelled());
    /// let child = parent.child_token();
    /// parent.cancel();
    /// assert!(child.is_cancelled());
    /// assert!(parent.child_token().is_cancelled());
    /// ```
    pub fn child_token(&self) -> CancellationToken {
        let mut state = self.node.state.lock();
        if state.cancelled {
            return CancellationToken {
                node: Node::new(true, None),
            };
        }
        let child = Node::new(false, Some(self.node.clone()));
        let children = &mut state.children;
        if children.len() == children.capacity() {
            children.retain(|child| child.strong_count() > 0);
            // Grow by at least the live count, so sweeps stay amortized O(1).
            children.reserve(children.len().max(4));
        }
        children.push(Arc::downgrade(&child));
        CancellationToken { node: child }
    }

    /// Cancels this token, its clones and every child token, and wakes every
    /// task awaiting [`cancelled`](Self::cancelled) on any of them. Doing it
    /// again does nothing.
    ///
    /// ```
    /// let token = corio_sync::CancellationToken::new();
    /// let clone = token.clone();
    /// token.cancel();
    /// assert!(clone.is_cancelled());
    /// ```
    pub fn cancel(&self) {
        let mut wakers: Vec<Waker> = Vec::new();
        let mut stack = vec![self.node.clone()];
        while let Some(node) = stack.pop() {
            let children = {
                let mut state = node.state.lock();
                if state.cancelled {
                    continue;
                }
                state.cancelled = true;
                node.cancelled.store(1, Ordering::Release);
                state.waiters.notify_all(&mut wakers);
                std::mem::take(&mut state.children)
            };
            stack.extend(children.iter().filter_map(Weak::upgrade));
        }
        // The whole subtree is marked: now let user code (wakers) run.
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Whether this token was cancelled (directly or through a parent).
    pub fn is_cancelled(&self) -> bool {
        self.node.cancelled.load(Ordering::Acquire) != 0
    }

    /// Waits until the token is cancelled; ready at once if it is.
    ///
    /// The future owns a reference to the token, so it is `'static` and can
    /// move into a spawned task on its own.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: it only waits; dropped, it leaves no trace.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let token = corio_sync::CancellationToken::new();
    /// let waiter = tokio::spawn(token.cancelled());
    /// token.cancel();
    /// waiter.await.unwrap();
    /// # });
    /// ```
    pub fn cancelled(&self) -> WaitForCancellation {
        WaitForCancellation {
            node: self.node.clone(),
            stage: Stage::Start,
        }
    }

    /// Runs `fut` until it completes (`Some(output)`) or the token is
    /// cancelled (`None`; `fut` is dropped then, when this future completes).
    /// If both are ready at once, the cancellation wins.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let token = corio_sync::CancellationToken::new();
    /// assert_eq!(token.run_until_cancelled(async { 7 }).await, Some(7));
    /// token.cancel();
    /// assert_eq!(token.run_until_cancelled(async { 7 }).await, None);
    /// # });
    /// ```
    pub async fn run_until_cancelled<F: Future>(&self, fut: F) -> Option<F::Output> {
        let mut fut = pin!(fut);
        let mut cancelled = self.cancelled();
        std::future::poll_fn(|cx| {
            if Pin::new(&mut cancelled).poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            fut.as_mut().poll(cx).map(Some)
        })
        .await
    }

    /// A guard that cancels this token when dropped (unless
    /// [disarmed](DropGuard::disarm)): ties the token to a scope.
    ///
    /// ```
    /// let token = corio_sync::CancellationToken::new();
    /// {
    ///     let _guard = token.clone().drop_guard();
    /// } // cancelled here
    /// assert!(token.is_cancelled());
    /// ```
    pub fn drop_guard(self) -> DropGuard {
        DropGuard { token: Some(self) }
    }
}

impl Default for CancellationToken {
    fn default() -> Self {
        CancellationToken::new()
    }
}

impl fmt::Debug for CancellationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancellationToken")
            .field("is_cancelled", &self.is_cancelled())
            .finish()
    }
}

enum Stage {
    Start,
    Waiting(WaiterKey),
    Done,
}

/// The future of [`CancellationToken::cancelled`]: ready once the token is
/// cancelled. Dropping it leaves no trace.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use corio_sync::{CancellationToken, WaitForCancellation};
/// let parent = CancellationToken::new();
/// // 'static: it outlives the child token it came from.
/// let wait: WaitForCancellation = parent.child_token().cancelled();
/// let task = tokio::spawn(wait);
/// parent.cancel();
/// task.await.unwrap();
/// # });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct WaitForCancellation {
    node: Arc<Node>,
    stage: Stage,
}

impl Future for WaitForCancellation {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if let Stage::Done = this.stage {
            // Cancellation is final: polling again is harmless.
            return Poll::Ready(());
        }
        let mut state = this.node.state.lock();
        let ready = match this.stage {
            Stage::Start if state.cancelled => true,
            Stage::Start => {
                this.stage = Stage::Waiting(state.waiters.push_back((), cx.waker()));
                false
            }
            Stage::Waiting(key) => match state.waiters.poll(key, cx.waker()) {
                waiters::Poll::Waiting => false,
                waiters::Poll::Notified(()) => true,
            },
            Stage::Done => unreachable!(),
        };
        drop(state);
        if ready {
            this.stage = Stage::Done;
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for WaitForCancellation {
    fn drop(&mut self) {
        if let Stage::Waiting(key) = self.stage {
            // Every waiter is woken at once: nothing to pass on.
            self.node.state.lock().waiters.remove(key);
        }
    }
}

impl fmt::Debug for WaitForCancellation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitForCancellation")
            .field(
                "is_cancelled",
                &(self.node.cancelled.load(Ordering::Acquire) != 0),
            )
            .finish()
    }
}

/// Cancels its [`CancellationToken`] when dropped, from
/// [`CancellationToken::drop_guard`].
///
/// ```
/// let token = corio_sync::CancellationToken::new();
/// let scope = token.clone().drop_guard();
/// assert!(!token.is_cancelled());
/// drop(scope); // leaving the scope cancels it
/// assert!(token.is_cancelled());
/// ```
#[must_use = "the token is cancelled at once if the guard is not held"]
pub struct DropGuard {
    /// `None` once disarmed.
    token: Option<CancellationToken>,
}

impl DropGuard {
    /// Gives the token back without cancelling it.
    ///
    /// ```
    /// let token = corio_sync::CancellationToken::new();
    /// let token = token.drop_guard().disarm();
    /// assert!(!token.is_cancelled());
    /// ```
    pub fn disarm(mut self) -> CancellationToken {
        self.token
            .take()
            .expect("a DropGuard holds its token until dropped")
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(token) = &self.token {
            token.cancel();
        }
    }
}

impl fmt::Debug for DropGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DropGuard")
            .field("token", &self.token)
            .finish()
    }
}
