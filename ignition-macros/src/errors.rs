//! An accumulator of spanned errors, so that a macro reports every mistake at once.

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::Span;
use quote::ToTokens;

/// Errors found while parsing and validating one macro input.
///
/// Modelled on serde_derive's `Ctxt`: record errors with [`Errors::push`] and friends,
/// then consume the accumulator with [`Errors::finish`]. Dropping it unchecked is a bug
/// of the macro, and panics.
pub(crate) struct Errors {
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Errors {
    /// An empty accumulator.
    pub(crate) fn new() -> Self {
        Self {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// Records an error.
    pub(crate) fn push(&self, error: syn::Error) {
        self.errors
            .borrow_mut()
            .as_mut()
            .expect("Errors used after finish")
            .push(error);
    }

    /// Records an error spanning the tokens of `tokens` (all of them, from the first to
    /// the last).
    pub(crate) fn spanned(&self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records an error on one span.
    pub(crate) fn at(&self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Whether an error was recorded so far.
    pub(crate) fn is_empty(&self) -> bool {
        self.errors
            .borrow()
            .as_ref()
            .expect("Errors used after finish")
            .is_empty()
    }

    /// Consumes the accumulator: `Ok` if nothing was recorded, otherwise every error,
    /// combined in the order recorded.
    pub(crate) fn finish(self) -> syn::Result<()> {
        let errors = self
            .errors
            .borrow_mut()
            .take()
            .expect("Errors finished twice");
        let mut errors = errors.into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("Errors dropped without finish()");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_without_errors_is_ok() {
        assert!(Errors::new().finish().is_ok());
    }

    #[test]
    fn finish_keeps_every_error_in_order() {
        let errors = Errors::new();
        errors.at(Span::call_site(), "first");
        errors.at(Span::call_site(), "second");
        assert!(!errors.is_empty());
        let messages: Vec<String> = errors
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(messages, ["first", "second"]);
    }

    #[test]
    #[should_panic(expected = "without finish")]
    fn dropping_unchecked_panics() {
        let _ = Errors::new();
    }
}
