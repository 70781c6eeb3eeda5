//! The expansion: the marked methods move into an inherent impl of the type, and the
//! `Provisionable` impl gains `__custom`, which lists them with a function that calls each one.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    FnArg, GenericArgument, ImplItem, ImplItemFn, ItemImpl, Pat, PathArguments, ReturnType, Type,
};

use crate::parse::{Args, Mark, Travels, travels};

/// Expands `#[aps::operations]` on `item`.
pub(crate) fn operations(args: &Args, mut item: ItemImpl) -> syn::Result<TokenStream> {
    let krate = &args.krate;
    if item.trait_.is_none() {
        return Err(syn::Error::new(
            item.impl_token.span,
            "put #[aps::operations] on `impl Provisionable for YourType`",
        ));
    }
    if !item.generics.params.is_empty() {
        return Err(syn::Error::new(
            item.generics.span(),
            "#[aps::operations] does not take a generic impl",
        ));
    }
    let self_ty = item.self_ty.clone();
    let mut moved = Vec::new();
    let mut entries = Vec::new();
    let mut kept = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for member in std::mem::take(&mut item.items) {
        let ImplItem::Fn(mut method) = member else {
            kept.push(member);
            continue;
        };
        let Some(mark) = Mark::take(&mut method.attrs)? else {
            kept.push(ImplItem::Fn(method));
            continue;
        };
        let (what, name) = match &mark {
            Mark::Operation { name, .. } => (
                "an operation",
                name.as_ref()
                    .map_or_else(|| method.sig.ident.to_string(), syn::LitStr::value),
            ),
            Mark::Link(relation) => ("a link handler of", relation.value()),
            Mark::Unlink(relation) => ("an unlink handler of", relation.value()),
        };
        if !seen.insert((what, name.clone())) {
            return Err(syn::Error::new(
                method.sig.ident.span(),
                format!("there is already {what} `{name}`"),
            ));
        }
        let entry = entry(krate, &self_ty, &mut method, &mark)?;
        entries.push(entry);
        moved.push(method);
    }
    item.items = kept;
    let custom: ImplItem = syn::parse_quote! {
        fn __custom() -> #krate::__private::Custom<Self> {
            #krate::__private::Custom::default() #(#entries)*
        }
    };
    item.items.push(custom);
    Ok(quote! {
        #[#krate::async_trait]
        #item

        impl #self_ty {
            #(#moved)*
        }
    })
}

/// The `Custom` builder call for one marked method.
fn entry(
    krate: &syn::Path,
    self_ty: &Type,
    method: &mut ImplItemFn,
    mark: &Mark,
) -> syn::Result<TokenStream> {
    let sig = &method.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span,
            "an operation or handler is an async fn",
        ));
    }
    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
        _ => {
            return Err(syn::Error::new(
                sig.inputs.span(),
                "an operation or handler takes `&self` (change resources through the controller client)",
            ));
        }
    }
    if !matches!(inputs.next(), Some(FnArg::Typed(_))) {
        return Err(syn::Error::new(
            sig.inputs.span(),
            "an operation or handler takes the context second: `ctx: &Context`",
        ));
    }
    let rust_name = sig.ident.clone();
    let output = sig.output.clone();
    let p = quote!(#krate::__private);
    match mark {
        Mark::Operation { verb, path, name } => {
            let name = name
                .as_ref()
                .map_or_else(|| rust_name.to_string(), syn::LitStr::value);
            let answer = ok_type(&output)?;
            let mut declared = Vec::new();
            let mut reads = Vec::new();
            let mut passed = Vec::new();
            let mut bodies = 0;
            for (i, arg) in method.sig.inputs.iter_mut().skip(2).enumerate() {
                let FnArg::Typed(arg) = arg else {
                    unreachable!("only the first is a receiver")
                };
                let span = arg.span();
                let Pat::Ident(ident) = &*arg.pat else {
                    return Err(syn::Error::new(
                        span,
                        "name the argument: it names the parameter",
                    ));
                };
                let param = ident.ident.to_string();
                let param = param.trim_start_matches("r#");
                let ty = &arg.ty;
                let local = format_ident!("__arg{i}");
                let (kind, read) = match travels(&mut arg.attrs, span)? {
                    Travels::Query => (quote!(Query), quote!(query)),
                    Travels::Body => {
                        bodies += 1;
                        (quote!(Body), quote!(body))
                    }
                };
                if bodies > 1 {
                    return Err(syn::Error::new(
                        span,
                        "an operation takes at most one #[body]",
                    ));
                }
                declared.push(quote! {
                    (#param, #p::parameter::<#ty>(#p::ParameterKind::#kind))
                });
                reads.push(quote_spanned! {span=> let #local: #ty = call.#read(#param)?; });
                passed.push(local);
            }
            Ok(quote! {
                .operation(
                    #name,
                    #p::Method::#verb,
                    #path,
                    ::std::vec![#(#declared),*],
                    <#answer as #p::Responds>::response(),
                    {
                        fn __call<'a>(
                            this: &'a #self_ty,
                            ctx: &'a #krate::Context,
                            call: &'a #p::Call<'a>,
                        ) -> #p::BoxFuture<'a, #krate::Result<#p::Answer>> {
                            ::std::boxed::Box::pin(async move {
                                #(#reads)*
                                #p::Responds::answer(this.#rust_name(ctx, #(#passed),*).await?)
                            })
                        }
                        __call
                    },
                )
            })
        }
        Mark::Link(relation) => {
            let Some(FnArg::Typed(arg)) = method.sig.inputs.iter().nth(2) else {
                return Err(syn::Error::new(
                    method.sig.inputs.span(),
                    "a link handler takes the linked resource third: `linked: YourType`",
                ));
            };
            let ty = &arg.ty;
            Ok(quote! {
                .link(#relation, {
                    fn __link<'a>(
                        this: &'a #self_ty,
                        ctx: &'a #krate::Context,
                        linked: &'a [u8],
                    ) -> #p::BoxFuture<'a, #krate::Result<()>> {
                        ::std::boxed::Box::pin(async move {
                            let linked: #ty = #p::linked(linked)?;
                            this.#rust_name(ctx, linked).await
                        })
                    }
                    __link
                })
            })
        }
        Mark::Unlink(relation) => Ok(quote! {
            .unlink(#relation, {
                fn __unlink<'a>(
                    this: &'a #self_ty,
                    ctx: &'a #krate::Context,
                    linked_id: &'a str,
                ) -> #p::BoxFuture<'a, #krate::Result<()>> {
                    ::std::boxed::Box::pin(this.#rust_name(ctx, linked_id))
                }
                __unlink
            })
        }),
    }
}

/// `R` of `-> Result<R>` (or `-> aps::Result<R, E>`): what the operation answers.
fn ok_type(output: &ReturnType) -> syn::Result<&Type> {
    let wrong = |span| syn::Error::new(span, "an operation returns `Result<Reply<R>>`");
    let ReturnType::Type(_, ty) = output else {
        return Err(wrong(output.span()));
    };
    let Type::Path(path) = &**ty else {
        return Err(wrong(ty.span()));
    };
    let last = path.path.segments.last().ok_or_else(|| wrong(ty.span()))?;
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return Err(wrong(ty.span()));
    };
    match args.args.first() {
        Some(GenericArgument::Type(ok)) if last.ident == "Result" => Ok(ok),
        _ => Err(wrong(ty.span())),
    }
}
