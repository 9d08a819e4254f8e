//! No code: the trybuild tests of `#[vim_driver]` live in `tests/` (see `README.md`).
