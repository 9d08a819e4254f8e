//! The rules across attributes: every variant has a status, and the fields of one
//! variant's error body have distinct names that do not overwrite the contract's.

use std::collections::HashSet;

use super::parse::{ErrorType, Variant, STATUS_HELP};
use crate::errors::Errors;

/// The keys every error body has, which a field cannot take.
const RESERVED: [&str; 2] = ["localizedMessage", "status"];

/// Checks every rule, recording each broken one in `cx`.
pub(crate) fn validate(cx: &Errors, error_type: &ErrorType<'_>) {
    for variant in &error_type.variants {
        if variant.status.is_none() && !variant.malformed {
            missing_status(cx, error_type, variant);
        }
        check_fields(cx, variant);
    }
}

/// A variant without a status; the error sits on its name.
fn missing_status(cx: &Errors, error_type: &ErrorType<'_>, variant: &Variant<'_>) {
    let (what, place) = if error_type.is_enum {
        ("variant", "above the variant")
    } else {
        ("struct", "above the struct")
    };
    cx.spanned(
        variant.ident,
        format_args!(
            "#[derive(ApiError)]: {what} `{}` has no status\n{STATUS_HELP}, {place}",
            variant.ident
        ),
    );
}

/// Each field has a name in the body, none twice, none of the contract's.
fn check_fields(cx: &Errors, variant: &Variant<'_>) {
    let mut seen = HashSet::new();
    for field in &variant.fields {
        let Some((key, span)) = &field.key else {
            cx.at(
                field.attr_span,
                format_args!(
                    "#[derive(ApiError)]: field {} of `{}` has no name for the error body\n\
                     help: name it: `#[api_error(field = \"name\")]`",
                    member_name(&field.member),
                    variant.ident
                ),
            );
            continue;
        };
        if RESERVED.contains(&key.as_str()) {
            cx.at(
                *span,
                format_args!(
                    "#[derive(ApiError)]: a field of `{}` cannot be named `{key}` in the error \
                     body: the body's own `{key}` is set by Ignition\n\
                     help: rename it: `#[api_error(field = \"other_name\")]`",
                    variant.ident
                ),
            );
        } else if !seen.insert(key.as_str()) {
            cx.at(
                *span,
                format_args!(
                    "#[derive(ApiError)]: two fields of `{}` are named `{key}` in the error \
                     body\nhelp: rename one: `#[api_error(field = \"other_name\")]`",
                    variant.ident
                ),
            );
        }
    }
}

/// `0` for a tuple field, `` `name` `` for a named one.
fn member_name(member: &syn::Member) -> String {
    match member {
        syn::Member::Named(name) => format!("`{name}`"),
        syn::Member::Unnamed(index) => index.index.to_string(),
    }
}
