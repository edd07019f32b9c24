//! The `select!` macro: wait for the first of several futures, drop the rest.
//!
//! Exported at the crate root as `corio::select!`; why corio has its own is
//! in the [`io`](crate::io) module docs.

/// Waits for the first of several futures to finish, drops all the others,
/// then runs that branch's handler (tokio's `select!`, asyncio's
/// `wait(..., return_when=FIRST_COMPLETED)` with the losers cancelled).
///
/// ```text
/// corio::select! {
///     pattern = future => handler,
///     pattern = future, if condition => handler,
///     else => handler,               // optional, last
/// }
/// ```
///
/// 1. Each branch's `if` condition is evaluated in the order written; a
///    branch whose condition is false is *disabled* and its future
///    expression is not evaluated at all. Then every enabled branch's future
///    expression is evaluated, in order (anything `IntoFuture`), and pinned
///    in place: no task is spawned and nothing is allocated, so the futures
///    need not be `Send`, `'static` or `Unpin`.
/// 2. The macro awaits: at each wake-up it polls the enabled branches in the
///    order written. The first to finish wins, so when several are ready at
///    once the earliest branch is chosen (deterministic, like corio's
///    scheduling; tokio's `biased;` is accepted and changes nothing). If the
///    winner's output does not match its pattern, that branch is disabled
///    instead and the wait goes on.
/// 3. Every future is dropped, the winner's and the losers', *before* the
///    handler runs: a loser's `Drop` cleanup (closing a socket, leaving a
///    queue) has already happened in the handler. The handler's value is
///    the macro's value; every handler must have the same type.
/// 4. When every branch is disabled (by its condition or a refused pattern),
///    the `else` handler runs; without an `else` branch that is a panic.
///
/// Cancelling a `select!` (dropping the task or the future that contains it)
/// drops all its futures, as for any future.
///
/// ```
/// use std::time::Duration;
///
/// corio::run(async {
///     let queue = std::sync::Arc::new(corio::sync::Queue::<&str>::new(0));
///     let producer = queue.clone();
///     corio::create_task(async move {
///         corio::sleep(Duration::from_millis(10)).await;
///         producer.put("job").await.unwrap();
///     });
///
///     let got = corio::select! {
///         job = queue.get() => job.ok(),
///         () = corio::sleep(Duration::from_secs(5)) => None,
///     };
///     assert_eq!(got, Some("job")); // the sleep was dropped, not awaited
///
///     // Disabled branches and `else`.
///     let closed = true;
///     let which = corio::select! {
///         job = queue.get(), if !closed => job.unwrap(),
///         else => "nothing to wait for",
///     };
///     assert_eq!(which, "nothing to wait for");
///
///     // A refused pattern disables its branch: the next one wins.
///     let first = corio::select! {
///         Some(n) = async { None::<u32> } => n,
///         n = async { corio::yield_now().await; 7 } => n,
///     };
///     assert_eq!(first, 7);
/// });
/// ```
///
/// At most 32 branches (plus `else`).
#[macro_export]
macro_rules! select {
    (biased; $($branches:tt)+) => {
        $crate::select!($($branches)+)
    };
    ($($branches:tt)+) => {
        $crate::__corio_select!(
            @parse [] [$($branches)+]
            [_0 _1 _2 _3 _4 _5 _6 _7 _8 _9 _10 _11 _12 _13 _14 _15
             _16 _17 _18 _19 _20 _21 _22 _23 _24 _25 _26 _27 _28 _29 _30 _31]
        )
    };
}

/// The body of `select!`: parses each branch into
/// `(name (pattern) (condition) (future) (handler))`, then polls them all
/// from one `poll_fn`. Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __corio_select {
    // `else`, the last branch.
    (@parse [$($done:tt)*] [else => $else:expr $(,)?] $names:tt) => {
        $crate::__corio_select!(@emit [$($done)*] ($else))
    };
    (@parse [$($done:tt)*] [] $names:tt) => {
        $crate::__corio_select!(@emit [$($done)*] (::core::panic!(
            "corio::select!: every branch is disabled and there is no `else` branch"
        )))
    };
    (@parse $done:tt $input:tt []) => {
        ::core::compile_error!("corio::select! takes at most 32 branches")
    };
    // A branch with a condition; its handler a block (comma optional) or an expression.
    (@parse [$($done:tt)*]
        [$pattern:pat = $future:expr, if $condition:expr => $handler:block, $($rest:tt)*]
        [$name:ident $($names:ident)*]) => {
        $crate::__corio_select!(@parse
            [$($done)* ($name ($pattern) ($condition) ($future) ($handler))] [$($rest)*] [$($names)*])
    };
    (@parse [$($done:tt)*]
        [$pattern:pat = $future:expr, if $condition:expr => $handler:block $($rest:tt)*]
        [$name:ident $($names:ident)*]) => {
        $crate::__corio_select!(@parse
            [$($done)* ($name ($pattern) ($condition) ($future) ($handler))] [$($rest)*] [$($names)*])
    };
    (@parse [$($done:tt)*]
        [$pattern:pat = $future:expr, if $condition:expr => $handler:expr $(, $($rest:tt)*)?]
        [$name:ident $($names:ident)*]) => {
        $crate::__corio_select!(@parse
            [$($done)* ($name ($pattern) ($condition) ($future) ($handler))] [$($($rest)*)?] [$($names)*])
    };
    // A branch without a condition.
    (@parse [$($done:tt)*]
        [$pattern:pat = $future:expr => $handler:block, $($rest:tt)*]
        [$name:ident $($names:ident)*]) => {
        $crate::__corio_select!(@parse
            [$($done)* ($name ($pattern) (true) ($future) ($handler))] [$($rest)*] [$($names)*])
    };
    (@parse [$($done:tt)*]
        [$pattern:pat = $future:expr => $handler:block $($rest:tt)*]
        [$name:ident $($names:ident)*]) => {
        $crate::__corio_select!(@parse
            [$($done)* ($name ($pattern) (true) ($future) ($handler))] [$($rest)*] [$($names)*])
    };
    (@parse [$($done:tt)*]
        [$pattern:pat = $future:expr => $handler:expr $(, $($rest:tt)*)?]
        [$name:ident $($names:ident)*]) => {
        $crate::__corio_select!(@parse
            [$($done)* ($name ($pattern) (true) ($future) ($handler))] [$($($rest)*)?] [$($names)*])
    };
    (@emit [$(($name:ident ($pattern:pat) ($condition:expr) ($future:expr) ($handler:expr)))*]
        ($else:expr)) => {{
        // Which branch won, with its output; `Disabled` when none can.
        #[allow(non_camel_case_types, clippy::large_enum_variant)]
        enum __CorioSelectOutput<$($name,)*> {
            $($name($name),)*
            Disabled,
        }
        // The futures live in this block, so they are all dropped before a handler runs.
        let output = {
            $(
                let mut $name = ::core::pin::pin!(if $condition {
                    ::core::option::Option::Some(::core::future::IntoFuture::into_future($future))
                } else {
                    ::core::option::Option::None
                });
            )*
            ::core::future::poll_fn(|cx| {
                let mut enabled = false;
                $(
                    if let ::core::option::Option::Some(future) = $name.as_mut().as_pin_mut() {
                        match ::core::future::Future::poll(future, cx) {
                            ::core::task::Poll::Ready(output) => {
                                $name.set(::core::option::Option::None);
                                #[allow(unused_variables, unused_mut, unreachable_patterns)]
                                match &output {
                                    $pattern => {
                                        return ::core::task::Poll::Ready(
                                            __CorioSelectOutput::$name(output),
                                        );
                                    }
                                    // A refused pattern: this branch is now disabled.
                                    _ => {}
                                }
                            }
                            ::core::task::Poll::Pending => enabled = true,
                        }
                    }
                )*
                if enabled {
                    ::core::task::Poll::Pending
                } else {
                    ::core::task::Poll::Ready(__CorioSelectOutput::Disabled)
                }
            })
            .await
        };
        #[allow(unreachable_patterns, unreachable_code)]
        match output {
            $(__CorioSelectOutput::$name($pattern) => $handler,)*
            __CorioSelectOutput::Disabled => $else,
            // Unreachable: an output is returned only after its pattern matched.
            _ => ::core::unreachable!("corio::select!: a pattern matched, then did not"),
        }
    }};
}
