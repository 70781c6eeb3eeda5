//! The `#[aps::operations]` attribute, re-exported by `aps` (and `aps-core`): custom
//! operations and link handlers of a resource type, written as methods of its
//! `impl Provisionable`.
//!
//! See `aps::operations` for the guide; this crate only expands the attribute.
#![warn(missing_docs)]

mod expand;
mod parse;

use proc_macro::TokenStream;

/// Declares custom operations and link handlers among the methods of `impl Provisionable for
/// T`, and serves them.
///
/// Put it in place of `#[aps::async_trait]`. Methods marked with one of these become
/// operations or handlers (and methods of `T`, callable as usual); the others stay the
/// `Provisionable` methods they are:
///
/// * `#[operation(VERB, "/path")]` (optionally `name = "…"`, default the method's name): an
///   `async fn(&self, ctx: &Context, …) -> Result<Reply<R>>`. Each further argument is marked
///   `#[query]` (a query parameter named like the argument) or `#[body]` (the JSON body, at
///   most one); an `Option` argument is optional.
/// * `#[link(relation)]`: an `async fn(&self, ctx: &Context, linked: L) -> Result<()>` called
///   when a resource is linked through `relation`, with the linked resource read as `L`.
/// * `#[unlink(relation)]`: an `async fn(&self, ctx: &Context, linked_id: &str) ->
///   Result<()>` called when one is unlinked.
///
/// `#[aps::operations(crate = aps_core)]` names the crate the expansion uses (default `aps`).
#[proc_macro_attribute]
pub fn operations(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = syn::parse_macro_input!(args as parse::Args);
    let item = syn::parse_macro_input!(item as syn::ItemImpl);
    expand::operations(&args, item)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
