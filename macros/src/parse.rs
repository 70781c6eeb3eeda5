//! Reading the attribute's arguments and the marks on methods and their arguments.

use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitStr, Path, Token};

/// The attribute's own arguments: `crate = path`.
pub(crate) struct Args {
    /// The crate the expansion names (`::aps` unless said otherwise).
    pub(crate) krate: Path,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Ok(Self {
                krate: syn::parse_quote!(::aps),
            });
        }
        input.parse::<Token![crate]>()?;
        input.parse::<Token![=]>()?;
        let krate = input.parse()?;
        Ok(Self { krate })
    }
}

/// What marks a method.
pub(crate) enum Mark {
    /// `#[operation(VERB, "/path", name = "…")]`.
    Operation {
        verb: Ident,
        path: LitStr,
        name: Option<LitStr>,
    },
    /// `#[link(relation)]`.
    Link(LitStr),
    /// `#[unlink(relation)]`.
    Unlink(LitStr),
}

/// The verbs an APS operation may have.
const VERBS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];

impl Mark {
    /// The mark among `attrs`, removing it; `None` for a method without one.
    pub(crate) fn take(attrs: &mut Vec<Attribute>) -> syn::Result<Option<Self>> {
        let mut found = None;
        let mut error = None;
        attrs.retain(|attr| {
            let Some(ident) = attr.path().get_ident() else {
                return true;
            };
            let mark = match ident.to_string().as_str() {
                "operation" => attr.parse_args_with(operation),
                "link" => attr.parse_args_with(relation).map(Mark::Link),
                "unlink" => attr.parse_args_with(relation).map(Mark::Unlink),
                _ => return true,
            };
            match (mark, found.is_some()) {
                (Ok(_), true) => {
                    error = Some(syn::Error::new(
                        attr.span(),
                        "a method is one operation or handler",
                    ));
                }
                (Ok(mark), false) => found = Some(mark),
                (Err(e), _) => error = Some(e),
            }
            false
        });
        error.map_or(Ok(found), Err)
    }
}

fn operation(input: ParseStream<'_>) -> syn::Result<Mark> {
    let verb: Ident = input.parse()?;
    if !VERBS.contains(&verb.to_string().as_str()) {
        return Err(syn::Error::new(
            verb.span(),
            "the verb is one of GET, POST, PUT, DELETE",
        ));
    }
    input.parse::<Token![,]>()?;
    let path: LitStr = input.parse()?;
    let text = path.value();
    let segments_ok = text
        .strip_prefix('/')
        .is_some_and(|rest| rest.split('/').all(|s| !s.is_empty() && is_plain(s)));
    if !segments_ok {
        return Err(syn::Error::new(
            path.span(),
            "the path starts with `/` and has segments of letters, digits, `-`, `_` or `.`, \
             e.g. \"/restart\"",
        ));
    }
    let mut name = None;
    if input.parse::<Option<Token![,]>>()?.is_some() && !input.is_empty() {
        let key: Ident = input.parse()?;
        if key != "name" {
            return Err(syn::Error::new(key.span(), "expected `name = \"…\"`"));
        }
        input.parse::<Token![=]>()?;
        name = Some(input.parse()?);
    }
    Ok(Mark::Operation { verb, path, name })
}

/// `relation` or `"relation"`.
fn relation(input: ParseStream<'_>) -> syn::Result<LitStr> {
    if input.peek(LitStr) {
        return input.parse();
    }
    let ident: Ident = input.parse()?;
    Ok(LitStr::new(&ident.to_string(), ident.span()))
}

fn is_plain(segment: &str) -> bool {
    segment
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// How an operation's argument travels.
pub(crate) enum Travels {
    /// `#[query]`.
    Query,
    /// `#[body]`.
    Body,
}

/// The `#[query]` or `#[body]` mark of an argument, removed from `attrs`.
pub(crate) fn travels(attrs: &mut Vec<Attribute>, span: proc_macro2::Span) -> syn::Result<Travels> {
    let mut found = None;
    attrs.retain(|attr| {
        if attr.path().is_ident("query") {
            found = Some(Travels::Query);
            false
        } else if attr.path().is_ident("body") {
            found = Some(Travels::Body);
            false
        } else {
            true
        }
    });
    found.ok_or_else(|| {
        syn::Error::new(
            span,
            "mark each argument after the context #[query] or #[body]",
        )
    })
}
