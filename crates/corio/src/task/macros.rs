//! The `gather!` and `try_gather!` macros: asyncio's `gather(a, b, c)` over a
//! fixed set of futures of different types, polled concurrently in place.
//!
//! They are exported at the crate root, as `corio::gather!` and
//! `corio::try_gather!`.

/// Runs up to 16 futures of any types concurrently in the current task and
/// evaluates to the tuple of their outputs, in argument order (asyncio's
/// `await gather(a, b, c)`).
///
/// Like `futures::join!`, the macro awaits: use it inside `async` code. The
/// futures are polled in place (no task is spawned, no allocation), so they
/// need not be `Send` or `'static`. For any number of futures of one type,
/// see [`gather`](crate::gather()).
///
/// ```
/// use std::time::Duration;
///
/// corio::run(async {
///     let (number, word, nothing) = corio::gather!(
///         async {
///             corio::sleep(Duration::from_millis(20)).await;
///             42
///         },
///         async { "hi" },
///         corio::sleep(Duration::from_millis(10)),
///     );
///     assert_eq!((number, word, nothing), (42, "hi", ()));
/// });
/// ```
#[macro_export]
macro_rules! gather {
    ($($future:expr),+ $(,)?) => {
        $crate::__corio_join!(
            @gather [] [$($future,)+]
            [_f0 _f1 _f2 _f3 _f4 _f5 _f6 _f7 _f8 _f9 _f10 _f11 _f12 _f13 _f14 _f15]
        )
    };
}

/// Runs up to 16 futures that return `Result<_, E>` concurrently in the
/// current task: `Ok` with the tuple of their values in argument order, or
/// the first `Err` as soon as it happens, the other futures dropped before
/// the macro's value is returned.
///
/// Every future must have the same error type `E`. Like `gather!`, the macro
/// awaits: use it inside `async` code. For any number of futures of one
/// type, see [`try_gather`](crate::try_gather()).
///
/// ```
/// use std::time::Duration;
///
/// async fn parse(text: &str) -> Result<i32, String> {
///     text.parse().map_err(|_| format!("not a number: {text}"))
/// }
///
/// corio::run(async {
///     let both = corio::try_gather!(parse("1"), async { Ok(String::from("two")) });
///     assert_eq!(both, Ok((1, String::from("two"))));
///
///     // The Err ends it at once: the hour-long future is dropped.
///     let failed: Result<((), i32), String> = corio::try_gather!(
///         async {
///             corio::sleep(Duration::from_secs(3600)).await;
///             Ok(())
///         },
///         parse("x"),
///     );
///     assert_eq!(failed, Err(String::from("not a number: x")));
/// });
/// ```
#[macro_export]
macro_rules! try_gather {
    ($($future:expr),+ $(,)?) => {
        $crate::__corio_join!(
            @try_gather [] [$($future,)+]
            [_f0 _f1 _f2 _f3 _f4 _f5 _f6 _f7 _f8 _f9 _f10 _f11 _f12 _f13 _f14 _f15]
        )
    };
}

/// The body of `gather!` and `try_gather!`: pairs each future with a name,
/// then polls them all from one `poll_fn`. Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __corio_join {
    // Give the next future the next name.
    (@$mode:ident [$($named:tt)*] [$future:expr, $($rest:expr,)*] [$name:ident $($names:ident)*]) => {
        $crate::__corio_join!(@$mode [$($named)* ($name $future)] [$($rest,)*] [$($names)*])
    };
    (@$mode:ident [$($named:tt)*] [$future:expr, $($rest:expr,)*] []) => {
        ::core::compile_error!("corio::gather! and corio::try_gather! take at most 16 futures")
    };
    (@gather [$(($name:ident $future:expr))*] [] [$($unused:ident)*]) => {{
        // Each future, pinned on the stack, beside the slot for its output.
        $( let mut $name = (::core::pin::pin!($future), ::core::option::Option::None); )*
        ::core::future::poll_fn(|cx| {
            let mut pending = false;
            $(
                if $name.1.is_none() {
                    match ::core::future::Future::poll($name.0.as_mut(), cx) {
                        ::core::task::Poll::Ready(output) => {
                            $name.1 = ::core::option::Option::Some(output);
                        }
                        ::core::task::Poll::Pending => pending = true,
                    }
                }
            )*
            if pending {
                return ::core::task::Poll::Pending;
            }
            ::core::task::Poll::Ready(($(
                match $name.1.take() {
                    ::core::option::Option::Some(output) => output,
                    ::core::option::Option::None => ::core::unreachable!(),
                },
            )*))
        })
        .await
    }};
    (@try_gather [$(($name:ident $future:expr))*] [] [$($unused:ident)*]) => {{
        $( let mut $name = (::core::pin::pin!($future), ::core::option::Option::None); )*
        ::core::future::poll_fn(|cx| {
            let mut pending = false;
            $(
                if $name.1.is_none() {
                    match ::core::future::Future::poll($name.0.as_mut(), cx) {
                        ::core::task::Poll::Ready(::core::result::Result::Ok(value)) => {
                            $name.1 = ::core::option::Option::Some(value);
                        }
                        // The futures are dropped with this block, right after.
                        ::core::task::Poll::Ready(::core::result::Result::Err(error)) => {
                            return ::core::task::Poll::Ready(::core::result::Result::Err(error));
                        }
                        ::core::task::Poll::Pending => pending = true,
                    }
                }
            )*
            if pending {
                return ::core::task::Poll::Pending;
            }
            ::core::task::Poll::Ready(::core::result::Result::Ok(($(
                match $name.1.take() {
                    ::core::option::Option::Some(value) => value,
                    ::core::option::Option::None => ::core::unreachable!(),
                },
            )*)))
        })
        .await
    }};
}
