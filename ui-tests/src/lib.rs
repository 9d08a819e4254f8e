//! No code: the trybuild tests of `#[vim_driver]`, `#[resource_driver]` and
//! `#[derive(ApiError)]` live in `tests/` (see `README.md`).
