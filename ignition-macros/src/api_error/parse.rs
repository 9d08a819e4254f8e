//! The error type as `#[derive(ApiError)]` sees it: for each variant (or the struct), its
//! status, whether monitoring retries after it, and the fields it adds to the JSON body.
//! Each `#[api_error(...)]` is read here, and every key it must not have is recorded.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, Ident, LitInt, LitStr, Member, Type};

use crate::errors::Errors;

/// The attribute's name.
const ATTR: &str = "api_error";

/// The help line for the keys of a variant's (or a struct's) attribute.
pub(crate) const STATUS_HELP: &str =
    "help: expected `#[api_error(status = N)]` with N from 400 to 599, \
     or `#[api_error(status = N, retry)]` for an error after which monitoring polls again";

/// The help line for the keys of a field's attribute.
const FIELD_HELP: &str = "help: on a field, expected `#[api_error(field)]` (the field's name \
     in the error body) or `#[api_error(field = \"name\")]`";

/// The derive's input.
pub(crate) struct ErrorType<'a> {
    /// The type as written.
    pub(crate) input: &'a DeriveInput,
    /// Its variants, or the struct as its only one.
    pub(crate) variants: Vec<Variant<'a>>,
    /// Whether it is an enum (`Self::Variant` patterns) or a struct (`Self` patterns).
    pub(crate) is_enum: bool,
}

/// A variant of the enum, or the struct.
pub(crate) struct Variant<'a> {
    /// Its name.
    pub(crate) ident: &'a Ident,
    /// `status = N`, with the literal's span.
    pub(crate) status: Option<(u16, Span)>,
    /// `retry`.
    pub(crate) retry: bool,
    /// Its fields marked `#[api_error(field)]`.
    pub(crate) fields: Vec<ExtraField<'a>>,
    /// Whether one of its own `#[api_error(...)]` was reported malformed (then a missing
    /// status is not reported again).
    pub(crate) malformed: bool,
}

/// A field that goes into the JSON error body.
pub(crate) struct ExtraField<'a> {
    /// The field (by name or index).
    pub(crate) member: Member,
    /// Its key in the body; `None` when it has neither a name nor `field = "..."`.
    pub(crate) key: Option<(String, Span)>,
    /// Its type, to locate serialisation errors.
    pub(crate) ty: &'a Type,
    /// The attribute, to locate errors about the field.
    pub(crate) attr_span: Span,
}

/// Reads the input; records an error and returns `None` for a union.
pub(crate) fn parse<'a>(cx: &Errors, input: &'a DeriveInput) -> Option<ErrorType<'a>> {
    match &input.data {
        Data::Union(data) => {
            let (union_token, ident) = (data.union_token, &input.ident);
            cx.spanned(
                quote::quote!(#union_token #ident),
                format_args!(
                    "#[derive(ApiError)]: `{}` is a union; an error type must be an enum or \
                     a struct\nhelp: make it an enum with one variant per error, each with \
                     `#[api_error(status = N)]`",
                    input.ident
                ),
            );
            None
        }
        Data::Enum(data) => {
            for attr in api_error_attrs(&input.attrs) {
                cx.spanned(
                    attr,
                    format_args!(
                        "#[derive(ApiError)]: `#[api_error(...)]` belongs on each variant of \
                         `{}`, not on the enum\n{STATUS_HELP}",
                        input.ident
                    ),
                );
            }
            let variants = data
                .variants
                .iter()
                .map(|variant| {
                    variant_of(cx, &variant.ident, &variant.attrs, &variant.fields, true)
                })
                .collect();
            Some(ErrorType {
                input,
                variants,
                is_enum: true,
            })
        }
        Data::Struct(data) => {
            let variant = variant_of(cx, &input.ident, &input.attrs, &data.fields, false);
            Some(ErrorType {
                input,
                variants: vec![variant],
                is_enum: false,
            })
        }
    }
}

/// The `#[api_error(...)]` attributes among `attrs`.
fn api_error_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|attr| attr.path().is_ident(ATTR))
}

/// Reads a variant's (or the struct's) attribute and its fields' attributes.
fn variant_of<'a>(
    cx: &Errors,
    ident: &'a Ident,
    attrs: &'a [Attribute],
    fields: &'a Fields,
    is_variant: bool,
) -> Variant<'a> {
    let what = if is_variant { "variant" } else { "struct" };
    let mut variant = Variant {
        ident,
        status: None,
        retry: false,
        fields: Vec::new(),
        malformed: false,
    };
    for attr in api_error_attrs(attrs) {
        variant.malformed |= !each_key(cx, attr, STATUS_HELP, |meta| {
            let key = key_name(meta);
            match key.as_str() {
                "status" => {
                    let status = status_value(meta, ident)?;
                    if variant.status.is_some() {
                        return Err(meta.error(format_args!(
                            "#[derive(ApiError)]: `status` of `{ident}` is given twice\n\
                             help: keep one `status = N`"
                        )));
                    }
                    variant.status = Some(status);
                }
                "retry" => {
                    if meta.input.peek(syn::Token![=]) {
                        return Err(meta.error(format_args!(
                            "#[derive(ApiError)]: `retry` of `{ident}` takes no value\n\
                             help: write `#[api_error(status = N, retry)]`"
                        )));
                    }
                    if variant.retry {
                        return Err(meta.error(format_args!(
                            "#[derive(ApiError)]: `retry` of `{ident}` is given twice\n\
                             help: keep one `retry`"
                        )));
                    }
                    variant.retry = true;
                }
                "field" => {
                    return Err(meta.error(format_args!(
                        "#[derive(ApiError)]: `field` belongs on a field of `{ident}`, not on \
                         the {what}\n{FIELD_HELP}"
                    )));
                }
                _ => {
                    return Err(meta.error(format_args!(
                        "#[derive(ApiError)]: unknown key `{key}` on {what} `{ident}`\n\
                         {STATUS_HELP}"
                    )));
                }
            }
            Ok(())
        });
    }
    for (index, field) in fields.iter().enumerate() {
        for attr in api_error_attrs(&field.attrs) {
            let member = match &field.ident {
                Some(name) => Member::Named(name.clone()),
                None => Member::Unnamed(index.into()),
            };
            let mut extra = ExtraField {
                key: field
                    .ident
                    .as_ref()
                    .map(|name| (name.to_string(), name.span())),
                member,
                ty: &field.ty,
                attr_span: attr.span(),
            };
            let mut seen = false;
            each_key(cx, attr, FIELD_HELP, |meta| {
                let key = key_name(meta);
                match key.as_str() {
                    "field" if seen => Err(meta.error(format_args!(
                        "#[derive(ApiError)]: `field` is given twice on a field of `{ident}`\n\
                         help: keep one `field` (or `field = \"name\"`)"
                    ))),
                    "field" => {
                        seen = true;
                        if meta.input.peek(syn::Token![=]) {
                            let name: LitStr = meta.value()?.parse().map_err(|err| {
                                syn::Error::new(
                                    err.span(),
                                    format_args!(
                                        "#[derive(ApiError)]: the name of a field in the \
                                         error body is a string\n{FIELD_HELP}"
                                    ),
                                )
                            })?;
                            extra.key = Some((name.value(), name.span()));
                        }
                        Ok(())
                    }
                    "status" | "retry" => Err(meta.error(format_args!(
                        "#[derive(ApiError)]: `{key}` belongs on the {what} `{ident}`, not on \
                         one of its fields\n{STATUS_HELP}"
                    ))),
                    _ => Err(meta.error(format_args!(
                        "#[derive(ApiError)]: unknown key `{key}` on a field of `{ident}`\n\
                         {FIELD_HELP}"
                    ))),
                }
            });
            if seen {
                variant.fields.push(extra);
            }
        }
    }
    variant
}

/// Runs `f` on each key of `#[api_error(...)]`, recording the first error of the
/// attribute (after which its keys cannot be read reliably); whether there was none.
fn each_key(
    cx: &Errors,
    attr: &Attribute,
    help: &str,
    mut f: impl FnMut(&ParseNestedMeta<'_>) -> syn::Result<()>,
) -> bool {
    if !matches!(attr.meta, syn::Meta::List(_)) {
        cx.spanned(
            attr,
            format_args!("#[derive(ApiError)]: `#[api_error]` needs keys\n{help}"),
        );
        return false;
    }
    match attr.parse_nested_meta(|meta| f(&meta)) {
        Ok(()) => true,
        Err(err) => {
            cx.push(err);
            false
        }
    }
}

/// The key as written (`status`, `a::b`).
fn key_name(meta: &ParseNestedMeta<'_>) -> String {
    let path = &meta.path;
    quote::quote!(#path).to_string().replace(' ', "")
}

/// `= N` after `status`: an integer from 400 to 599.
fn status_value(meta: &ParseNestedMeta<'_>, ident: &Ident) -> syn::Result<(u16, Span)> {
    let expected = |span: Span, found: &str| {
        syn::Error::new(
            span,
            format_args!(
                "#[derive(ApiError)]: the status of `{ident}` must be an HTTP error status, \
                 from 400 to 599, not {found}\nhelp: e.g. `#[api_error(status = 409)]`"
            ),
        )
    };
    if !meta.input.peek(syn::Token![=]) {
        return Err(meta.error(format_args!(
            "#[derive(ApiError)]: `status` of `{ident}` needs a value\n\
             help: e.g. `#[api_error(status = 409)]`"
        )));
    }
    let value: syn::Expr = meta.value()?.parse()?;
    let syn::Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Int(lit),
        ..
    }) = &value
    else {
        let found = quote::quote!(#value).to_string();
        return Err(expected(value.span(), &format!("`{found}`")));
    };
    match status_of(lit) {
        Some(status) => Ok((status, lit.span())),
        None => Err(expected(lit.span(), lit.base10_digits())),
    }
}

/// The literal's value, if it is an error status.
fn status_of(lit: &LitInt) -> Option<u16> {
    let status = lit.base10_parse::<u16>().ok()?;
    (400..=599).contains(&status).then_some(status)
}
