//! Pages whose code is downloaded the first time one of them is shown.
//!
//! `lazy_pages!` puts a group of page components behind one split point:
//! in a release build (`scripts/split-wasm`, run by Trunk after each build)
//! everything only these pages use leaves the main wasm for a module of its
//! own (plus chunks shared with other groups), fetched on the first visit.
//! One split point per *group* rather than per page: each split point adds
//! chunks of code shared between groups (20 split points: up to 86 requests
//! on a first visit; these 7: up to 46). `scripts/split-wasm` then packs each
//! group's modules into one file, and fails the build if a first visit to
//! some page would take more than 8 wasm requests.
//!
//! ```ignore
//! lazy_pages! {
//!     /// What the group is.
//!     pub mod stacks_pages {
//!         Stacks => crate::routes::stacks::Stacks,
//!         StackPage => crate::routes::stacks::StackPage,
//!     }
//! }
//! // in <Routes>, instead of `view=Stacks`:
//! <Route path=path!("/stacks") view=stacks_pages::Stacks/>
//! ```
//!
//! Each entry is `RouteName => path::to::Component` (a component without
//! props). The macro makes a module with one `#[wasm_split(<group>,
//! fallible)]` function that builds any page of the group, and per entry a
//! constant `RouteName`: the [`LazyPage`] to give a route as its view.
//! A component must be named *only* from inside `lazy_pages!` (not
//! from a route or another eager page), or its code stays in the main wasm.
//! The group's name names its wasm files, so it must be unique. A group shown
//! only inside another group's page (the terminal, a tab of a container's
//! page) is listed in `NESTED` in `scripts/split-wasm`.
//!
//! If the module cannot be fetched (network, or a relay updated since the
//! tab opened), the route shows [`failed`] with a reload button instead of
//! panicking (`fallible`; without it wasm_split panics, which kills the app).

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use leptos::wasm_split::SplitLoaderError;

type Local<T> = Pin<Box<dyn Future<Output = T>>>;

/// One page of a group, as a route's view (leptos_router's `ChooseView`):
/// built by its group's code, which is fetched the first time. One type
/// for every page of every group, rather than leptos_router's `Lazy<T>`
/// per page: each type a route's view has costs the main wasm its own copy
/// of the router's code for choosing and preloading it.
#[derive(Clone, Copy)]
pub struct LazyPage {
    /// Which of its group's pages.
    pub page: u8,
    /// The group's split point.
    pub build: fn(u8) -> Local<Result<AnyView, SplitLoaderError>>,
    pub preload: fn() -> Local<Result<(), SplitLoaderError>>,
}

impl leptos_router::ChooseView for LazyPage {
    async fn choose(self) -> AnyView {
        (self.build)(self.page).await.unwrap_or_else(|_| failed())
    }

    // The router preloads every matched route at once: a container's
    // terminal fetches both groups together. A failure here is retried
    // (and shown) by `choose`.
    async fn preload(&self) {
        let _ = (self.preload)().await;
    }
}

/// Shown in place of a page whose code did not download.
pub fn failed() -> AnyView {
    view! {
        <section class="problem" data-problem="chunk">
            <h2>"This page could not be loaded"</h2>
            <p>
                "Part of the console failed to download: the connection may have dropped, \
                 or the console was updated since this tab opened. Reloading fetches it again."
            </p>
            <button on:click=|_| { let _ = window().location().reload(); }>"Reload the console"</button>
        </section>
    }
    .into_any()
}

/// See the module's documentation.
macro_rules! lazy_pages {
    (
        $(#[$doc:meta])*
        $vis:vis mod $group:ident {
            $($route:ident => $component:path),+ $(,)?
        }
    ) => {
        $(#[$doc])*
        #[allow(non_snake_case)]
        $vis mod $group {
            use ::leptos::prelude::{AnyView, IntoAny};
            use ::leptos::wasm_split::SplitLoaderError;

            /// Which of the group's pages to build.
            #[derive(Clone, Copy)]
            #[allow(clippy::enum_variant_names)]
            enum Which {
                $($route),+
            }

            /// The split point: builds one page of the group (a `Which`),
            /// once the group's wasm is loaded. `preload_group` only loads
            /// it.
            #[::leptos::wasm_split::wasm_split(
                $group,
                wasm_split_path = ::leptos::wasm_split,
                preload(preload_group),
                fallible
            )]
            fn build(page: u8) -> Result<AnyView, SplitLoaderError> {
                $(if page == Which::$route as u8 {
                    return Ok($component().into_any());
                })+
                Ok($crate::lazy::failed())
            }

            $(
                #[allow(non_upper_case_globals)]
                pub const $route: $crate::lazy::LazyPage = $crate::lazy::LazyPage {
                    page: Which::$route as u8,
                    build: |page| Box::pin(build(page)),
                    preload: || Box::pin(preload_group()),
                };
            )+
        }
    };
}

pub(crate) use lazy_pages;
